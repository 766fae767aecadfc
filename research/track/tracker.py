"""MLflow runs that are buffered, and that never stay RUNNING when their process exits."""

from __future__ import annotations

import atexit
import functools
import logging
import os
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from research.errors import ResearchError
from research.track import tags as T
from research.track.lifecycle import Terminated, shield, shielded
from research.track.notes import EXPERIMENT_KIND, experiment_note, run_note
from research.track.redact import as_text as _as_text
from research.track.redact import redact, redact_value
from research.track.redact import redacted_file as _redacted_file
from research.track.store import Store, create_local_db, resolve_store
from research.track.system import start_monitor

# MLflow's tqdm bars on artifact transfers would interleave with our own progress lines
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

log = logging.getLogger(__name__)

MAX_PARAMS_PER_BATCH = 100  # MLflow's limit for params or tags in one log_batch
MAX_ENTITIES_PER_BATCH = 1000  # metrics + params + tags in one log_batch


_active_runs: weakref.WeakSet[TrackedRun] = weakref.WeakSet()

#: study kinds whose parent run gets system metrics (a trial or training run does not: cost)
STUDY_PARENTS = ("search", "evolve")


def _now_ms() -> int:
    return int(time.time() * 1000)


LOCK_RETRIES = 12


def _store_write(fn):
    """A store write: shielded from SIGTERM/Ctrl-C mid-transaction, and retried with backoff
    when SQLite reports ``database is locked`` (several worker processes share one file)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        delay = 0.05
        for attempt in range(LOCK_RETRIES):
            try:
                return fn(*args, **kwargs)
            except MlflowException as exc:
                if "locked" not in str(exc) or attempt == LOCK_RETRIES - 1:
                    raise
                time.sleep(delay)
                delay = min(2.0, delay * 2)
        raise AssertionError("unreachable")

    return shield(wrapper)


class TrackedRun:
    """One MLflow run. Metrics are buffered and sent with ``log_batch`` every ``flush_every``
    values or ``flush_seconds`` seconds (one SQLite write costs ~15 ms, a batch of 100 ~5 ms),
    and on :meth:`end`."""

    def __init__(
        self,
        client: MlflowClient,
        run_id: str,
        experiment_id: str,
        *,
        flush_every: int = 200,
        flush_seconds: float = 10.0,
        owned: bool = True,
    ) -> None:
        self.client = client
        self.owned = owned
        self.run_id = run_id
        self.experiment_id = experiment_id
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self.active = True
        self.status: str = RunStatus.to_string(RunStatus.RUNNING)
        self._buffer: list[Metric] = []
        self._tags: list[RunTag] = []
        self._params: list[Param] = []
        self._last_flush = time.monotonic()
        self._logged: dict[str, int] = {}  # key -> last step already in the store (resumes)
        self.monitor = None  # MLflow's SystemMetricsMonitor on a study's parent run
        if owned:
            _active_runs.add(self)

    # -- values ----------------------------------------------------------------------------
    @_store_write
    def log_params(self, params: Mapping[str, Any], *, buffered: bool = False) -> None:
        """Log ``params`` now, or with ``buffered`` in the next flush (one write per trial)."""
        self._log("params", [Param(k, _as_text(v)) for k, v in params.items()], buffered)

    @_store_write
    def set_tags(self, tags: Mapping[str, Any], *, buffered: bool = False) -> None:
        """Set ``tags`` now, or with ``buffered`` together with the next metrics flush (one
        store write at the end of a trial instead of several)."""
        self._log("tags", [RunTag(k, _as_text(v)) for k, v in tags.items()], buffered)

    def _log(self, kind: str, items: list, buffered: bool) -> None:
        """``items`` (``kind`` = params or tags) in batches of MLflow's limit, or kept for the
        next flush."""
        if buffered:
            (self._params if kind == "params" else self._tags).extend(items)
            return
        for i in range(0, len(items), MAX_PARAMS_PER_BATCH):
            self.client.log_batch(self.run_id, **{kind: items[i : i + MAX_PARAMS_PER_BATCH]})

    def skip_logged_steps(self) -> None:
        """For a deterministic resume: from now on, drop a metric at a step this run already
        has for that key. A process killed after a flush but before its checkpoint would
        otherwise log those steps twice (the rerun recomputes them, identically)."""
        keys = self.client.get_run(self.run_id).data.metrics
        for key in keys:
            steps = [m.step for m in self.client.get_metric_history(self.run_id, key)]
            self._logged[key] = max(steps, default=-1)

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """Buffer ``metrics`` at ``step``; NaN and inf are kept (MLflow stores them)."""
        ts, step = _now_ms(), int(step)
        self._buffer.extend(
            Metric(k, float(v), ts, step)
            for k, v in metrics.items()
            if step > self._logged.get(k, -1)
        )
        if (
            len(self._buffer) >= self.flush_every
            or time.monotonic() - self._last_flush >= self.flush_seconds
        ):
            self.flush()

    @_store_write
    def flush(self) -> None:
        """Send buffered metrics and tags, in as few ``log_batch`` calls as MLflow allows.

        (MLflow's asynchronous logging was measured slower here: its thread competes with
        training for the GIL and ``set_terminated`` waits for it anyway.)
        """
        buffer, self._buffer = self._buffer, []
        tags, self._tags = self._tags, []
        params, self._params = self._params, []
        i = j = 0
        while i < len(buffer) or j < max(len(tags), len(params)):
            p_chunk = params[j : j + MAX_PARAMS_PER_BATCH]
            t_chunk = tags[j : j + MAX_PARAMS_PER_BATCH]
            n_metrics = MAX_ENTITIES_PER_BATCH - len(p_chunk) - len(t_chunk)
            self.client.log_batch(
                self.run_id, metrics=buffer[i : i + n_metrics], params=p_chunk, tags=t_chunk
            )
            i += n_metrics
            j += MAX_PARAMS_PER_BATCH
        self._last_flush = time.monotonic()

    # -- artifacts -------------------------------------------------------------------------
    @_store_write
    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        """Log file ``path``; a text file (report, table, config) that holds a credential is
        logged as a redacted copy of the same name."""
        with _redacted_file(Path(path)) as safe:
            self.client.log_artifact(self.run_id, str(safe), artifact_path)

    @_store_write
    def log_text(self, text: str, artifact_file: str) -> None:
        self.client.log_text(self.run_id, redact(text), artifact_file)

    @_store_write
    def log_dict(self, data: dict, artifact_file: str) -> None:
        self.client.log_dict(self.run_id, redact_value(data), artifact_file)

    @_store_write
    def log_figure(self, figure, artifact_file: str) -> None:
        self.client.log_figure(self.run_id, figure, artifact_file)

    def _stop_monitor(self) -> None:
        monitor, self.monitor = self.monitor, None
        if monitor is not None:
            monitor.finish()

    def detach(self) -> None:
        """Flush and let go without ending the run (another process will end it)."""
        self._stop_monitor()
        if self.active:
            self.flush()
        self.active = False
        _active_runs.discard(self)

    # -- end -------------------------------------------------------------------------------
    @_store_write
    def end(self, status: str = "FINISHED", reason: str | None = None) -> None:
        """Flush and mark the run ``FINISHED``, ``FAILED`` or ``KILLED`` (with ``reason``)."""
        if not self.active:
            return
        self._stop_monitor()  # its last sample goes in before the run ends
        self.active = False
        if not self.owned:  # another process ends it; just send what is buffered
            self.flush()
            return
        try:
            if reason:
                self._tags.append(RunTag(T.REASON, _as_text(reason)))
            self.flush()
        finally:
            self.client.set_terminated(self.run_id, status)
            self.status = status
            _active_runs.discard(self)


def _status_for(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, (KeyboardInterrupt, Terminated)):
        return "KILLED", str(exc) or type(exc).__name__
    message = str(exc).strip().splitlines()
    return "FAILED", f"{type(exc).__name__}: {message[0] if message else ''}".rstrip(": ")


class Tracker:
    """Opens the MLflow store once; creates experiments and (parent/child) runs."""

    def __init__(
        self,
        store: Store,
        *,
        flush_every: int = 200,
        flush_seconds: float = 10.0,
        system_metrics: bool = False,
    ):
        self.store = store
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self.system_metrics = system_metrics  # on the parent runs of studies
        if store.artifact_root is not None:
            store.artifact_root.mkdir(parents=True, exist_ok=True)
            create_local_db(store.local_db)
        if redact(store.tracking_uri) != store.tracking_uri:
            # MLflow prints "View run <name> at: <tracking URI>/#/..." when a run ends on a
            # server: with the password in it. The end of a command says where the run is.
            os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
        self.client = MlflowClient(tracking_uri=store.tracking_uri)
        self._experiments: dict[str, str] = {}
        self._undescribed: set[str] = set()  # experiments created here, without a note yet

    @classmethod
    def from_config(cls, tracking) -> Tracker:
        store = resolve_store(tracking.kind, tracking.uri, tracking.root)
        return cls(
            store,
            flush_every=tracking.flush_every,
            flush_seconds=tracking.flush_seconds,
            system_metrics=tracking.system_metrics,
        )

    def experiment_id(self, name: str) -> str:
        """The id of experiment ``name``, created (with an absolute artifact location for the
        local store) if it does not exist yet. Safe when several processes race to create it."""
        if name not in self._experiments:
            self._experiments[name] = self._experiment_id(name)
        return self._experiments[name]

    @_store_write
    def _experiment_id(self, name: str) -> str:
        try:
            exp = self.client.get_experiment_by_name(name)
            if exp is None:
                location = None
                if self.store.artifact_root is not None:
                    location = (self.store.artifact_root / name).as_uri()
                try:
                    created = self.client.create_experiment(
                        name, artifact_location=location, tags=EXPERIMENT_KIND
                    )
                    self._undescribed.add(name)
                    return created
                except MlflowException:
                    exp = self.client.get_experiment_by_name(name)
                    if exp is None:
                        raise
        except MlflowException as exc:
            raise ResearchError(
                redact(f"cannot use MLflow store {self.store.tracking_uri}: {_status_for(exc)[1]}")
            ) from None
        if exp.lifecycle_stage == "deleted":
            raise ResearchError(
                f"experiment {name!r} is deleted in MLflow; restore it with "
                f"`mlflow experiments restore --experiment-id {exp.experiment_id}` or choose "
                "another name"
            )
        if T.EXPERIMENT_KIND not in exp.tags:  # made before experiments had a kind: once
            for key, value in EXPERIMENT_KIND.items():
                self.client.set_experiment_tag(exp.experiment_id, key, value)
        return exp.experiment_id

    @_store_write
    def start_run(
        self,
        experiment: str,
        name: str,
        *,
        parent: TrackedRun | str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> TrackedRun:
        experiment_id = self.experiment_id(experiment)
        all_tags = {k: _as_text(v) for k, v in (tags or {}).items()}
        if parent is not None:
            all_tags[T.PARENT] = parent if isinstance(parent, str) else parent.run_id
        note = run_note(name, all_tags)
        if note and T.NOTE not in all_tags:  # the description, in the same write
            all_tags[T.NOTE] = _as_text(note)
        if experiment in self._undescribed and parent is None:
            self._undescribed.discard(experiment)
            text = _as_text(experiment_note(experiment, all_tags))
            self.client.set_experiment_tag(experiment_id, T.NOTE, text)
        run = self.client.create_run(experiment_id, tags=all_tags, run_name=name)
        tracked = TrackedRun(
            self.client,
            run.info.run_id,
            experiment_id,
            flush_every=self.flush_every,
            flush_seconds=self.flush_seconds,
        )
        self._monitor(tracked, all_tags, resume=False)
        return tracked

    def _monitor(self, run: TrackedRun, tags: Mapping[str, str], *, resume: bool) -> None:
        """MLflow's system metrics (CPU, memory, disk, network) on a study's parent run, when
        ``tracking.system_metrics``: one sample every 10 s, from a thread."""
        parent_of_study = T.PARENT not in tags and tags.get(T.STUDY_KIND) in STUDY_PARENTS
        if self.system_metrics and parent_of_study:
            run.monitor = start_monitor(run.run_id, self.store.tracking_uri, resume=resume)

    def attach(self, run_id: str, *, owned: bool = False) -> TrackedRun:
        """A handle on an existing run, e.g. a study's parent run in a worker process. Unless
        ``owned``, ending the handle only flushes: the run's owner sets its final status."""
        run = self.client.get_run(run_id)
        if owned and run.info.status != "RUNNING":
            self._write(self.client.update_run, run_id, status="RUNNING")
        tracked = TrackedRun(
            self.client,
            run_id,
            run.info.experiment_id,
            flush_every=self.flush_every,
            flush_seconds=self.flush_seconds,
            owned=owned,
        )
        if owned:  # a resumed study's parent run: its system metrics go on
            self._monitor(tracked, run.data.tags, resume=True)
        return tracked

    def find_run(self, run_id: str | None):
        """The MLflow run ``run_id`` if it exists and is not deleted, else None."""
        if not run_id:
            return None
        try:
            run = self.client.get_run(run_id)
        except MlflowException:
            return None
        return None if run.info.lifecycle_stage == "deleted" else run

    def close_run(self, run_id: str, status: str, reason: str, tags=None) -> bool:
        """Mark someone else's RUNNING run ``status`` with ``reason`` (a dead worker's trial).
        Returns False when the run is missing or already ended."""
        run = self.find_run(run_id)
        if run is None or run.info.status != "RUNNING":
            return False
        items = [RunTag(T.REASON, _as_text(reason))]
        items += [RunTag(k, _as_text(v)) for k, v in (tags or {}).items()]
        self._write(self.client.log_batch, run_id, tags=items)
        self._write(self.client.set_terminated, run_id, status)
        return True

    def study_runs(self, experiment: str) -> list:
        """Every run of ``experiment`` that is not deleted, oldest first ([] if there is no
        such experiment, or it is deleted)."""
        exp = self.client.get_experiment_by_name(experiment)
        if exp is None or exp.lifecycle_stage == "deleted":
            return []
        runs = self.client.search_runs([exp.experiment_id], max_results=50000)
        return sorted(runs, key=lambda r: (r.info.start_time or 0, r.info.run_id))

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        """Tag someone else's run (a trial on the Pareto front)."""
        self._write(self.client.set_tag, run_id, key, _as_text(value))

    def delete_tag(self, run_id: str, key: str) -> None:
        """Drop ``key`` from run ``run_id``; not interrupted half-way by Ctrl-C."""
        with shielded():
            self._write(self.client.delete_tag, run_id, key)

    def delete_run(self, run_id: str) -> None:
        """Move run ``run_id`` to MLflow's trash (``mlflow runs restore`` brings it back)."""
        with shielded():
            self._write(self.client.delete_run, run_id)

    def has_artifact(self, run_id: str, path: str) -> bool:
        """Whether run ``run_id`` has the top-level artifact ``path``."""
        return any(a.path == path for a in self.client.list_artifacts(run_id))

    def download_artifact(self, run_id: str, path: str, folder: Path) -> Path:
        """Run ``run_id``'s artifact ``path``, copied into ``folder``; returns the copy."""
        return Path(self.client.download_artifacts(run_id, path, str(folder)))

    @staticmethod
    @_store_write
    def _write(fn, *args, **kwargs):
        return fn(*args, **kwargs)

    @contextmanager
    def run(self, experiment: str, name: str, **kwargs) -> Iterator[TrackedRun]:
        """A run that ends FINISHED, or FAILED/KILLED with the reason if the block raises."""
        tracked = self.start_run(experiment, name, **kwargs)
        try:
            yield tracked
        except BaseException as exc:
            status, reason = _status_for(exc)
            try:
                tracked.end(status, reason)
            except Exception:  # the store itself failed; keep the original error
                log.warning(
                    "could not mark run %s %s (the store failed too)", tracked.run_id, status
                )
            raise
        tracked.end("FINISHED")


@atexit.register
def _end_active_runs() -> None:
    """A process that exits with runs still open marks them KILLED instead of RUNNING."""
    for run in list(_active_runs):
        try:
            run.end("KILLED", "process exited before the run ended")
        except Exception:  # noqa: BLE001 - best effort at exit
            log.warning("could not close run %s at exit", run.run_id)
