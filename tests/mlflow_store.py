"""An empty MLflow store made once per test session and copied into a test's project root:
a new SQLite store costs seconds of schema migrations (more on a loaded machine)."""

from __future__ import annotations

import shutil
from pathlib import Path

from research.track import Tracker, resolve_store

_MADE: list[Path] = []  # the session's empty store, made by whichever test asks first


def copy_store(factory, root: Path) -> Path:
    """``root`` with a copy of the session's empty store in ``root/mlruns/``; ``factory`` is
    pytest's ``tmp_path_factory``."""
    if not _MADE:
        made = factory.mktemp("empty-store")
        _MADE.append(Tracker(resolve_store("local", root=str(made))).store.local_db)
    (root / "mlruns").mkdir(exist_ok=True)
    shutil.copy(_MADE[0], root / "mlruns" / "mlflow.db")
    return root
