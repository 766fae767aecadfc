"""The one interface every study kind implements.

``python -m research.run`` validates the composed config, looks the kind up by name in
:data:`research.registry.KINDS` (``train`` when there is no ``study`` group, else
``study.kind``) and calls :meth:`StudyKind.run`. A search whose trials are studies of another
kind (``study.inner``: each trial an evolution) calls that kind's
:meth:`StudyKind.run_in_trial` through the same registry. ``python -m research.report`` asks
each kind whether a name is one of its studies (:meth:`StudyKind.load_report`) and lets it
write its sections.

A new kind is one module holding an object with these members plus one YAML in
``conf/study/`` whose ``kind:`` names it (see README, "Extending").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from research.errors import ConfigError

#: a trial's per-step report to the search: ``report(step, metrics)`` answers True to stop
#: (the pruner said so). Steps are epochs for training, generations for evolutions.
StepReport = Callable[[int, Mapping[str, float]], bool]


@dataclass
class Outcome:
    """What a study run as a command ends with: the lines to print and the exit status."""

    lines: list[str]
    exit_status: int = 0


@dataclass
class InRunResult:
    """A study run inside an existing (trial) run: its final metrics, the step they were
    logged at, why it ended as it did (``reason``), why it failed (diverged), if it did, and
    tags for the run."""

    metrics: dict[str, float]
    step: int
    failed: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


@runtime_checkable
class StudyKind(Protocol):
    """A kind of study: its schema, its checks, how it runs, and its report."""

    #: the name ``study.kind`` gives (``train`` has no study group)
    name: str
    #: the dataclass of its ``study:`` group (fields, defaults, ranges), or None
    schema: type | None
    #: what a search can score a trial of this kind on, the first being the default
    metrics: Sequence[str]
    #: printed after "interrupted: " / "terminated: " when Ctrl-C or SIGTERM ends the command
    on_interrupt: str

    def validate(self, cfg: Any, groups: dict[str, Any]) -> None:
        """Build what the config describes once, so that every bad value is a one-line
        ConfigError before any run or study exists."""

    def run(self, cfg: Any, groups: dict[str, Any], args: list[str], command: str) -> Outcome:
        """Run as a study of its own (``args``: the command line's overrides)."""

    def run_in_trial(
        self, cfg: Any, groups: dict[str, Any], run: Any, report: StepReport
    ) -> InRunResult:
        """Run inside the existing MLflow run ``run`` (a search's trial), reporting each step;
        no study folder, no checkpoints (a crashed trial is retried from scratch)."""

    def load_report(self, name: str, root: Any, store: Any, storage_url: str | None) -> Any:
        """This kind's report data for the study ``name``, or None if ``name`` is not one of
        its studies."""

    def comparison_sections(self, studies: list[Any]) -> list[Any]:
        """Sections comparing several studies of this kind (called with two or more)."""

    def report_sections(self, data: Any) -> list[Any]:
        """The report's sections for one study of this kind."""

    def summary_row(self, data: Any) -> list[str]:
        """One row (study, method, budget, best, test/acc) for a mixed comparison table."""


class Kind:
    """Defaults for the optional parts of :class:`StudyKind`: no extra checks, no report, not
    usable as a search's trial. A kind subclasses it and writes what it has."""

    schema: type | None = None
    metrics: Sequence[str] = ()
    on_interrupt = "the runs are marked KILLED in MLflow"

    def validate(self, cfg: Any, groups: dict[str, Any]) -> None:
        """Nothing beyond the groups' schemas."""

    def run_in_trial(self, cfg: Any, groups: dict[str, Any], run: Any, report: StepReport):
        raise ConfigError(f"a {self.name} study cannot be the trial of a search")

    def load_report(self, name: str, root: Any, store: Any, storage_url: str | None) -> Any:
        return None  # no study report: the MLflow UI shows the runs

    def comparison_sections(self, studies: list[Any]) -> list[Any]:
        return []

    def report_sections(self, data: Any) -> list[Any]:
        return []

    def summary_row(self, data: Any) -> list[str]:
        return []
