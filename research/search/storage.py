"""Optuna storage: a journal file under ``studies/<name>/`` by default, or an RDB URL.

The journal file is safe for several processes on one machine (Optuna's file lock). An RDB
URL (PostgreSQL for several machines) gets a heartbeat, so trials of a dead worker are
failed by Optuna itself after the grace period.

A journal whose last record was cut short (a crash mid-write, a full disk) is repaired before
Optuna reads it: the torn bytes go to ``journal.log.torn-<UTC time>`` beside it, the journal
ends at its last complete record, and one line says so. Damage elsewhere in the journal is
one line naming the line, never a traceback.

``studies/<name>/storage.json`` remembers which storage a study was created in (redacted: no
user, password or query), so a rerun with another ``study.storage`` is refused instead of
starting a second study over the first one's files; ``research.search.migrate`` moves it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import optuna
from optuna.storages import JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
from optuna.storages.journal._storage import JournalOperation
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from research.errors import ConfigError, ResearchError
from research.track.store import study_dir

RDB_SCHEMES = ("postgresql", "postgresql+psycopg2", "postgresql+psycopg", "mysql", "sqlite")
HEARTBEAT_SECONDS = 20
GRACE_SECONDS = 60
CREATE_ATTEMPTS = 5
JOURNAL = "journal.log"
RECORD = "storage.json"
TORN_SUFFIX = ".torn-"


class JournalError(ResearchError):
    """The journal file cannot be read as Optuna records (damaged, or from another program)."""


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
        path = directory / JOURNAL
        repair_torn_tail(path, root)
        return _journal_storage(path, root)
    refuse_in_memory(url)
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
    with _file_lock(directory / "study.lock"):
        yield


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ------------------------------------------------------------------------- the journal
def _shown(path: Path, root: Path) -> str:
    """``studies/<name>/journal.log``: the path as the user knows it (relative to the root)."""
    try:
        return str(path.relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _is_record(line: bytes) -> bool:
    """A complete journal line: newline-terminated and one JSON object."""
    if not line.endswith(b"\n"):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        return False


def _last_line(path: Path) -> bytes:
    """The file's last line with its newline, if any (read backwards, in chunks)."""
    with open(path, "rb") as f:
        end = f.seek(0, os.SEEK_END)
        if end == 0:
            return b""
        pos, tail = end, b""
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            f.seek(pos)
            tail = f.read(step) + tail
            cut = tail.rfind(b"\n", 0, len(tail) - 1)
            if cut >= 0:
                return tail[cut + 1 :]
        return tail


def _good_end(data: bytes) -> int:
    """Where the journal's last complete, parseable record ends (0 when there is none)."""
    end = data.rfind(b"\n") + 1  # an unterminated fragment is torn
    while end > 0:
        start = data.rfind(b"\n", 0, end - 1) + 1
        if _is_record(data[start:end]):
            return end
        end = start
    return 0


def repair_torn_tail(path: Path, root: Path) -> None:
    """Move a torn last record of the journal at ``path`` (a write cut short) to a side file
    ``journal.log.torn-<UTC time>`` and end the journal at its last complete record, saying
    so in one line on stderr. Optuna ignores such a tail when reading, but appends the next
    record right after it, which would merge the two into a line no reader can parse.

    The check is one read of the last line; a repair runs under the study lock and Optuna's
    journal lock (no other worker appending or repairing meanwhile) and checks again there."""
    last = _last_line(path) if path.exists() else b""
    if last == b"" or _is_record(last):
        return
    with _file_lock(path.parent / "study.lock"), _journal_lock(path):
        data = path.read_bytes()
        end = _good_end(data)
        if end == len(data):
            return  # another process repaired it, or a write in progress has ended
        if end == 0 and b"\n" in data:
            raise JournalError(
                f"{_shown(path, root)} holds no Optuna journal record (line 1 is not one): "
                "move it away to start the study afresh, or set another study.name"
            )
        torn = data[end:]
        side = _write_side_file(path, torn)
        with open(path, "r+b") as f:
            f.truncate(end)
            f.flush()
            os.fsync(f.fileno())
    print(
        f"note: {_shown(path, root)} ended in a torn record ({len(torn)} bytes, a write cut "
        f"short); moved them to {_shown(side, root)}; the study continues from its last "
        "complete record",
        file=sys.stderr,
    )


@contextmanager
def _journal_lock(path: Path) -> Iterator[None]:
    """Optuna's own lock of the journal, the one it takes around every append."""
    lock = JournalFileOpenLock(str(path))
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _write_side_file(path: Path, data: bytes) -> Path:
    """``data`` in a new file ``<path>.torn-<UTC time>[-k]`` (never overwriting one), synced
    before the journal is cut: a crash in between leaves at worst a second copy."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    for k in range(1000):
        side = path.with_name(f"{path.name}{TORN_SUFFIX}{stamp}{f'-{k}' if k else ''}")
        try:
            fd = os.open(side, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            side.unlink(missing_ok=True)  # the journal is untouched: nothing is lost
            raise
        return side
    raise AssertionError("unreachable")


def _journal_storage(path: Path, root: Path) -> JournalStorage:
    """Optuna's journal storage on ``path``; a journal Optuna cannot replay is one line."""
    try:
        backend = JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path)))
        return JournalStorage(backend)
    except (ValueError, KeyError, TypeError, AssertionError) as exc:
        raise JournalError(_diagnose(path, root, exc)) from None


def _diagnose(path: Path, root: Path, exc: Exception) -> str:
    """Which line of the journal Optuna stumbled on, and why, in one line."""
    known = {int(op) for op in JournalOperation}
    problem = None
    with open(path, "rb") as f:
        for number, line in enumerate(f, start=1):
            if not _is_record(line):
                text = line.decode("utf-8", "replace").rstrip("\n")
                shown = text[:40] + ("..." if len(text) > 40 else "")
                problem = f"line {number} is not a journal record ({shown!r})"
            else:
                op = json.loads(line).get("op_code")
                if op not in known:
                    problem = (
                        f"line {number} holds an unknown operation (op_code {op!r}; written by "
                        f"another Optuna than {optuna.__version__}?)"
                    )
            if problem:
                break
    if problem is None:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        problem = f"Optuna cannot replay it ({type(exc).__name__}: {first})"
    return (
        f"{_shown(path, root)} is damaged: {problem}; the records after it cannot be read. "
        "Keep a copy, then remove or mend that line (or restore the file from a backup) and "
        "rerun"
    )


# ---------------------------------------------------------------- which storage a study is in
def is_in_memory(url: str | None) -> bool:
    """``sqlite://`` (no path) or ``sqlite:///:memory:``: a database that dies with the process."""
    if not url or not url.startswith("sqlite"):
        return False
    database = _parse(url)
    return database is None or database.database in (None, "", ":memory:")


def refuse_in_memory(url: str | None) -> None:
    if is_in_memory(url):
        raise ConfigError(
            f"study.storage={url!r} is not allowed: an in-memory database vanishes with the "
            "process, so the study could neither resume nor be reported; leave study.storage "
            "empty (journal file under studies/) or give sqlite:////abs/path.db or "
            "postgresql://..."
        )


def _parse(url: str):
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        return None


def storage_key(url: str | None, name: str) -> str:
    """Which storage ``url`` is, without user, password or query (what two URLs reaching the
    same database share): ``journal:studies/<name>/journal.log``, ``sqlite:////abs/x.db``,
    ``postgresql://host:5432/db``."""
    if not url:
        return f"journal:studies/{name}/{JOURNAL}"
    parsed = _parse(url)
    if parsed is None:
        return url.split("://", 1)[0] + "://" + url.partition("://")[2].rsplit("@", 1)[-1]
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return f"sqlite:///{Path(parsed.database or ':memory:').resolve()}"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{backend}://{parsed.host or ''}{port}/{parsed.database or ''}"


def recorded_storage(root: Path, name: str) -> str | None:
    """The storage study ``name`` was created in: ``storage.json`` in its folder, else (a study
    from before that file) its journal if it has one, else unknown."""
    directory = study_dir(root, name)
    try:
        return str(json.loads((directory / RECORD).read_text())["storage"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    journal = directory / JOURNAL
    if journal.is_file() and journal.stat().st_size > 0:
        return storage_key(None, name)
    return None


def check_storage(url: str | None, root: Path, name: str) -> None:
    """Refuse to run study ``name`` in another storage than the one it was created in (it would
    start a second study, with a second parent run, over the first one's tables and figures)
    or in an in-memory one."""
    refuse_in_memory(url)
    recorded = recorded_storage(root, name)
    mine = storage_key(url, name)
    if recorded is None or recorded == mine:
        return
    if not (study_dir(root, name) / RECORD).exists() and url and _holds(url, root, name):
        return  # moved by a migrate from before storage.json: the copy is the study now
    raise ConfigError(
        f"study {name!r} lives in {recorded}, not in {mine}: another study.storage would start "
        "a second study over its files. Rerun with the storage it was created in, set another "
        f"study.name, or move it first: python -m research.search.migrate {name} URL"
    )


def _holds(url: str, root: Path, name: str) -> bool:
    try:
        open_storage(url, root, name).get_study_id_from_name(name)
    except (KeyError, ResearchError):
        return False
    return True


def remember_storage(url: str | None, root: Path, name: str) -> None:
    """Write which storage study ``name`` lives in to ``studies/<name>/storage.json``."""
    directory = study_dir(root, name)
    directory.mkdir(parents=True, exist_ok=True)
    record = directory / RECORD
    text = json.dumps({"storage": storage_key(url, name)}) + "\n"
    try:
        if record.read_text() == text:
            return
    except OSError:
        pass
    tmp = record.with_name(f"{RECORD}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, record)
