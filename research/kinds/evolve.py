"""The ``evolve`` kind: neuroevolution with DEAP engines (``+study=cmaes``), as a study of its
own (parent run, checkpoints, resume) or as the trial of a search (``study.inner``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from research.config import EvolveStudy
from research.jobs.evolve import evolve_in_run, run_evolve, setup
from research.kinds.base import InRunResult, Outcome, StepReport
from research.report.evolve_report import (
    PUBLISHED,
    evolve_comparison,
    evolve_sections,
    load_evolve,
    published_section,
)
from research.track import tags as T
from research.track.reader import StoreReader

#: what a search can score an evolution on (``study.inner``)
METRICS = ("fitness", "evals_to_solve", "evals", "solved")


class EvolveKind:
    name = "evolve"
    schema = EvolveStudy
    metrics = METRICS
    on_interrupt = "the last checkpoint is kept; rerun the command to resume"

    def validate(self, cfg, groups: dict[str, Any]) -> None:
        setup(cfg, groups, [], Path("."))

    def run(self, cfg, groups: dict[str, Any], args: list[str], command: str) -> Outcome:
        return Outcome(run_evolve(cfg, groups, args, command))

    def run_in_trial(self, cfg, groups, run, report: StepReport) -> InRunResult:
        metrics = evolve_in_run(cfg, groups, run, report)
        return InRunResult(metrics, int(metrics["evals"]))

    def load_report(self, name, root, store, storage_url):
        return load_evolve(name, StoreReader(store))

    def comparison_sections(self, studies: list) -> list:
        out = [evolve_comparison(studies)]
        if len({d.task for d in studies}) == 1 and studies[0].task in PUBLISHED:
            out.append(published_section(studies))
        return out

    def report_sections(self, data) -> list:
        return evolve_sections(data)

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
