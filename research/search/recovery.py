"""Counting trials, and recovering the ones a dead process left RUNNING.

A trial counts towards ``n_trials`` when it finished (COMPLETE, PRUNED, or FAIL on its own
merits), is running in a live process, or waits in the queue. A trial whose process died or
was interrupted is marked FAIL with the reason (in Optuna and in its MLflow run) and, within
``study.retry_crashed`` attempts, queued again with the same parameters; then it no longer
counts, and its retry does.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled
from optuna.trial import FrozenTrial, TrialState

from research.search.trial import FAIL_REASON_ATTR, RETRIED_ATTR, WORKER_ATTR, process_start
from research.track import Tracker
from research.track import tags as T

COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)


def counts(trial: FrozenTrial) -> bool:
    if trial.state in COUNTED:
        return True
    return trial.state == TrialState.FAIL and not trial.user_attrs.get(RETRIED_ATTR, False)


def n_counted(trials: Iterable[FrozenTrial]) -> int:
    return sum(1 for t in trials if counts(t))


def n_finished(trials: Iterable[FrozenTrial]) -> int:
    """Trials that ended and count (the progress a user sees)."""
    return sum(1 for t in trials if counts(t) and t.state.is_finished())


def outcome_counts(trials: Iterable[FrozenTrial]) -> dict[str, int]:
    """Trials by how they ended, as the progress bar and the summary both say it: ``failed``
    are the failures that count; ``retried`` crashed and were queued again (their retry
    counts instead)."""
    out = {"complete": 0, "pruned": 0, "failed": 0, "retried": 0}
    for t in trials:
        if t.state == TrialState.COMPLETE:
            out["complete"] += 1
        elif t.state == TrialState.PRUNED:
            out["pruned"] += 1
        elif t.state == TrialState.FAIL:
            out["failed" if counts(t) else "retried"] += 1
    return out


def _dead_on_this_host(worker: str) -> bool:
    host, _, rest = worker.partition(":")
    pid, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return process_start(int(pid)) != start


def stale_trials(study: optuna.Study) -> list[tuple[FrozenTrial, str]]:
    """RUNNING trials whose process is gone: dead on this host (pid and start time), or
    without a heartbeat for the grace period on an RDB storage (other hosts)."""
    storage = study._storage
    heartbeat_stale: set[int] = set()
    if isinstance(storage, BaseHeartbeat) and is_heartbeat_enabled(storage):
        heartbeat_stale = set(storage._get_stale_trial_ids(study._study_id))
    found = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get(WORKER_ATTR)
        if worker is None:
            # the worker attribute is set under the study lock right after ``ask``; a RUNNING
            # trial seen without it under that lock lost its process in between
            found.append((trial, "its worker died before the trial started"))
        elif _dead_on_this_host(worker):
            found.append((trial, f"its worker {worker} died"))
        elif trial._trial_id in heartbeat_stale:
            found.append((trial, f"its worker {worker} stopped sending heartbeats"))
    return found


def fail_crashed(
    study: optuna.Study, trial: FrozenTrial, reason: str, retries: int, tracker: Tracker | None
) -> bool:
    """Mark ``trial`` FAIL because of ``reason`` (not its config); queue a retry with the same
    parameters when attempts remain. Returns whether a retry was queued."""
    storage = study._storage
    attempt = int(trial.user_attrs.get("attempt", 1))
    retry = attempt <= retries
    try:
        storage.set_trial_user_attr(trial._trial_id, "crashed", reason)
        storage.set_trial_user_attr(trial._trial_id, RETRIED_ATTR, retry)
        storage.set_trial_user_attr(trial._trial_id, FAIL_REASON_ATTR, reason)
        storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    except UpdateFinishedTrialError:
        return False  # another process got there first
    if retry:
        study.enqueue_trial(
            dict(trial.params), user_attrs={"attempt": attempt + 1, "retry_of": trial.number}
        )
    run_id = trial.user_attrs.get(T.RUN_ATTR)
    if tracker is not None and run_id:
        tracker.close_run(
            run_id,
            "FAILED",
            reason + ("; retried as a new trial" if retry else ""),
            tags={T.TRIAL_STATE: "FAIL", T.TRIAL_CRASHED: "true"},
        )
    return retry


def recover(study: optuna.Study, retries: int, tracker: Tracker | None) -> int:
    """Fail (and retry) every stale trial; returns how many there were. Call under the lock."""
    stale = stale_trials(study)
    for trial, reason in stale:
        fail_crashed(study, trial, reason, retries, tracker)
    return len(stale)
