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
from research.track.links import artifact_location, link_line
from research.track.models import LoggedNetwork
from research.track.store import resolve_store, study_dir


@dataclass
class Publish:
    """What the study kind lends the finishing step: ``pareto_figure(values, title)`` (a
    matplotlib figure of the front), ``report(name, root, store) -> html path`` and
    ``log_model(run, model group, net, name) -> LoggedNetwork | None`` (the champion as a
    registered MLflow model)."""

    pareto_figure: Callable[[np.ndarray, str], Any] | None = None
    report: Callable[[str, Path, Any], Path] | None = None
    log_model: Callable[[TrackedRun, Any, Any, str], LoggedNetwork | None] | None = None


@dataclass
class Champion:
    """Where the champion went: ``champion.npz``'s location, its MLflow model (if logged)
    and its generalisation score (if the task has one)."""

    weights: str = ""
    model: LoggedNetwork | None = None
    generalisation: int | None = None


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
    champion = Champion()
    with tempfile.TemporaryDirectory() as tmp:
        if p.champion is not None:
            champion = _log_champion(ev, parent, p, Path(tmp), publish)
            if champion.generalisation is not None:
                tags[T.EVOLVE_GENERALISATION] = champion.generalisation
            if champion.model is not None:
                tags.update(champion.model.tags())
        if len(ev.study.objectives) > 1 and isinstance(engine, ParetoArchive):
            _log_front(ev, parent, engine, Path(tmp), publish)
    tags[T.NOTE] = _note(parent, p, champion)  # in the same write as the summary
    parent.set_tags(tags)
    return lines(ev, p, champion, parent)


def recorded(parent: TrackedRun) -> Champion | None:
    """The champion a finished evolution already logged, read back from its parent run's
    tags (a rerun of a complete study logs, registers and reports nothing again); None when
    this parent never finished."""
    tags = parent.client.get_run(parent.run_id).data.tags
    if T.EVOLVE_CHAMPION_FITNESS not in tags:
        return None
    model = None
    if T.MODEL_URI in tags:
        name, _, version = tags.get(T.MODEL_REGISTERED, "").rpartition("/")
        model = LoggedNetwork(tags[T.MODEL_URI], name or None, version or None)
    score = tags.get(T.EVOLVE_GENERALISATION)
    weights = artifact_location(parent, "champion.npz")
    return Champion(weights, model, None if score is None else int(score))


def _note(parent: TrackedRun, p: Progress, champion: Champion) -> str:
    """The parent run's description, completed with the outcome."""
    head = parent.client.get_run(parent.run_id).data.tags.get(T.NOTE, "")
    head = head.split("\n\nOutcome:", 1)[0]
    outcome = (
        f"{p.generation} generations, {p.evals} evaluations, champion fitness "
        f"{p.champion_fitness:.6g}"
        + (f", solved after {p.solved_at} evaluations" if p.solved_at is not None else "")
    )
    if champion.model is not None:
        model = champion.model
        outcome += f"; champion as an MLflow model: `{model.registered_uri or model.uri}`"
    return f"{head}\n\nOutcome: {outcome}".lstrip()


def _log_champion(
    ev: EvolveSetup, parent: TrackedRun, p: Progress, tmp: Path, publish: Publish
) -> Champion:
    """The champion's weights (``champion.npz``), summary (``champion.json``) and MLflow
    model, scored once more on the goal task (its generalisation score, if the task has
    one)."""
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
    model = None
    if publish.log_model is not None and _tracking(ev).get("log_model", True):
        model = publish.log_model(parent, ev.model_cfg, ev.net, ev.name)
    score = None if generalisation is None else int(np.asarray(generalisation)[0])
    return Champion(artifact_location(parent, "champion.npz"), model, score)


def _tracking(ev: EvolveSetup):
    return (ev.cfg.get("tracking") if ev.cfg is not None else None) or {}


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


def lines(ev: EvolveSetup, p: Progress, champion: Champion, parent: TrackedRun) -> list[str]:
    """What the command prints at the end (the report's line is inserted before the last)."""
    generalisation = champion.generalisation
    out = [
        f"evolution {ev.name!r}: {p.generation} generations, {p.evals} evaluations, "
        f"best fitness {p.champion_fitness:.6g}"
        + (f", solved after {p.solved_at} evaluations" if p.solved_at is not None else ""),
    ]
    if generalisation is not None:
        out.append(f"  generalisation: {generalisation}/{GENERALISATION_STARTS} starts")
    if p.stage_evals:
        out.append(f"  stages left after evaluations {p.stage_evals}")
    if champion.weights:
        out.append(f"champion: {champion.weights}")
    if champion.model is not None:
        uri = champion.model.registered_uri or champion.model.uri
        out.append(f"  as an MLflow model: mlflow.pyfunc.load_model({uri!r})")
    tracking = _tracking(ev)
    store = resolve_store(
        tracking.get("kind", "local"), tracking.get("uri"), tracking.get("root") or str(ev.root)
    )
    out.append(link_line(store, parent.experiment_id, parent.run_id))
    out.append(f"checkpoints: {study_dir(ev.root, ev.name) / 'checkpoints'}/")
    return out
