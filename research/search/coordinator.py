"""A search as one command: check the storage, open (or resume) the study and its parent run,
run the trials here or in worker processes, then finish and say what was found.

The caller (the search kind) has already built and preflighted the spec, so nothing here can
fail on a bad config; it injects what only it knows: the trial body, the workers' entry point,
the figures and the study report.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

import optuna

from research.search.driver import (
    StudyHandle,
    close_orphan_runs,
    open_study,
    progress_counts,
    quiet_optuna,
    work,
)
from research.search.finish import WriteFigures, end_parent, finish
from research.search.progress import TrialBar
from research.search.recovery import recover
from research.search.spec import SearchSpec, pruning_warning, sampler_warning
from research.search.storage import check_storage, open_storage, remember_storage
from research.search.summary import summary_lines
from research.search.trial import TrialBody
from research.search.workers import start_workers, stop_workers, wait_for
from research.track import Tracker
from research.track import tags as T


@dataclass(frozen=True)
class SearchOutcome:
    handle: StudyHandle
    complete: bool
    lines: list[str]


def run_study(
    spec: SearchSpec,
    body: TrialBody,
    command: str,
    args: list[str],
    *,
    worker: Callable[[list[str]], None],
    figures: WriteFigures,
    report: Callable[[StudyHandle], None],
) -> SearchOutcome:
    """Run the study ``spec`` to ``n_trials``; ``args`` are the command line's overrides, with
    which ``worker(args)`` (each worker process's entry point) rebuilds the study."""
    quiet_optuna()
    # the study's own storage only: another one would start a second study over its files
    check_storage(spec.study.storage, spec.root, spec.name)
    storage = open_storage(spec.study.storage, spec.root, spec.name)  # a bad URL fails here
    tracker = Tracker.from_config(spec.tracking)
    finished = _finished_already(spec, body, tracker, storage)
    if finished is not None:  # nothing to run: its runs, figures and report stay as they are
        return finished
    # a pruner that cannot act cannot keep a sampler at random either: one warning, not two
    warning = pruning_warning(spec, body.configure, body.step_name) or sampler_warning(spec)
    if warning is not None:
        print(warning, file=sys.stderr)
    handle = open_study(spec, body, tracker, command, create=True, storage=storage)
    counted = progress_counts(handle.study)["counted"]
    if counted:
        print(
            f"resuming study {spec.name!r} at trial {counted + 1}/{spec.n_trials}", file=sys.stderr
        )
    remember_storage(spec.study.storage, spec.root, spec.name)
    close_orphan_runs(handle)
    _run_trials(handle, args, worker)
    close_orphan_runs(handle)
    counts = progress_counts(handle.study)
    # trials still RUNNING here belong to live workers of other processes or hosts (this
    # process's own dead ones were recovered): they finish the study and end the parent run
    complete = counts["counted"] >= spec.n_trials and counts["waiting"] == 0
    others = counts["running"]
    finish(handle, figures)
    if spec.study.report:
        report(handle)
    if complete and others == 0:
        end_parent(handle, "FINISHED", None)
    elif complete and handle.parent is not None:
        handle.parent.detach()
    else:
        end_parent(handle, "KILLED", "trials are missing; rerun the command to resume")
    lines = summary_lines(handle)
    if others:
        lines.insert(1, f"{others} trial(s) still running in other worker processes")
    return SearchOutcome(handle, complete, lines)


def _finished_already(spec: SearchSpec, body: TrialBody, tracker: Tracker, storage):
    """The outcome of a study that already has its ``n_trials`` and nothing running or
    queued, without reopening its parent run; None if there is work to do (or no study)."""
    try:
        study = optuna.load_study(study_name=spec.name, storage=storage)
    except KeyError:
        return None
    counts = progress_counts(study)
    if counts["counted"] < spec.n_trials or counts["running"] or counts["waiting"]:
        return None
    handle = StudyHandle(spec, body, study, tracker, study.user_attrs.get(T.PARENT_RUN_ATTR, ""))
    lines = summary_lines(handle)
    lines.insert(
        0,
        f"study {spec.name!r} is complete ({counts['counted']}/{spec.n_trials}); raise "
        "study.n_trials to extend it",
    )
    return SearchOutcome(handle, True, lines)


def _run_trials(handle: StudyHandle, args: list[str], worker: Callable[[list[str]], None]):
    """In ``study.workers`` processes, then in this one (what dead workers left); an
    interrupted study ends its parent run KILLED, to be resumed."""
    spec = handle.spec
    bar = TrialBar(handle)
    try:
        if spec.study.workers > 1:
            procs = start_workers(spec.study.workers, worker, args)
            try:
                wait_for(procs, bar.refresh)
            except BaseException:
                stop_workers(procs)
                raise
            recover(handle.study, spec.study.retry_crashed, handle.tracker)
        work(handle, on_trial=bar.refresh)  # in-process, or what dead workers left
    except BaseException as exc:
        bar.close()
        with contextlib.suppress(Exception):  # the store failed too (a full disk): keep the cause
            reason = f"interrupted ({type(exc).__name__}); rerun to resume"
            end_parent(handle, "KILLED", reason)
        raise
    bar.close()
