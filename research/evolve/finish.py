"""The end of an evolution study: the champion's weights and config, the Pareto front
(multi-objective), the summary tags the report reads back, and the lines the command prints.

Figures and the HTML report come from layers above the evolution (:class:`Publish`, lent by
the ``evolve`` study kind), so the evolution imports no report code.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from research.evolve.engine import Engine, ParetoArchive
from research.evolve.progress import Progress, run_champion_test, tests_champion
from research.evolve.setup import EvolveSetup
from research.tasks.pole import GENERALISATION_STARTS
from research.track import TrackedRun
from research.track import tags as T
from research.track.store import study_dir


@dataclass
class Publish:
    """What the study kind lends the finishing step: ``pareto_figure(values, title)`` (a
    matplotlib figure of the front) and ``report(name, root, store) -> html path``."""

    pareto_figure: Callable[[np.ndarray, str], Any] | None = None
    report: Callable[[str, Path, Any], Path] | None = None


def summary_tags(p: Progress) -> dict[str, Any]:
    """The parent run's summary, as the report reads it back."""
    return {
        T.EVOLVE_GENERATIONS: p.generation,
        T.EVOLVE_EVALS: p.evals,
        T.EVOLVE_SOLVED: p.solved_at is not None,
        T.EVOLVE_SOLVED_AT: p.solved_at if p.solved_at is not None else "",
        T.EVOLVE_STAGE_EVALS: json.dumps(p.stage_evals),
        T.EVOLVE_CHAMPION_FITNESS: p.champion_fitness,
    }


def finish(
    ev: EvolveSetup, parent: TrackedRun, p: Progress, engine: Engine, publish: Publish
) -> list[str]:
    """Champion weights and config, Pareto front, summary tags; returns the printed lines."""
    tags = summary_tags(p)
    generalisation = None
    with tempfile.TemporaryDirectory() as tmp:
        if p.champion is not None:
            generalisation = _log_champion(ev, parent, p, Path(tmp))
            if generalisation is not None:
                tags[T.EVOLVE_GENERALISATION] = generalisation
        if len(ev.study.objectives) > 1 and isinstance(engine, ParetoArchive):
            _log_front(ev, parent, engine, Path(tmp), publish)
    parent.set_tags(tags)
    return lines(ev, p, generalisation)


def _log_champion(ev: EvolveSetup, parent: TrackedRun, p: Progress, tmp: Path) -> int | None:
    """The champion's weights (``champion.npz``) and summary (``champion.json``), scored once
    more on the goal task; returns its generalisation score if the task has one."""
    theta = ev.decode(p.champion[None, :])
    goal_task = ev.make_task(ev.staging.n_stages - 1)
    final = goal_task.evaluate(ev.net, theta)
    if tests_champion(goal_task):
        run_champion_test(goal_task, ev.net, theta, final, 0)
    generalisation = final.info.get("generalisation")
    ev.net.theta[:] = theta[0]
    path = tmp / "champion.npz"
    np.savez(path, **ev.net.state_dict())
    parent.log_artifact(path)
    parent.log_dict(
        {
            "fitness": p.champion_fitness,
            "genome": p.champion.tolist(),
            "network": type(ev.net).__name__,
            "n_params": int(ev.net.n_params),
            "active": int(np.count_nonzero(theta)),
        },
        "champion.json",
    )
    return None if generalisation is None else int(np.asarray(generalisation)[0])


def _log_front(
    ev: EvolveSetup, parent: TrackedRun, engine: ParetoArchive, tmp: Path, publish: Publish
) -> None:
    """``pareto_front.csv`` (fitness, size) and its figure."""
    _, values = engine.front()
    rows = ["fitness,size"] + [f"{v[0]},{-v[1]}" for v in values]
    csv_path = tmp / "pareto_front.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    parent.log_artifact(csv_path)
    if publish.pareto_figure is not None:
        parent.log_figure(publish.pareto_figure(np.asarray(values), ev.name), "pareto_front.png")


def lines(ev: EvolveSetup, p: Progress, generalisation: int | None) -> list[str]:
    """What the command prints at the end (the report's line is inserted before the last)."""
    out = [
        f"evolution {ev.name!r}: {p.generation} generations, {p.evals} evaluations, "
        f"best fitness {p.champion_fitness:.6g}"
        + (f", solved after {p.solved_at} evaluations" if p.solved_at is not None else ""),
    ]
    if generalisation is not None:
        out.append(f"  generalisation: {generalisation}/{GENERALISATION_STARTS} starts")
    if p.stage_evals:
        out.append(f"  stages left after evaluations {p.stage_evals}")
    out.append(
        f"MLflow experiment {ev.name!r}, parent run {p.parent_run_id}: python -m research.ui"
    )
    out.append(f"checkpoints: {study_dir(ev.root, ev.name) / 'checkpoints'}/")
    return out
