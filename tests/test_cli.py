"""``python -m research.run`` as a user runs it: real processes, a real MLflow store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import finish, run_cli, stop, wait_for
from tests.mlflow_store import local_client

SMALL = ["data=spirals", "model.hidden=[16]", "regime.epochs=5"]


def client_for(root):
    return local_client(root)


def runs(root, experiment="train"):
    client = client_for(root)
    exp = client.get_experiment_by_name(experiment)
    return client, ([] if exp is None else client.search_runs([exp.experiment_id]))


@pytest.mark.parametrize(
    "args",
    [
        ["regime.lr=-1"],
        ["model.hidden=[0]"],
        ["data=nosuch"],
        ["regime=nosuch"],
        ["regime.lr=notanumber"],
        ["data=mnist", "data.path=/nonexistent/mnist"],
        ["tracking=server"],
        ["name=a/b"],
    ],
)
def test_bad_input_exits_2_with_one_line_and_creates_no_run(tmp_path, args):
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "mlruns" / "mlflow.db").exists()


def test_a_training_leaves_one_finished_run_with_everything_logged(tmp_path):
    proc = run_cli(*SMALL, "seed=7", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "MLflow run" in proc.stdout and "research.ui" in proc.stdout
    client, found = runs(tmp_path)
    assert len(found) == 1
    run = found[0]
    assert run.info.status == "FINISHED"
    params, tags, metrics = run.data.params, run.data.tags, run.data.metrics
    assert params["regime.name"] == "sgd" and params["model.hidden"] == "[16]"
    assert params["seed"] == "7" and params["data.name"] == "spirals"
    assert tags["seed"] == "7" and tags["fit.status"] == "finished"
    assert tags["command"].startswith("python -m research.run data=spirals")
    assert {"versions.numpy", "versions.mlflow", "versions.python"} <= set(tags)
    assert "git.commit" in tags and tags["git.dirty"] in ("True", "False")
    assert {"train/loss", "val/acc", "test/acc", "lr", "time/epoch"} <= set(metrics)
    history = client.get_metric_history(run.info.run_id, "val/acc")
    assert sorted(m.step for m in history) == [0, 1, 2, 3, 4, 5]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.yaml", "weights.npz", "learning_curve.png"} <= artifacts
    local = client.download_artifacts(run.info.run_id, "weights.npz", str(tmp_path))
    weights = np.load(local, allow_pickle=False)
    assert weights["W0"].shape == (2, 16)
    assert str(run.info.artifact_uri).startswith((tmp_path / "mlruns").as_uri())


@pytest.mark.slow  # tests/test_reproducibility.py covers it by default (suite time)
def test_the_same_command_and_seed_give_identical_metrics(tmp_path):
    for _ in range(2):
        assert run_cli(*SMALL, "model.dropout=0.1", cwd=tmp_path).returncode == 0
    client, found = runs(tmp_path)
    assert len(found) == 2
    curves = []
    for run in found:
        curves.append(
            {
                key: [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, key)]
                for key in ("train/loss", "val/loss", "val/acc", "test/acc")
            }
        )
    assert curves[0] == curves[1]
    steps = [step for step, _ in curves[0]["val/acc"]]
    assert steps == sorted(set(steps)), "each epoch's val/acc is logged exactly once"


def test_final_metrics_repeat_no_point_the_last_epoch_already_logged():
    from research.kinds.train import final_metrics
    from research.train import FitResult

    history = [{"epoch": 0.0, "val/acc": 0.1}, {"epoch": 1.0, "val/acc": 0.5}]
    same = FitResult(None, "finished", "", 1, {"val/acc": 0.5, "test/acc": 0.4}, history)
    assert final_metrics(same) == {"test/acc": 0.4}
    restored = FitResult(None, "early_stopped", "", 1, {"val/acc": 0.6, "test/acc": 0.4}, history)
    assert final_metrics(restored) == {"val/acc": 0.6, "test/acc": 0.4}


def test_a_diverging_training_exits_1_and_its_run_is_failed_with_the_reason(tmp_path):
    proc = run_cli(
        "data=sine",
        "model.output=linear",
        "model.cost=quadratic",
        "regime.lr=1e6",
        "regime.epochs=10",
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "diverged" in proc.stdout
    _, found = runs(tmp_path)
    assert len(found) == 1 and found[0].info.status == "FAILED"
    assert found[0].data.tags["fit.status"] == "diverged"
    assert "became" in found[0].data.tags["status.reason"]


def test_sigterm_ends_the_run_killed(tmp_path):
    (tmp_path / "mlruns").mkdir()
    client_for(tmp_path).search_experiments()  # create the tables before polling them
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "research.run",
            "data=spirals",
            "regime.epochs=100000",
            "tracking.flush_seconds=0",
        ],
        cwd=tmp_path,
        env={**os.environ, "RESEARCH_ROOT": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: (found := runs(tmp_path)[1]) and "val/acc" in found[0].data.metrics,
            "the run's first val/acc in the MLflow store",
            proc=proc,
        )
        proc.send_signal(signal.SIGTERM)
        _, err = finish(proc, "the run to exit after SIGTERM")
    finally:
        stop(proc)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    _, found = runs(tmp_path)
    assert [r.info.status for r in found] == ["KILLED"]


def test_cfg_prints_the_composed_config_without_running(tmp_path):
    proc = run_cli("--cfg", "regime=adam", cwd=tmp_path)
    assert proc.returncode == 0
    assert "name: adam" in proc.stdout and "beta1: 0.9" in proc.stdout
    assert not (tmp_path / "mlruns").exists()


def test_default_command_trains_mnist1d_above_chance(tmp_path):
    proc = run_cli(cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    _, found = runs(tmp_path)
    assert found[0].data.metrics["test/acc"] > 0.4  # chance is 0.1
