"""A search study as the report reads it back: Optuna's trials (the source of truth for states,
values, parameters, space and objectives) plus the MLflow runs (curves, provenance)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from research.errors import ResearchError
from research.report.caveats import commit_label
from research.search.driver import SIGNATURE_ATTR
from research.track import tags as T
from research.track.reader import StoreReader, StudyRuns


@dataclass
class SearchData:
    """A search study as read back: Optuna's trials plus MLflow's runs."""

    name: str
    study: optuna.Study
    runs: StudyRuns | None
    reader: StoreReader

    @property
    def signature(self) -> dict:
        return json.loads(self.study.user_attrs.get(SIGNATURE_ATTR, "{}") or "{}")

    @property
    def metrics(self) -> list[str]:
        return list(self.signature.get("objectives", {})) or ["value"]

    @property
    def directions(self) -> list[str]:
        return list(self.signature.get("objectives", {}).values()) or ["maximize"]

    @property
    def parent_id(self) -> str:
        return self.study.user_attrs.get(T.PARENT_RUN_ATTR, "?")

    @property
    def tags(self) -> dict[str, str]:
        return self.runs.parent.tags if self.runs else {}

    @property
    def commit(self) -> str:
        return commit_label(self.tags)

    @property
    def trials(self) -> list[FrozenTrial]:
        return self.study.get_trials(deepcopy=False)

    @property
    def complete(self) -> list[FrozenTrial]:
        return [t for t in self.trials if t.state == TrialState.COMPLETE]

    def ranked(self) -> list[FrozenTrial]:
        """COMPLETE trials best first (single objective) or the Pareto front."""
        if len(self.metrics) > 1:
            return sorted(self.study.best_trials, key=lambda t: t.number)
        sign = -1.0 if self.directions[0] == "maximize" else 1.0
        return sorted(self.complete, key=lambda t: (sign * t.values[0], t.number))

    def source(self) -> str:
        return (
            f"Optuna study `{self.name}` ({len(self.trials)} trials), MLflow parent run "
            f"`{self.parent_id}`, git `{self.commit}`"
        )


def load_search(name: str, storage, reader: StoreReader) -> SearchData:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise ResearchError(f"unknown study {name!r}: its storage holds no such study") from None
    if not study.get_trials(deepcopy=False):
        raise ResearchError(f"study {name!r} has no trials yet: run it first")
    runs = reader.study(name, study.user_attrs.get(T.PARENT_RUN_ATTR))
    return SearchData(name, study, runs, reader)
