"""An evolution study's runs and folder: one process at a time, no orphan runs.

One process at a time: the study holds ``studies/<name>/evolve.lock`` (an exclusive,
non-blocking ``flock``, released by the kernel even when the holder is SIGKILLed) for the whole
command; a second command on the same study says who holds it, in one line, and exits before
touching MLflow or the checkpoints. Under that lock no other process can own a RUNNING run of
the study, so a rerun cleans up what a dead one left: without a checkpoint it reuses the
study's unfinished parent run of the same config (found by its tags) instead of making a second
one, it reuses the one run of each stage (duplicates are ended KILLED and deleted), and ends
every other RUNNING run of the study KILLED with the reason.

Test hook (fault injection): ``RESEARCH_FAULT=evolve:<point>[:N]`` SIGKILLs this process the
N-th time (default: the first) it passes ``<point>``, one of ``after_parent`` (parent and
stage run exist, no generation run yet), ``after_stage_change`` (the next stage's run exists,
that generation is not checkpointed), ``before_checkpoint`` (the generation's metrics are
flushed, its checkpoint not written) and ``after_checkpoint``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from research.errors import ConfigError, ResearchError
from research.evolve.progress import Progress
from research.evolve.setup import EvolveSetup
from research.track import TrackedRun, Tracker
from research.track import tags as T
from research.track.params import flatten, to_yaml
from research.track.provenance import provenance_tags

LOCK = "evolve.lock"
FAULT_ENV = "RESEARCH_FAULT"
FAULT_POINTS = ("after_parent", "after_stage_change", "before_checkpoint", "after_checkpoint")
DIED = "left RUNNING by a process that died"


# ------------------------------------------------------------------------- the study lock
@contextmanager
def study_lock(folder: Path, name: str) -> Iterator[None]:
    """Hold ``<folder>/evolve.lock`` (exclusive, non-blocking ``flock``) for the block, with
    this process's pid, host and start time written in it; a held lock is one line naming the
    holder. The kernel releases it when the holder dies, even by SIGKILL."""
    path = folder / LOCK
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ResearchError(f"cannot open the study lock {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ResearchError(_held_by(path, name)) from None
        since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": since}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _held_by(path: Path, name: str) -> str:
    try:
        holder = json.loads(path.read_text())
        who = f"in process {int(holder['pid'])} on host {holder['host']} since {holder['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        who = "in another process (it is starting)"
    return (
        f"evolution study {name!r} is running {who}; wait for it or stop it "
        f"(lock: studies/{name}/{LOCK})"
    )


# ------------------------------------------------------------------------ the fault hook
def check_fault_hook() -> None:
    """A malformed ``$RESEARCH_FAULT`` for evolve is a one-line error before anything runs."""
    spec = os.environ.get(FAULT_ENV, "")
    kind, _, rest = spec.partition(":")
    point, _, nth = rest.partition(":")
    if kind == "evolve" and (point not in FAULT_POINTS or not (nth or "1").isdigit()):
        raise ConfigError(
            f"{FAULT_ENV}={spec!r} is not allowed: evolve:<point>[:N] with a point among "
            + ", ".join(FAULT_POINTS)
        )


_FAULT_HITS: dict[str, int] = {}


def fault(point: str) -> None:
    """The test hook: SIGKILL this process at ``point`` if ``$RESEARCH_FAULT`` says so."""
    spec = os.environ.get(FAULT_ENV)
    if not spec or not spec.startswith("evolve:"):
        return
    _, name, *nth = spec.split(":")
    if name != point:
        return
    _FAULT_HITS[point] = _FAULT_HITS.get(point, 0) + 1
    if _FAULT_HITS[point] == int(nth[0] if nth else 1):
        sys.stdout.flush()
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


# ---------------------------------------------------------------------------- the runs
def signature_hash(ev: EvolveSetup) -> str:
    return hashlib.sha256(ev.signature.encode()).hexdigest()[:24]


def create_parent(ev: EvolveSetup, tracker: Tracker, command: str) -> TrackedRun:
    tags = {
        T.STUDY_KIND: "evolve",
        T.STUDY_NAME: ev.name,
        T.ALGORITHM: ev.study.algorithm,
        T.ENCODING: ev.study.encoding,
        T.TASK: ev.task_name,
        T.SEED: ev.seed,
        T.EVOLVE_SIGNATURE: signature_hash(ev),
        **provenance_tags(ev.root, command),
    }
    parent = tracker.start_run(ev.name, ev.name, tags=tags)
    parent.log_params(parent_params(ev))
    parent.log_text(to_yaml(ev.cfg), "config.yaml")
    return parent


def parent_params(ev: EvolveSetup) -> dict:
    """The study's, task's and model's settings, the seed and the genome length."""
    params = {
        k: v for k, v in flatten(ev.cfg).items() if k.split(".")[0] in ("study", "task", "model")
    }
    params["seed"] = ev.seed
    params["n_genes"] = ev.encoding.n_genes
    return params


def study_runs(ev: EvolveSetup, tracker: Tracker) -> tuple[list, list]:
    """(parent runs of this evolution study, their child runs), oldest first; deleted runs
    are not listed."""
    runs = tracker.study_runs(ev.name)
    parents = [
        r
        for r in runs
        if T.PARENT not in r.data.tags
        and r.data.tags.get(T.STUDY_KIND) == "evolve"
        and r.data.tags.get(T.STUDY_NAME) == ev.name
    ]
    ids = {r.info.run_id for r in parents}
    children = [r for r in runs if r.data.tags.get(T.PARENT) in ids]
    return parents, children


def reattach(tracker: Tracker, run_id: str, run=None) -> TrackedRun:
    """Own the existing run ``run_id`` again (RUNNING until this process ends it), dropping
    the steps it already has and the reason a dead process's clean-up left on it."""
    run = run if run is not None else tracker.find_run(run_id)
    handle = tracker.attach(run_id, owned=True)
    handle.skip_logged_steps()
    if run is not None and T.REASON in run.data.tags:
        tracker.delete_tag(run_id, T.REASON)
    return handle


def _discard(tracker: Tracker, run_id: str, reason: str) -> None:
    """A duplicate left by a dead process: ended KILLED with ``reason``, then deleted (MLflow
    keeps it in its trash: ``mlflow runs restore``)."""
    tracker.close_run(run_id, "KILLED", reason)
    tracker.delete_run(run_id)


def reuse_parent(ev: EvolveSetup, tracker: Tracker) -> TrackedRun | None:
    """The unfinished parent run of this study and config that a process killed before its
    first checkpoint left, reattached (with any params it had no time to log); None if there
    is none."""
    parents, _ = study_runs(ev, tracker)
    found = [r for r in parents if _is_ours(ev, r)]
    if not found:
        return None
    keep = found[0]
    parent = reattach(tracker, keep.info.run_id, keep)
    missing = {k: v for k, v in parent_params(ev).items() if k not in keep.data.params}
    if missing:
        parent.log_params(missing)
    if not tracker.has_artifact(keep.info.run_id, "config.yaml"):
        parent.log_text(to_yaml(ev.cfg), "config.yaml")
    parent.set_tags({T.RESUMED: "true"})
    return parent


def _is_ours(ev: EvolveSetup, run) -> bool:
    """An unfinished parent run of this very evolution (same study, same config)."""
    return run.info.status != "FINISHED" and run.data.tags.get(T.EVOLVE_SIGNATURE) == (
        signature_hash(ev)
    )


def close_orphans(ev: EvolveSetup, tracker: Tracker, p: Progress) -> None:
    """Under the study lock no live process owns a run of this study but this one. Another
    unfinished parent run of the same config is a duplicate: ended KILLED and deleted, with
    its children; so is a second run of a stage. Every other RUNNING run of the study (a dead
    process's) is ended KILLED with the reason; a stage run is reattached when the evolution
    reaches its stage again."""
    parents, children = study_runs(ev, tracker)
    ours = p.parent_run_id
    for run in parents:
        if run.info.run_id == ours:
            continue
        if _is_ours(ev, run):
            reason = f"a duplicate parent run of study {ev.name!r}; it continues in {ours}"
            for child in children:
                if child.data.tags.get(T.PARENT) == run.info.run_id:
                    _discard(tracker, child.info.run_id, reason)
            _discard(tracker, run.info.run_id, reason)
        elif run.info.status == "RUNNING":
            reason = f"{DIED}; study {ev.name!r} is in {ours}"
            tracker.close_run(run.info.run_id, "KILLED", reason)
    _close_stage_orphans(tracker, p, children)


def _close_stage_orphans(tracker: Tracker, p: Progress, children: list) -> None:
    seen: set[str] = set()
    ours = p.parent_run_id
    mine = [r for r in children if r.data.tags.get(T.PARENT) == ours]
    mine.sort(key=lambda r: r.info.run_id != p.stage_run_id)  # the checkpoint's, else oldest
    for run in mine:
        stage = run.data.tags.get(T.STAGE, "")
        if stage in seen:
            _discard(tracker, run.info.run_id, f"a duplicate run of stage {stage}")
            continue
        seen.add(stage)
        if run.info.status == "RUNNING":
            reason = f"{DIED}; reused when its stage is reached"
            tracker.close_run(run.info.run_id, "KILLED", reason)
    for run in children:
        if run.data.tags.get(T.PARENT) != ours and run.info.status == "RUNNING":
            tracker.close_run(run.info.run_id, "KILLED", DIED)


def stage_run(ev: EvolveSetup, tracker: Tracker, p: Progress) -> TrackedRun | None:
    """The child run of the current stage (staging only): one run per stage, created the first
    time the stage is reached and reattached afterwards (a resume, a backtrack, a rerun after a
    process died between a stage change and its checkpoint). Duplicates are discarded."""
    if ev.staging.n_stages == 1:
        return None
    stage = str(p.stage.stage)
    _, children = study_runs(ev, tracker)
    mine = [
        r
        for r in children
        if r.data.tags.get(T.PARENT) == p.parent_run_id and r.data.tags.get(T.STAGE) == stage
    ]
    if mine:
        mine.sort(key=lambda r: r.info.run_id != p.stage_run_id)  # the checkpoint's, else oldest
        keep, *extra = mine
        for run in extra:
            _discard(tracker, run.info.run_id, f"a duplicate run of stage {stage}")
        p.stage_run_id = keep.info.run_id
        return reattach(tracker, keep.info.run_id, keep)
    params = ev.staging.task_params(ev.task_params, p.stage.stage)
    run = tracker.start_run(
        ev.name,
        f"stage-{p.stage.stage}",
        parent=p.parent_run_id,
        tags={T.STAGE: p.stage.stage, T.STAGE_TASK: json.dumps(params, default=str)},
    )
    p.stage_run_id = run.run_id
    return run
