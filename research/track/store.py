"""Where runs go: a local SQLite store under the project root, or a tracking server.

:func:`check_reachable` asks a server once, with a short timeout, before a command starts:
MLflow's own client retries an unreachable server for minutes (right for a server that
restarts under a running study, wrong for a mistyped URL).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from mlflow.tracking import MlflowClient
from mlflow.version import VERSION as MLFLOW_VERSION

from research.errors import ConfigError, EnvironmentFault
from research.track.redact import redact

SERVER_SCHEMES = (
    "http://",
    "https://",
    "postgresql://",
    "postgresql+psycopg2://",
    "mysql://",
    "sqlite:///",
    "databricks",
)


@dataclass(frozen=True)
class Store:
    """A resolved tracking location. ``artifact_root`` is set only for the local store, where
    experiments are created with an absolute ``file://`` artifact location."""

    tracking_uri: str
    root: Path
    artifact_root: Path | None

    @property
    def is_local(self) -> bool:
        return self.artifact_root is not None

    @property
    def local_db(self) -> Path | None:
        """The local store's SQLite file, ``<root>/mlruns/mlflow.db``; None for a server."""
        return self.artifact_root.parent / "mlflow.db" if self.artifact_root else None


def project_root(root: str | None = None) -> Path:
    """The directory that holds ``mlruns/`` and ``studies/``: ``root``, else ``$RESEARCH_ROOT``,
    else the working directory — made absolute once, so a changed cwd cannot move it."""
    chosen = root or os.environ.get("RESEARCH_ROOT") or os.getcwd()
    return Path(chosen).expanduser().resolve()


def resolve_store(kind: str = "local", uri: str | None = None, root: str | None = None) -> Store:
    """Resolve ``tracking.kind``/``tracking.uri``/``tracking.root`` to a :class:`Store`."""
    base = project_root(root)
    if kind == "local":
        mlruns = base / "mlruns"
        return Store(f"sqlite:///{mlruns / 'mlflow.db'}", base, mlruns / "artifacts")
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise ConfigError(
            "tracking.uri=None is not allowed with tracking=server: give "
            "tracking.uri=http://127.0.0.1:5000 (or set MLFLOW_TRACKING_URI)"
        )
    if not uri.startswith(SERVER_SCHEMES):
        raise ConfigError(
            f"tracking.uri={uri!r} is not allowed: use http(s)://host:port of an MLflow server "
            "or a database URL (postgresql://..., sqlite:////abs/path.db)"
        )
    return Store(uri, base, None)


def study_dir(root: Path, name: str) -> Path:
    """``<root>/studies/<name>``: a study's files beside the store (journal, checkpoints,
    report); ``name`` is validated not to contain path characters."""
    path = (root / "studies" / name).resolve()
    if path.parent != (root / "studies").resolve():
        raise ConfigError(f"study.name={name!r} is not allowed: it would leave studies/")
    return path


PROBE_SECONDS = 5.0
DB_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}


class Unreachable(EnvironmentFault):
    """The tracking server (or database) does not answer: the environment's fault (exit 1)."""


def check_reachable(store: Store, timeout: float = PROBE_SECONDS) -> None:
    """Raise :class:`Unreachable` (one line naming the URL, password masked) unless the server
    of ``store`` answers within ``timeout`` seconds. Any HTTP answer counts, even an error
    status: authentication and the like are MLflow's to report. The local store, SQLite files
    and URIs this cannot test (``databricks``) pass."""
    uri = store.tracking_uri
    scheme = uri.split("://", 1)[0].split("+", 1)[0].lower() if "://" in uri else ""
    if scheme in ("http", "https"):
        problem = _http_problem(uri, timeout)
    elif scheme in DB_PORTS:
        problem = _tcp_problem(uri, scheme, timeout)
    else:
        return
    if problem:
        raise Unreachable(
            redact(
                f"tracking.uri={uri} cannot be reached ({problem}); start the server or check "
                "the URL"
            )
        )


def _http_problem(uri: str, timeout: float) -> str | None:
    import requests

    url = uri.rstrip("/") + "/health"
    try:
        # no retries: one connection attempt, one answer; proxies and basic auth as MLflow's
        requests.get(url, timeout=(timeout, timeout), allow_redirects=False)
    except requests.exceptions.SSLError:
        return None  # something answered; MLflow reports its certificate problem itself
    except requests.exceptions.Timeout:
        return f"no answer within {timeout:g} s"
    except requests.exceptions.InvalidURL as exc:
        return f"invalid URL: {_first_line(exc)}"
    except (requests.exceptions.RequestException, OSError, ValueError) as exc:
        return _reason(exc)
    return None


def _tcp_problem(uri: str, scheme: str, timeout: float) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(uri)
    except (ArgumentError, ValueError):
        return None  # MLflow reports a malformed URL itself
    if not parsed.host:
        return None  # a Unix socket: nothing to probe over TCP
    try:
        with socket.create_connection((parsed.host, parsed.port or DB_PORTS[scheme]), timeout):
            return None
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except OSError as exc:
        return _reason(exc)


def _causes(exc: BaseException):
    """``exc`` and what it wraps: causes, contexts, and urllib3's ``reason`` and ``args``."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]


def _reason(exc: BaseException) -> str:
    """A short reason for a failed connection: ``connection refused``, ``host not found``..."""
    for item in _causes(exc):
        if isinstance(item, socket.gaierror):
            return "host not found"
        if isinstance(item, ConnectionRefusedError):
            return "connection refused"
        if isinstance(item, (TimeoutError, socket.timeout)):
            return "no answer"
        if isinstance(item, OSError) and item.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "no route to host"
    text = " ".join(str(exc).split())
    for needle, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "host not found"),
        ("nodename nor servname", "host not found"),
        ("Temporary failure in name resolution", "host not found"),
    ):
        if needle in text:
            return reason
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def check_tracking(tracking) -> None:
    """:func:`check_reachable` for a validated ``tracking`` group (nothing to do when local)."""
    if tracking.kind == "server":
        check_reachable(resolve_store(tracking.kind, tracking.uri, tracking.root))


def data_cache_dir() -> Path:
    """The user's cache folder for downloads and generated files: ``$RESEARCH_DATA_DIR``, else
    ``~/.cache/research``. The same expression as ``research.data.loaders.cache_dir``, repeated
    because the layering forbids track to import data."""
    return Path(os.environ.get("RESEARCH_DATA_DIR") or "~/.cache/research").expanduser()


def create_local_db(path: Path) -> None:
    """Create the SQLite store atomically: a private file gets the schema, then is linked into
    place. A process killed while MLflow migrates a fresh database would otherwise leave half a
    schema ("table ... already exists" forever after). The schema is copied from a migrated
    empty store cached per MLflow version (:func:`_template`): migrating costs seconds for every
    new project, copying milliseconds. Without a usable cache, MLflow migrates the file itself."""
    if path.exists():
        return
    tmp = path.with_name(f".{path.name}.{_private()}.tmp")
    try:
        if not _copy_template(tmp, path.parent):
            _migrate(tmp)
        os.link(tmp, path)  # atomic, and never replaces a store another process just made
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def _private() -> str:
    """A name part no other process or thread uses, nor this one again: MLflow keeps an engine
    per database URL for the life of the process, and a reused URL would reach the old file."""
    return f"{os.getpid()}.{uuid.uuid4().hex[:12]}"


def _migrate(db: Path) -> None:
    """Let MLflow create its schema in the SQLite file ``db``."""
    MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments(max_results=1)


def _template() -> Path:
    """``<cache>/mlflow-<version>-empty.db``, a store MLflow has migrated and nobody writes to;
    made once, in a private file moved into place whole, so no process sees half a schema. A
    new MLflow version makes a new one."""
    template = data_cache_dir() / f"mlflow-{MLFLOW_VERSION}-empty.db"
    if template.is_file():
        return template
    template.parent.mkdir(parents=True, exist_ok=True)
    tmp = template.with_name(f".{template.name}.{_private()}.tmp")
    try:
        _migrate(tmp)
        os.replace(tmp, template)  # a racing process's template is the same schema
    finally:
        tmp.unlink(missing_ok=True)
    return template


def _copy_template(db: Path, mlruns: Path) -> bool:
    """Copy the template to ``db`` and point its Default experiment (id 0) at ``mlruns/0``, a
    plain absolute path as MLflow writes it, instead of wherever the template was made. False,
    with ``db`` removed, when the cache cannot be used: the caller migrates instead."""
    try:
        shutil.copyfile(_template(), db)
        now = int(time.time() * 1000)
        with contextlib.closing(sqlite3.connect(db)) as conn, conn:
            changed = conn.execute(
                "UPDATE experiments SET artifact_location = ?, creation_time = ?, "
                "last_update_time = ? WHERE experiment_id = 0",
                (os.path.join(os.path.abspath(mlruns), "0"), now, now),
            ).rowcount
        if changed != 1:
            raise sqlite3.DatabaseError("the template has no Default experiment")
        return True
    except Exception:  # noqa: BLE001 - any trouble with the cache: migrate as without one
        db.unlink(missing_ok=True)
        return False


def _schema_version(db: Path) -> str | None:
    """The alembic revision an MLflow SQLite store records; None when it records none (a file
    still empty, or being made) or cannot be read as SQLite (checked elsewhere)."""
    try:
        with contextlib.closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as c:
            row = c.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _known_revisions() -> set[str]:
    """The schema revisions this MLflow can migrate from: its migration files are named
    ``<revision>_<what>.py``."""
    import mlflow.store.db_migrations as migrations

    versions = Path(migrations.__file__).parent / "versions"
    return {p.name.split("_", 1)[0] for p in versions.glob("*_*.py")}


def check_schema(db: Path) -> None:
    """An existing local store was made by this MLflow's schema, else one line saying what to
    do: MLflow itself refuses such a store with a traceback, after the run has begun. The
    expected revision is the cached empty store's (:func:`_template`); nothing is checked when
    that cache cannot be made."""
    found = _schema_version(db)
    if found is None:
        return
    try:
        expected = _schema_version(_template())
    except Exception:  # noqa: BLE001 - no cache: MLflow's own check still runs
        return
    if expected is None or found == expected:
        return
    where = (
        f"the MLflow store {db} has schema {found}, but MLflow {MLFLOW_VERSION} expects {expected}"
    )
    if found not in _known_revisions():
        raise EnvironmentFault(
            f"{where}: a newer MLflow made it; install that version (pip install -U mlflow) or "
            "point tracking.root elsewhere"
        )
    raise EnvironmentFault(
        f"{where}: back it up, then run `mlflow db upgrade sqlite:///{db}` (or use the MLflow "
        "version that made it)"
    )
