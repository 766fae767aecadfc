"""The ``search`` kind: a hyperparameter search driven by Optuna (``+study=bayes``)."""

from __future__ import annotations

from typing import Any

from research.config import SearchStudy
from research.errors import ConfigError
from research.jobs.search import run_search
from research.kinds.base import InRunResult, Outcome, StepReport
from research.report.search_report import comparison_section, search_sections
from research.report.search_report import load_search as _load_search
from research.search.storage import open_storage, study_dir
from research.track.reader import StoreReader


class SearchKind:
    name = "search"
    schema = SearchStudy
    metrics = ("fitness",)
    on_interrupt = "finished trials are kept; rerun the command to resume"

    def validate(self, cfg, groups: dict[str, Any]) -> None:
        """The space is parsed and probed by :meth:`run` before the study exists."""

    def run(self, cfg, groups: dict[str, Any], args: list[str], command: str) -> Outcome:
        outcome = run_search(cfg, groups, args, command)
        return Outcome(outcome.lines, 0 if outcome.complete else 1)

    def run_in_trial(self, cfg, groups, run, report: StepReport) -> InRunResult:
        raise ConfigError("a search cannot be the trial of another search")

    def load_report(self, name, root, store, storage_url):
        if not (storage_url or (study_dir(root, name) / "journal.log").is_file()):
            return None
        return _load_search(name, open_storage(storage_url, root, name), StoreReader(store))

    def comparison_sections(self, studies: list) -> list:
        return [comparison_section(studies)]

    def report_sections(self, data) -> list:
        from research.report.build import base_config

        return search_sections(data, base_config(data))

    def summary_row(self, d) -> list[str]:
        best = d.ranked()[0] if d.complete else None
        metrics = best.user_attrs.get("metrics", {}) if best else {}
        return [
            d.name,
            "Bayesian search",
            f"{len(d.trials)} trials",
            f"{d.metrics[0]} {best.values[0]:.4g}" if best else "-",
            f"{metrics.get('test/acc', float('nan')):.4g}",
        ]


KIND = SearchKind()
