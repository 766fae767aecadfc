"""MLflow tracking: the only package that imports mlflow.

``Tracker`` opens the store, ``TrackedRun`` buffers metrics and ends every run in a true
state (FINISHED, FAILED with the error, KILLED on Ctrl-C/SIGTERM), ``RunReporter`` feeds
``fit``'s per-epoch metrics into a run.
"""

from research.track.lifecycle import Terminated, handle_sigterm, is_disk_full
from research.track.reporter import RunReporter
from research.track.store import Store, resolve_store
from research.track.tracker import TrackedRun, Tracker

__all__ = [
    "RunReporter",
    "Store",
    "Terminated",
    "TrackedRun",
    "Tracker",
    "handle_sigterm",
    "is_disk_full",
    "resolve_store",
]
