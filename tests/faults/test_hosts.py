"""Workers of one study on "several hosts": separate processes with separate working
directories and project roots, sharing nothing but two URLs — a PostgreSQL database for Optuna
and an MLflow tracking server backed by PostgreSQL. No trial lost or duplicated; every trial
has its run."""

from __future__ import annotations

import os
import subprocess
import sys

import optuna
import pytest
from mlflow.tracking import MlflowClient

from research.search.storage import open_storage
from tests.conftest import STUDIES, finish, stop
from tests.faults.servers import free_port, mlflow_server

pytestmark = pytest.mark.postgres


def _database(admin_db_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_db_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return admin_db_url.rsplit("/", 1)[0] + "/" + name


def test_three_hosts_share_one_study_through_postgresql_and_an_mlflow_server(
    tmp_path, postgres_url
):
    mlflow_db = _database(postgres_url, postgres_url.rsplit("/", 1)[1] + "_mlflow")
    port = free_port()
    backend = mlflow_db.replace("postgresql://", "postgresql+psycopg://")
    server = mlflow_server(backend, tmp_path / "artifacts", port)
    uri = f"http://127.0.0.1:{port}"
    try:
        hosts = []
        for i in range(3):
            home = tmp_path / f"host{i}"  # each "host" has its own files and project root
            (home / "conf" / "study").mkdir(parents=True)
            (home / "conf" / "study" / "fast.yaml").write_text(STUDIES["fast"])
            args = [f"hydra.searchpath=[file://{home / 'conf'}]", "+study=fast"]
            args += ["study.n_trials=12", "study.report=false", f"study.storage={postgres_url}"]
            args += ["tracking=server", f"tracking.uri={uri}"]
            env = {**os.environ, "RESEARCH_ROOT": str(home)}
            hosts.append(
                subprocess.Popen(
                    [sys.executable, "-m", "research.run", *args],
                    cwd=home,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        results = [finish(h, f"host {i}'s worker to finish the study") for i, h in enumerate(hosts)]
        for h, (_, err) in zip(hosts, results):
            assert h.returncode == 0, err[-2000:]
            assert "Traceback" not in err
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.load_study(
            study_name="fast", storage=open_storage(postgres_url, tmp_path, "fast")
        )
        trials = study.trials
        assert sorted(t.number for t in trials) == list(range(12))
        assert all(t.state.is_finished() for t in trials)
        assert not [t.number for t in trials if "crashed" in t.user_attrs], "no live trial failed"
        workers = {t.user_attrs["worker"].split(":")[1] for t in trials}
        assert len(workers) >= 2, "the hosts shared the work"
        client = MlflowClient(uri)
        exp = client.get_experiment_by_name("fast")
        runs = client.search_runs([exp.experiment_id], max_results=1000)
        parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
        children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
        assert len(parents) == 1, "the study and its parent run were created once"
        assert sorted(int(r.data.tags["trial.number"]) for r in children) == list(range(12))
        assert not [r for r in runs if r.info.status == "RUNNING"]
    finally:
        stop(server)
