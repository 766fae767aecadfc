"""Where runs go: a local SQLite store under the project root, or a tracking server."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from research.errors import ConfigError

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
