"""One trial: sampled overrides -> validated config -> the inner kind's run -> objective value(s),
logged as a child run of the study's parent run.

What a trial *does* is not known here: the search kind injects a :class:`TrialBody` (compose
and validate a config; run it inside the trial's run, as the ``train`` kind or, for
``study.inner``, the ``evolve`` kind does). The search only asks, prunes and tells.

A trial runs with the root seed, like ``python -m research.run <its overrides>`` would: the
``command`` tag of its run reproduces it exactly, and trials differ only by their settings.
"""

from __future__ import annotations

import functools
import math
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from research import threads
from research.errors import ResearchError
from research.search.spec import SearchSpec
from research.track import TrackedRun, Tracker, is_disk_full
from research.track import tags as T
from research.track.params import flatten, to_yaml
from research.track.provenance import command_line, provenance_tags

STATE_NAMES = {
    TrialState.COMPLETE: "COMPLETE",
    TrialState.PRUNED: "PRUNED",
    TrialState.FAIL: "FAIL",
}

#: Optuna user attributes of a trial (besides ``tags.RUN_ATTR``), read back by the reports
METRICS_ATTR = "metrics"  # the run's final metrics
FAIL_REASON_ATTR = "fail_reason"
RETRIED_ATTR = "retried"  # failed by a crash and queued again: the retry counts instead
WORKER_ATTR = "worker"  # host:pid:start of the process running it

#: ``report(step, metrics)`` -> True to stop now (the pruner said so)
StepReport = Callable[[int, Mapping[str, float]], bool]


@dataclass(frozen=True)
class TrialBody:
    """What a trial is, given by the search kind: the search itself knows no config module and
    no other study kind.

    ``configure(overrides)`` composes and validates a trial's config: ``(cfg, groups)``, or a
    :class:`~research.errors.ResearchError`. ``validate(cfg, groups)`` builds what it
    describes once (the preflight of every probe). ``run(cfg, groups, run, report)`` runs it
    inside the trial's MLflow ``run`` and returns an ``InRunResult`` (``metrics``, ``step``,
    ``failed``, ``tags``; see :mod:`research.kinds.base`), calling ``report`` every step.
    ``step_metrics`` maps an objective to the metric reported at every step (what a pruner
    watches); ``step_name`` is what a step is ("epoch", "generation").
    """

    configure: Callable[[Sequence[str]], tuple[Any, dict[str, Any]]]
    validate: Callable[[Any, dict[str, Any]], None]
    run: Callable[[Any, dict[str, Any], TrackedRun, StepReport], Any]
    step_metrics: Mapping[str, str]
    step_name: str = "epoch"


@dataclass(frozen=True)
class TrialOutcome:
    number: int
    state: TrialState
    values: list[float] | None
    reason: str
    run_id: str
    metrics: dict[str, float] = field(default_factory=dict)


class Pruning:
    """The ``report`` a trial's run calls every step: when the study has a pruner and the
    objective is reported per step, it goes to Optuna, which may answer "stop"."""

    def __init__(self, trial: optuna.Trial, metric: str | None, step_name: str) -> None:
        self.trial, self.metric, self.step_name = trial, metric, step_name
        self.pruned_at: int | None = None
        self.reason = ""

    def __call__(self, step: int, metrics: Mapping[str, float]) -> bool:
        value = float(metrics.get(self.metric, math.nan)) if self.metric else math.nan
        if not math.isfinite(value):
            return False  # not reported, or diverged (the run ends as such)
        self.trial.report(value, step)
        if self.trial.should_prune():
            self.pruned_at = step
            self.reason = f"pruned at {self.step_name} {step} ({self.metric} {value:.4g})"
            return True
        return False


def prune_metric(spec: SearchSpec, body: TrialBody) -> str | None:
    """The per-step metric a pruner watches: the objective's, single-objective studies only."""
    if spec.multi_objective:
        return None
    return body.step_metrics.get(spec.metrics[0])


def worker_id() -> str:
    """``host:pid:start`` — enough to tell, on this host, whether a trial's process is alive."""
    return f"{socket.gethostname()}:{os.getpid()}:{process_start(os.getpid())}"


def process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (``/proc``), or "" elsewhere; a
    recycled pid has another start time."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def run_trial(
    spec: SearchSpec, body: TrialBody, trial: optuna.Trial, tracker: Tracker, parent_run_id: str
) -> TrialOutcome:
    """Run trial ``trial`` in a child run; exceptions in the config or the run become a FAIL
    outcome (the study goes on). Ctrl-C and SIGTERM propagate, with the run KILLED."""
    overrides = spec.trial_overrides(trial.params)
    name = f"trial-{trial.number:04d}"
    tags = {
        **_provenance(spec.root),  # as the parent run has them: git, versions
        **threads.tags(),  # this process's BLAS threads (a worker's own), library, CPU
        T.TRIAL_NUMBER: trial.number,
        T.TRIAL_STATE: "RUNNING",
        T.TRIAL_OVERRIDES: " ".join(spec.sampled_overrides(trial.params)),
        T.STUDY_NAME: spec.name,
        T.STUDY_KIND: "search",
        T.WORKER: worker_id(),
        T.COMMAND: command_line("research.run", spec.retrain_overrides(trial.params)),
    }
    with tracker.run(spec.name, name, parent=parent_run_id, tags=tags) as run:
        trial.set_user_attr(T.RUN_ATTR, run.run_id)
        trial.set_user_attr(WORKER_ATTR, tags[T.WORKER])
        try:
            outcome = _run(spec, body, trial, run, overrides)
        except BaseException as exc:  # Ctrl-C, SIGTERM, a full disk: not left RUNNING
            run.set_tags(_interrupted(exc), buffered=True)  # sent as the run ends KILLED
            raise
        state = {T.TRIAL_STATE: STATE_NAMES[outcome.state], T.TRIAL_REASON: outcome.reason}
        run.set_tags(state, buffered=True)
        if outcome.state == TrialState.FAIL:
            run.end("FAILED", outcome.reason)
    return outcome


@functools.cache
def _provenance(root: Path) -> dict[str, str]:
    """The parent run's provenance tags but the command (a trial's is its own), computed once
    per process: ``git status`` on a large checkout is not free."""
    tags = provenance_tags(root, "")
    tags.pop(T.COMMAND, None)
    return tags


def _interrupted(exc: BaseException) -> dict[str, str]:
    """The tags of a trial whose process was stopped mid-trial: the driver records it FAIL in
    Optuna ("interrupted") and queues its retry (:func:`research.search.driver.work`)."""
    reason = f"interrupted ({type(exc).__name__})"
    return {T.TRIAL_STATE: "FAIL", T.TRIAL_REASON: reason, T.TRIAL_CRASHED: "true"}


def _run(
    spec: SearchSpec, body: TrialBody, trial: optuna.Trial, run: TrackedRun, overrides
) -> TrialOutcome:
    def ended(state: TrialState, reason: str, metrics=None, values=None) -> TrialOutcome:
        return TrialOutcome(trial.number, state, values, reason, run.run_id, metrics or {})

    pruning = Pruning(trial, prune_metric(spec, body), body.step_name)
    try:
        cfg, groups = body.configure(overrides)
        run.log_params(flatten(cfg), buffered=True)  # written with the first metrics
        run.log_text(to_yaml(cfg), "config.yaml")
        result = body.run(cfg, groups, run, pruning)
    except ResearchError as exc:
        return ended(TrialState.FAIL, f"invalid config: {exc}")
    except Exception as exc:  # noqa: BLE001 - one bad config must not end the study...
        if is_disk_full(exc):  # ...but a full disk is not the config's fault: stop, retry later
            raise
        return ended(TrialState.FAIL, f"{type(exc).__name__}: {exc}".splitlines()[0])
    metrics = result.metrics
    run.set_tags(result.tags, buffered=True)
    if result.failed:
        return ended(TrialState.FAIL, result.failed, metrics)
    if pruning.pruned_at is not None:
        return ended(TrialState.PRUNED, pruning.reason, metrics)
    values = [float(metrics.get(m, math.nan)) for m in spec.metrics]
    if not all(math.isfinite(v) for v in values):
        missing = [m for m, v in zip(spec.metrics, values) if not math.isfinite(v)]
        return ended(TrialState.FAIL, f"objective(s) {missing} not measured or not finite")
    return ended(TrialState.COMPLETE, result.reason, metrics, values)
