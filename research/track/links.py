"""Deep links into the MLflow UI, and the parent run of a study.

MLflow 3.17's UI picks its mode from the URL's ``workflowType`` (else from the browser's
last choice, GenAI at first): with ``workflowType=machine_learning`` an experiment opens on
its runs, not on an empty traces page.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from research.track import tags as T
from research.track.redact import redact
from research.track.store import Store

UI_HOST = "127.0.0.1"
UI_PORT = 5000  # python -m research.ui's default
MODE = "workflowType=machine_learning"


def ui_base(store: Store) -> str:
    """Where the store's UI answers: the tracking server itself, else ``python -m
    research.ui`` (local store) or ``mlflow ui`` (a database URL) on the default port."""
    uri = store.tracking_uri
    if uri.startswith(("http://", "https://")):
        return redact(uri.rstrip("/"))
    return f"http://{UI_HOST}:{UI_PORT}"


def run_url(store: Store, experiment_id: str, run_id: str, *, base: str | None = None) -> str:
    """The UI page of run ``run_id`` (of experiment ``experiment_id``); ``base`` is where the
    UI answers (default: :func:`ui_base`)."""
    return f"{base or ui_base(store)}/#/experiments/{experiment_id}/runs/{run_id}?{MODE}"


def experiment_url(store: Store, experiment_id: str) -> str:
    """The UI page of experiment ``experiment_id``, on its runs."""
    return f"{ui_base(store)}/#/experiments/{experiment_id}/runs?{MODE}"


def how_to_serve(store: Store) -> str:
    """The command that serves the UI for ``store`` ("" for a tracking server)."""
    if store.is_local:
        return "python -m research.ui"
    if store.tracking_uri.startswith(("http://", "https://")):
        return ""
    return f"mlflow ui --backend-store-uri {redact(store.tracking_uri)}"


def link_line(store: Store, experiment_id: str, run_id: str) -> str:
    """``MLflow: <url>  (python -m research.ui)``: the line a command prints at its end."""
    serve = how_to_serve(store)
    return f"MLflow: {run_url(store, experiment_id, run_id)}" + (f"  ({serve})" if serve else "")


def find_parent(client: MlflowClient, study: str):
    """The newest top-level run of study ``study`` (its parent run), or None."""
    exp = client.get_experiment_by_name(study)
    if exp is None or exp.lifecycle_stage == "deleted":
        return None
    runs = client.search_runs(
        [exp.experiment_id],
        filter_string=f"tags.`{T.STUDY_NAME}` = '{study}'",
        run_view_type=ViewType.ACTIVE_ONLY,
        order_by=["attributes.start_time DESC"],
        max_results=1000,
    )
    parents = [r for r in runs if T.PARENT not in r.data.tags]
    if not parents:  # a training run has no study.name: the experiment's newest run
        parents = client.search_runs([exp.experiment_id], max_results=1)
    return parents[0] if parents else None


def find_run(client: MlflowClient, run_id: str):
    """Run ``run_id``, or None if the store has no such run."""
    try:
        return client.get_run(run_id)
    except MlflowException:
        return None


def artifact_location(run, path: str) -> str:
    """Where artifact ``path`` of ``run`` (a TrackedRun) is: a local path for the local
    store, else its artifact URI."""
    root = run.client.get_run(run.run_id).info.artifact_uri.rstrip("/")
    if root.startswith("file://"):
        return str(Path(unquote(urlparse(root).path)) / path)
    return redact(f"{root}/{path}")


def lookup(store: Store, *, study: str | None = None, run_id: str | None = None):
    """Run ``run_id``, else the parent run of ``study``, in ``store`` (None if missing)."""
    client = MlflowClient(tracking_uri=store.tracking_uri)
    return find_run(client, run_id) if run_id else find_parent(client, study or "")


def experiment_names(store: Store) -> list[str]:
    """The experiments of ``store`` (MLflow's ``Default`` left out), sorted."""
    client = MlflowClient(tracking_uri=store.tracking_uri)
    return sorted(e.name for e in client.search_experiments() if e.name != "Default")
