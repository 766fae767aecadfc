"""A study against an MLflow tracking server that dies mid-study and comes back: the study
completes, every trial has its run, nothing stays RUNNING."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient

from research.search.storage import open_storage
from tests.conftest import finish, stop, wait_for
from tests.faults.servers import free_port, mlflow_server

pytestmark = pytest.mark.slow


def _serve(folder: Path, port: int) -> subprocess.Popen:
    return mlflow_server(f"sqlite:///{folder / 'mlflow.db'}", folder / "artifacts", port)


def test_a_study_survives_its_tracking_server_dying_and_coming_back(isolated, conf, tmp_path):
    server_dir = tmp_path / "server"
    server_dir.mkdir()
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    server = _serve(server_dir, port)
    args = [conf, "+study=fast", "study.n_trials=6", "regime.epochs=300", "study.pruner=none"]
    args += ["tracking=server", f"tracking.uri={uri}"]
    env = {**os.environ, "RESEARCH_ROOT": str(isolated)}
    study = subprocess.Popen(
        [sys.executable, "-m", "research.run", *args],
        cwd=isolated,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        optuna.logging.set_verbosity(optuna.logging.WARNING)

        def finished_trials() -> bool:  # raises until the study's journal exists
            s = optuna.load_study(study_name="fast", storage=open_storage(None, isolated, "fast"))
            return sum(t.state.is_finished() for t in s.trials) >= 2

        wait_for(finished_trials, "the study's first two finished trials", proc=study)
        os.killpg(server.pid, 9)  # the server dies mid-study...
        server.wait()
        time.sleep(5)  # the fault: no server for a while (not a wait for an event)
        server = _serve(server_dir, port)  # ...and comes back on the same store
        out, err = finish(study, "the study to finish after its server came back")
    finally:
        study.kill()
        stop(server)
    assert study.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    s = optuna.load_study(study_name="fast", storage=open_storage(None, isolated, "fast"))
    assert len([t for t in s.trials if not t.user_attrs.get("retried")]) == 6
    server = _serve(server_dir, port)
    try:
        client = MlflowClient(uri)
        exp = client.get_experiment_by_name("fast")
        runs = client.search_runs([exp.experiment_id])
        assert not [r for r in runs if r.info.status == "RUNNING"]
        numbers = {int(r.data.tags["trial.number"]) for r in runs if "trial.number" in r.data.tags}
        assert numbers == {t.number for t in s.trials}
    finally:
        stop(server)
