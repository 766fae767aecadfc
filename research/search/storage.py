"""Optuna storage: a journal file under ``studies/<name>/`` by default, or an RDB URL.

The journal file is safe for several processes on one machine (Optuna's file lock). An RDB
URL (PostgreSQL for several machines) gets a heartbeat, so trials of a dead worker are
failed by Optuna itself after the grace period.
"""

from __future__ import annotations

import fcntl
import hashlib
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import optuna
from optuna.storages import JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

from research.errors import ConfigError

RDB_SCHEMES = ("postgresql", "postgresql+psycopg2", "postgresql+psycopg", "mysql", "sqlite")
HEARTBEAT_SECONDS = 20
GRACE_SECONDS = 60
CREATE_ATTEMPTS = 5


def study_dir(root: Path, name: str) -> Path:
    """``<root>/studies/<name>``; ``name`` is validated not to contain path characters."""
    path = (root / "studies" / name).resolve()
    if path.parent != (root / "studies").resolve():
        raise ConfigError(f"study.name={name!r} is not allowed: it would leave studies/")
    return path


def describe(url: str | None, root: Path, name: str) -> str:
    """What the storage is, for tags and messages (never includes a password)."""
    if not url:
        return f"journal:{study_dir(root, name) / 'journal.log'}"
    scheme, _, rest = url.partition("://")
    host = rest.rsplit("@", 1)[-1]
    return f"{scheme}://{host}"


def open_storage(url: str | None, root: Path, name: str) -> optuna.storages.BaseStorage:
    """The journal file of study ``name`` when ``url`` is empty, else the RDB at ``url``."""
    if not url:
        directory = study_dir(root, name)
        directory.mkdir(parents=True, exist_ok=True)
        path = str(directory / "journal.log")
        return JournalStorage(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))
    scheme = url.split("://", 1)[0]
    if "://" not in url or scheme not in RDB_SCHEMES:
        raise ConfigError(
            f"study.storage={url!r} is not allowed: give an RDB URL "
            "(postgresql://user:password@host:5432/db, or sqlite:////abs/path.db for one "
            "process), or leave it empty for the journal file under studies/"
        )
    if scheme == "sqlite":
        return RDBStorage(url)
    for attempt in range(CREATE_ATTEMPTS):
        try:
            with warnings.catch_warnings():  # heartbeat is "experimental" in Optuna since 2.9
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return RDBStorage(
                    url,
                    heartbeat_interval=HEARTBEAT_SECONDS,
                    grace_period=GRACE_SECONDS,
                    engine_kwargs={"pool_pre_ping": True},
                )
        except Exception as exc:  # noqa: BLE001 - driver/connection errors become one line
            text = str(exc)
            # workers on several hosts creating Optuna's tables in a fresh database at once:
            # one wins, the others see its half-made tables; the next attempt finds them made
            if attempt < CREATE_ATTEMPTS - 1 and (
                "duplicate key" in text or "already exists" in text
            ):
                time.sleep(0.5 * (attempt + 1))
                continue
            first = (text.strip().splitlines() or [type(exc).__name__])[0]
            raise ConfigError(
                f"study.storage: cannot connect to {describe(url, root, name)}: {first}"
            ) from None
    raise AssertionError("unreachable")


@contextmanager
def study_lock(storage: optuna.storages.BaseStorage, root: Path, name: str) -> Iterator[None]:
    """Serialise "count the trials, then ask for one" across workers, so that ``n_trials`` is
    never overshot. A PostgreSQL storage takes an advisory lock (workers on many machines);
    otherwise a file lock in ``studies/<name>/`` (processes on this machine)."""
    backend = getattr(storage, "_backend", storage)  # a loaded study wraps it in a cache
    engine = getattr(backend, "engine", None)
    if engine is not None and engine.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({key})")
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")
        return
    directory = study_dir(root, name)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "study.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
