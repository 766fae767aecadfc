"""One trial: sampled overrides -> composed config -> ``fit`` -> objective value(s), logged as a
child run of the study's parent run.

A trial trains with the root seed, like ``python -m research.run <its overrides>`` would: the
``command`` tag of its run reproduces it exactly, and trials differ only by their settings.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import optuna
from optuna.trial import TrialState

from research import threads
from research.config import compose, flatten, to_yaml, validate
from research.data import load_dataset
from research.errors import ResearchError
from research.nn.build import build_model
from research.search.spec import SearchSpec
from research.track import RunReporter, TrackedRun, Tracker, is_disk_full
from research.track.provenance import command_line
from research.train import fit_model, stream

STATE_NAMES = {
    TrialState.COMPLETE: "COMPLETE",
    TrialState.PRUNED: "PRUNED",
    TrialState.FAIL: "FAIL",
}
RUN_STATUS = {
    TrialState.COMPLETE: "FINISHED",
    TrialState.PRUNED: "FINISHED",
    TrialState.FAIL: "FAILED",
}


@dataclass(frozen=True)
class TrialOutcome:
    number: int
    state: TrialState
    values: list[float] | None
    reason: str
    run_id: str
    metrics: dict[str, float] = field(default_factory=dict)


class PruningReporter:
    """Logs each epoch to the trial's run and, when the study has a pruner and a per-epoch
    objective, reports it to Optuna and answers "stop" when the pruner says so."""

    def __init__(self, run: TrackedRun, trial: optuna.Trial, metric: str | None) -> None:
        self.log = RunReporter(run)
        self.trial = trial
        self.metric = metric
        self.pruned_at: int | None = None
        self.reason = ""

    def epoch(self, step: int, metrics: Mapping[str, float]) -> bool:
        self.log.epoch(step, metrics)
        if self.metric is None or step == 0 or self.metric not in metrics:
            return False
        value = float(metrics[self.metric])
        if not math.isfinite(value):
            return False  # fit ends the run as diverged
        self.trial.report(value, step)
        if self.trial.should_prune():
            self.pruned_at = step
            self.reason = f"pruned at epoch {step} ({self.metric} {value:.4g})"
            return True
        return False


class GenerationPruner:
    """Reports an inner evolution's best fitness per generation to Optuna's pruner."""

    def __init__(self, trial: optuna.Trial, metric: str | None) -> None:
        self.trial, self.metric = trial, metric
        self.pruned_at: int | None = None
        self.reason = ""

    def __call__(self, generation: int, metrics: Mapping[str, float]) -> bool:
        if self.metric is None or not math.isfinite(metrics.get(self.metric, math.nan)):
            return False
        self.trial.report(float(metrics[self.metric]), generation)
        if self.trial.should_prune():
            self.pruned_at = generation
            self.reason = f"pruned at generation {generation}"
            return True
        return False


def _evolve(spec: SearchSpec, trial: optuna.Trial, run: TrackedRun, cfg, groups) -> TrialOutcome:
    """A trial that is an evolution (``study.inner``): scored on its final fitness or on the
    evaluations it needed to solve the task."""
    from research.registry import KINDS

    pruner = GenerationPruner(trial, spec.prune_metric)
    started = time.perf_counter()
    metrics = KINDS.get("evolve").run_in_trial(cfg, groups, run, pruner).metrics
    metrics["time/fit"] = time.perf_counter() - started
    run.log_metrics(metrics, step=int(metrics["evals"]))
    if pruner.pruned_at is not None:
        return TrialOutcome(
            trial.number, TrialState.PRUNED, None, pruner.reason, run.run_id, metrics
        )
    values = [float(metrics[m]) for m in spec.metrics]
    if not all(math.isfinite(v) for v in values):
        return TrialOutcome(
            trial.number, TrialState.FAIL, None, "objective not finite", run.run_id, metrics
        )
    return TrialOutcome(trial.number, TrialState.COMPLETE, values, "", run.run_id, metrics)


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
    spec: SearchSpec, trial: optuna.Trial, tracker: Tracker, parent_run_id: str
) -> TrialOutcome:
    """Train trial ``trial`` in a child run; exceptions in the config or the training become a
    FAIL outcome (the study goes on). Ctrl-C and SIGTERM propagate, with the run KILLED."""
    overrides = spec.trial_overrides(trial.params)
    name = f"trial-{trial.number:04d}"
    tags = {
        "trial.number": trial.number,
        "trial.state": "RUNNING",
        "trial.overrides": " ".join(overrides[len(spec.base_overrides) :]),
        "study.name": spec.name,
        "study.kind": "search",
        "worker": worker_id(),
        "command": command_line("research.run", overrides),
        **threads.tags(),  # this process's BLAS threads (a worker's own), library, CPU
    }
    with tracker.run(spec.name, name, parent=parent_run_id, tags=tags) as run:
        trial.set_user_attr("mlflow_run_id", run.run_id)
        trial.set_user_attr("worker", tags["worker"])
        outcome = _train(spec, trial, run, overrides)
        state = {"trial.state": STATE_NAMES[outcome.state], "trial.reason": outcome.reason}
        run.set_tags(state, buffered=True)
        if outcome.state == TrialState.FAIL:
            run.end("FAILED", outcome.reason)
    return TrialOutcome(
        trial.number, outcome.state, outcome.values, outcome.reason, run.run_id, outcome.metrics
    )


def _train(spec: SearchSpec, trial: optuna.Trial, run: TrackedRun, overrides) -> TrialOutcome:
    def failed(reason: str) -> TrialOutcome:
        return TrialOutcome(trial.number, TrialState.FAIL, None, reason, run.run_id)

    try:
        cfg = compose(overrides)
        groups = validate(cfg)
        run.log_params(flatten(cfg), buffered=True)  # written with the first metrics
        run.log_text(to_yaml(cfg), "config.yaml")
        if spec.study.inner:
            return _evolve(spec, trial, run, cfg, groups)
        data_cfg = asdict(groups["data"])
        data = load_dataset(
            data_cfg.pop("name"), seed=cfg.seed, dtype=groups["model"].dtype, **data_cfg
        )
        model = build_model(groups["model"], data, stream(cfg.seed, "init"))
        reporter = PruningReporter(run, trial, spec.prune_metric)
        started = time.perf_counter()
        result = fit_model(model, groups["regime"], data, reporter, seed=cfg.seed)
    except ResearchError as exc:
        return failed(f"invalid config: {exc}")
    except Exception as exc:  # noqa: BLE001 - one bad config must not end the study...
        if is_disk_full(exc):  # ...but a full disk is not the config's fault: stop, retry later
            raise
        return failed(f"{type(exc).__name__}: {exc}".splitlines()[0])
    metrics = {
        **result.metrics,
        "n_params": float(model.n_params),
        "time/fit": time.perf_counter() - started,
    }
    run.log_metrics(metrics, step=result.epochs)
    run.set_tags({"fit.status": result.status, "fit.epochs": result.epochs}, buffered=True)
    if result.diverged:
        return TrialOutcome(trial.number, TrialState.FAIL, None, result.reason, run.run_id, metrics)
    if reporter.pruned_at is not None:
        return TrialOutcome(
            trial.number, TrialState.PRUNED, None, reporter.reason, run.run_id, metrics
        )
    values = [float(metrics[m]) for m in spec.metrics if m in metrics]
    if len(values) != len(spec.metrics) or not all(math.isfinite(v) for v in values):
        missing = [m for m in spec.metrics if not math.isfinite(metrics.get(m, math.nan))]
        return failed(f"objective(s) {missing} not measured or not finite")
    return TrialOutcome(
        trial.number, TrialState.COMPLETE, values, result.reason, run.run_id, metrics
    )
