"""The ``evolve`` kind: neuroevolution with DEAP engines (``+study=cmaes``), as a study of its
own (parent run, checkpoints, resume) or as the trial of a search (``study.inner``).

Glue only: :mod:`research.evolve.setup` builds the study, :mod:`research.evolve.driver` runs
it; this module lends the driver what lives above the evolution (the Pareto figure and the
HTML report) and hands the report the tasks' constants.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from research.evolve import driver
from research.evolve.finish import Publish
from research.evolve.schema import METRICS, EvolveStudy
from research.evolve.setup import setup
from research.kinds.base import InRunResult, Kind, Outcome, StepReport
from research.kinds.models import log_champion
from research.report.build import make_report
from research.report.evolve_figures import pareto_figure
from research.report.evolve_report import (
    PUBLISHED,
    evolve_comparison,
    evolve_sections,
    load_evolve,
    published_section,
)
from research.tasks.pole import GENERALISATION_STARTS
from research.track import resolve_store
from research.track import tags as T
from research.track.reader import StoreReader


def _report(name: str, root: Path, store) -> Path:
    return make_report([name], root, store)[0]


PUBLISH = Publish(pareto_figure=pareto_figure, report=_report, log_model=log_champion)


class EvolveKind(Kind):
    name = "evolve"
    schema = EvolveStudy
    metrics = METRICS
    on_interrupt = "the last checkpoint is kept; rerun the command to resume"

    def validate(self, cfg, groups: dict[str, Any]) -> None:
        setup(cfg, groups, Path("."))

    def run(self, cfg, groups: dict[str, Any], args: list[str], command: str) -> Outcome:
        tracking = groups["tracking"]
        store = resolve_store(tracking.kind, tracking.uri, tracking.root)
        ev = setup(cfg, groups, store.root)
        return Outcome(driver.run_study(ev, tracking, command, PUBLISH))

    def run_in_trial(self, cfg, groups, run, report: StepReport) -> InRunResult:
        """Evolve in the trial's run; each generation is logged and offered to the pruner.
        Final metrics: the champion's ``fitness``, ``evals``, ``solved``, ``evals_to_solve``
        and ``time/fit``, logged at the last evaluation count."""
        started = time.perf_counter()
        metrics = driver.run_in_trial(setup(cfg, groups, Path(".")), run, report)
        metrics["time/fit"] = time.perf_counter() - started
        run.log_metrics(metrics, step=int(metrics["evals"]))
        return InRunResult(metrics, int(metrics["evals"]))

    def load_report(self, name, root, store, storage_url):
        return load_evolve(name, StoreReader(store))

    def comparison_sections(self, studies: list) -> list:
        out = [evolve_comparison(studies)]
        if len({d.task for d in studies}) == 1 and studies[0].task in PUBLISHED:
            out.append(published_section(studies))
        return out

    def report_sections(self, data) -> list:
        return evolve_sections(data, generalisation_starts=GENERALISATION_STARTS)

    def summary_row(self, d) -> list[str]:
        fitness = float(d.tags.get(T.EVOLVE_CHAMPION_FITNESS, "nan"))
        return [
            d.name,
            f"neuroevolution ({d.tags.get(T.ALGORITHM)})",
            f"{d.tags.get(T.EVOLVE_EVALS)} evaluations",
            f"fitness {fitness:.4g}",
            "-",
        ]


KIND = EvolveKind()
