"""A test's project root with an empty MLflow store already made: the store is copied from the
migrated template that :func:`research.track.store.create_local_db` keeps in the data cache
(the session's, set by the ``isolated`` fixture), so the schema is migrated once per session."""

from __future__ import annotations

from pathlib import Path

from research.track.store import create_local_db


def copy_store(factory, root: Path) -> Path:
    """``root`` with an empty store in ``root/mlruns/``. ``factory`` (pytest's
    ``tmp_path_factory``) is no longer needed: the template lives in the data cache."""
    del factory
    (root / "mlruns").mkdir(exist_ok=True)
    create_local_db(root / "mlruns" / "mlflow.db")
    return root


def local_client(root: Path):
    """A client of ``root``'s local store, made as a run makes it when absent. A bare
    ``MlflowClient`` on a missing SQLite file migrates it in place, and a run starting at that
    moment finds half a schema ("out-of-date database schema") and fails; a test polling for
    a run's first rows must not be that client."""
    from mlflow.tracking import MlflowClient

    (root / "mlruns").mkdir(parents=True, exist_ok=True)
    create_local_db(root / "mlruns" / "mlflow.db")
    return MlflowClient(tracking_uri=f"sqlite:///{root / 'mlruns' / 'mlflow.db'}")
