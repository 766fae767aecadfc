"""The folders and files a run writes, checked before it starts.

A root that is a file or read-only, an MLflow store that is not an SQLite database: an
:class:`~research.errors.EnvironmentFault` (exit status 1) naming the file, before any run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from research.errors import EnvironmentFault
from research.schema import NAME_PATTERN
from research.track.store import check_schema, project_root

SQLITE_MAGIC = b"SQLite format 3\x00"


def _writable_dir(path: Path, what: str) -> None:
    """``path``, or the nearest folder that would hold it, is a folder this process can write."""
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        if probe == path:
            raise EnvironmentFault(f"{what} {path} is a file, not a folder")
        raise EnvironmentFault(f"{what} {path} cannot be made: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise EnvironmentFault(f"{what} {probe} is read-only: make it writable or choose another")


def check_environment(objects: dict[str, Any]) -> None:
    """The folders and files a run writes, checked before it starts: a root that is a file or
    read-only, an MLflow store that is not an SQLite database or has another MLflow's schema. An
    :class:`~research.errors.EnvironmentFault` (exit status 1) naming the file."""
    tracking = objects["tracking"]
    root = project_root(tracking.root)
    _writable_dir(root, "the project root")
    if tracking.kind == "local":
        mlruns = root / "mlruns"
        _writable_dir(mlruns, "the MLflow store folder")
        _writable_dir(mlruns / "artifacts", "the MLflow artifact folder")
        db = mlruns / "mlflow.db"
        if db.is_dir():
            raise EnvironmentFault(f"the MLflow store {db} is a folder, not an SQLite database")
        if db.exists():
            try:
                with db.open("rb") as f:
                    head = f.read(len(SQLITE_MAGIC))
            except OSError as exc:
                raise EnvironmentFault(
                    f"cannot read the MLflow store {db}: {exc.strerror}"
                ) from None
            if head and head != SQLITE_MAGIC:
                raise EnvironmentFault(
                    f"the MLflow store {db} is not an SQLite database: move it away (a new "
                    "store is made) or point tracking.root elsewhere"
                )
            if not os.access(db, os.R_OK | os.W_OK):
                raise EnvironmentFault(f"the MLflow store {db} is read-only")
            check_schema(db)
    study = objects.get("study")
    if study is not None:
        _writable_dir(root / "studies", "the studies folder")
        if study.name is not None and NAME_PATTERN.match(str(study.name)):
            _writable_dir(root / "studies" / study.name, "the study folder")
