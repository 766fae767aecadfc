"""MLflow opens on the runs: experiments carry MLflow 3's experiment kind and a description,
runs a description from their tags, links land on a run in model-training mode,
``python -m research.ui --study/--run`` prints the link, and a study's parent run (only it)
gets MLflow's system metrics."""

from __future__ import annotations

import socket

import pytest
from mlflow.tracking import MlflowClient

from research import ui
from research.track import Tracker, resolve_store
from research.track.links import link_line, run_url
from tests.conftest import wait_for
from tests.mlflow_store import copy_store

KIND = "custom_model_development"


@pytest.fixture
def made_store(tmp_path, tmp_path_factory):
    return copy_store(tmp_path_factory, tmp_path)


@pytest.fixture
def busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_runs_and_experiments_say_what_they_are_and_ui_prints_the_link(tmp_path, capsys, busy_port):
    tracker = Tracker(resolve_store("local", root=str(tmp_path)))
    tags = {"study.kind": "search", "study.name": "demo", "sampler": "random", "n_trials": 2}
    with tracker.run("demo", "demo", tags={**tags, "command": "python -m research.run"}) as p:
        trial = {"trial.number": 0, "study.name": "demo", "command": "python -m research.run x=1"}
        with tracker.run("demo", "trial-0000", parent=p, tags=trial) as child:
            pass
    client = tracker.client
    exp = client.get_experiment_by_name("demo")
    assert exp.tags["mlflow.experimentKind"] == KIND
    assert "hyperparameter search" in exp.tags["mlflow.note.content"]
    parent_note = client.get_run(p.run_id).data.tags["mlflow.note.content"]
    assert parent_note.startswith("Study `demo`: Random search")
    child_note = client.get_run(child.run_id).data.tags["mlflow.note.content"]
    assert child_note.startswith("Trial 0 of study `demo`")
    assert "Retrain with: `python -m research.run x=1`" in child_note
    # --study: the parent run's link, printed even when the port is busy (exit 1 then)
    base = ["--root", str(tmp_path), "--port", str(busy_port)]
    assert ui.main([*base, "--study", "demo"]) == 1
    page = f"http://127.0.0.1:{busy_port}/#/experiments/{exp.experiment_id}/runs/"
    assert f"open: {page}{p.run_id}?workflowType=machine_learning" in capsys.readouterr().out
    assert ui.main([*base, "--run", child.run_id]) == 1
    assert f"open: {page}{child.run_id}?workflowType=machine_learning" in capsys.readouterr().out
    assert ui.main([*base, "--study", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "error: --study nosuch: no such study" in err and "studies: demo" in err


def test_an_experiment_made_before_experiment_kinds_gets_its_kind(made_store):
    store = resolve_store("local", root=str(made_store))
    tracker = Tracker(store)
    MlflowClient(store.tracking_uri).create_experiment("old")
    tracker.experiment_id("old")
    assert tracker.client.get_experiment_by_name("old").tags["mlflow.experimentKind"] == KIND


def test_links_point_at_the_server_or_say_how_to_serve_the_store(tmp_path):
    server = resolve_store("server", "http://user:secret@mlflow.example:5000/", str(tmp_path))
    url = "http://user:***@mlflow.example:5000/#/experiments/3/runs/abc"
    assert run_url(server, "3", "abc") == f"{url}?workflowType=machine_learning"
    assert link_line(server, "3", "abc") == f"MLflow: {url}?workflowType=machine_learning"
    db = resolve_store("server", "postgresql://u:pw@db/mlflow", str(tmp_path))
    assert link_line(db, "3", "abc").endswith(
        "  (mlflow ui --backend-store-uri postgresql://u:***@db/mlflow)"
    )
    local = resolve_store("local", root=str(tmp_path))
    assert link_line(local, "1", "r").startswith("MLflow: http://127.0.0.1:5000/#/experiments/1/")


def test_system_metrics_go_on_the_parent_run_of_a_study_only(made_store, monkeypatch):
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "0.1")
    tracker = Tracker(resolve_store("local", root=str(made_store)), system_metrics=True)
    parent = tracker.start_run("sys", "sys", tags={"study.kind": "evolve", "study.name": "sys"})
    child = tracker.start_run("sys", "stage-0", parent=parent, tags={"stage": 0})
    assert parent.monitor is not None and child.monitor is None
    wait_for(lambda: parent.monitor._logging_step >= 1, "MLflow's first system-metrics sample")
    child.end()
    parent.end()
    metrics = tracker.client.get_run(parent.run_id).data.metrics
    assert "system/cpu_utilization_percentage" in metrics
    assert not any(
        k.startswith("system/") for k in tracker.client.get_run(child.run_id).data.metrics
    )
