"""A numpy network as an MLflow model: ``mlflow.pyfunc.load_model(uri).predict(x)`` gives
exactly what the network's own ``predict(x)`` gives.

The model's artifacts are the network's ``state_dict`` (``weights.npz``) and ``network.json``:
the import path of a *loader* ``(network: dict, state: dict) -> network`` and what it needs
(the model group's settings, input and output sizes). The loader lives where networks are
built (this package imports no network code); loading needs the ``research`` package
installed, as reading our ``weights.npz`` by hand would.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import numpy as np
from mlflow.models import Model, infer_signature

from research.registry import import_object
from research.track import tags as T
from research.track.tracker import TrackedRun

ARTIFACT = "model"  # the logged model's name
PROGRESS_BAR = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
QUIET_LOGGERS = ("mlflow.pyfunc", "mlflow.models", "mlflow.tracking", "mlflow.store")


class NetworkModel(mlflow.pyfunc.PythonModel):
    """pyfunc wrapper: rebuilds the network with its loader, then ``predict`` = the
    network's ``predict`` on the input as an array of the network's dtype."""

    def load_context(self, context) -> None:
        spec = json.loads(Path(context.artifacts["network"]).read_text())
        with np.load(context.artifacts["weights"]) as saved:
            state = {k: saved[k] for k in saved.files}
        self.net = import_object(spec["loader"])(spec, state)

    def predict(self, context, model_input: np.ndarray, params=None) -> np.ndarray:
        x = np.asarray(model_input, dtype=self.net.dtype)
        return self.net.predict(x)


@dataclass(frozen=True)
class LoggedNetwork:
    """Where a logged network is: ``uri`` (``models:/<model id>``) for
    ``mlflow.pyfunc.load_model``; the registered model's name and version (None when not
    registered)."""

    uri: str
    name: str | None = None
    version: str | None = None

    @property
    def registered_uri(self) -> str | None:
        return f"models:/{self.name}/{self.version}" if self.name else None

    def tags(self) -> dict[str, str]:
        out = {T.MODEL_URI: self.uri}
        if self.name:
            out[T.MODEL_REGISTERED] = f"{self.name}/{self.version}"
        return out


@contextmanager
def _tracking(uri: str):
    """MLflow's model logging reads the process-wide tracking URI: ``uri``, meanwhile; and
    it is quiet (its progress bars, advice and "Successfully registered" lines are not
    what the command says; the command prints where the model is)."""
    before = mlflow.get_tracking_uri()
    bar = os.environ.get(PROGRESS_BAR)
    os.environ[PROGRESS_BAR] = "false"
    mlflow.set_tracking_uri(uri)
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    try:
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        mlflow.set_tracking_uri(before)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        if bar is None:
            os.environ.pop(PROGRESS_BAR, None)
        else:
            os.environ[PROGRESS_BAR] = bar


def requirements() -> list[str]:
    """Pinned, not inferred: MLflow's inference loads the model in a subprocess (seconds)."""
    out = []
    for name in ("numpy", "mlflow"):
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return out


def log_network(
    run: TrackedRun,
    state: dict[str, np.ndarray],
    network: dict[str, Any],
    example: np.ndarray,
    *,
    register: str | None = None,
) -> LoggedNetwork:
    """Log the network (``state``, and ``network`` = loader + settings) as the model of
    ``run``, with a signature from ``example`` (a few inputs); with ``register``, as a new
    version of the registered model of that name."""
    with tempfile.TemporaryDirectory(prefix="research-model-") as tmp:
        weights, spec = Path(tmp) / "weights.npz", Path(tmp) / "network.json"
        np.savez(weights, **state)
        spec.write_text(json.dumps(network, indent=2, default=str))
        python_model = NetworkModel()
        python_model.load_context(_Context({"weights": str(weights), "network": str(spec)}))
        signature = infer_signature(example, python_model.predict(None, example))
        with _tracking(run.client.tracking_uri):
            info = Model.log(
                artifact_path=None,
                name=ARTIFACT,
                flavor=mlflow.pyfunc,
                run_id=run.run_id,
                python_model=NetworkModel(),
                artifacts={"weights": str(weights), "network": str(spec)},
                signature=signature,
                pip_requirements=requirements(),
                registered_model_name=register,
                await_registration_for=0,
            )
    version = info.registered_model_version
    if version is None:
        return LoggedNetwork(info.model_uri)
    return LoggedNetwork(info.model_uri, register, str(version))


@dataclass
class _Context:
    artifacts: dict[str, str]
