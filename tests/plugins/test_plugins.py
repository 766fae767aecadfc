"""A user's own optimiser, task, selection scheme and study kind, living in a package outside
``research`` (``site/toy_plugins``), each run through ``python -m research.run`` in a
subprocess to a FINISHED MLflow run — without editing ``research``.

The package is found on ``PYTHONPATH``; its YAMLs through Hydra's own
``hydra.searchpath=[pkg://toy_plugins.conf]``; the optimiser and the task by import path in
their YAML (``name: toy_plugins.task:and_gate``); the selection and the study kind by entry
point (``site/toy_plugins-0.1.dist-info/entry_points.txt``, as ``pip install`` would write).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mlflow_store import local_client

SITE = Path(__file__).parent / "site"
SEARCHPATH = "hydra.searchpath=[pkg://toy_plugins.conf]"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("plugins")


def run(root: Path, *overrides: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SITE), os.environ.get("PYTHONPATH", "")]),
    }
    args = [sys.executable, "-m", "research.run", SEARCHPATH, f"tracking.root={root}", *overrides]
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def runs(root: Path, experiment: str):
    client = local_client(root)
    exp = client.get_experiment_by_name(experiment)
    assert exp is not None, f"no experiment {experiment!r}"
    return client.search_runs([exp.experiment_id])


def test_own_optimiser_by_import_path(root):
    run(root, "regime=sign_sgd", "data=xor", "model.hidden=[4]", "regime.epochs=3", "name=optim")
    (only,) = runs(root, "optim")
    assert only.info.status == "FINISHED"
    assert only.data.params["regime.name"] == "toy_plugins.optim:SignSGD"
    assert only.data.params["regime.step_scale"] == "0.5"  # the plugin schema's own field
    assert "val/loss" in only.data.metrics


def test_own_task_by_import_path(root):
    run(
        root,
        "+study=evolve",
        "task=and_gate",
        "study.name=task",
        "study.generations=3",
        "model.hidden=[2]",
        "model.output=sigmoid",
    )
    (parent,) = runs(root, "task")
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["task"] == "toy_plugins.task:and_gate"
    assert parent.data.metrics["evals"] > 0


def test_own_selection_by_entry_point(root):
    run(root, "+study=toy_ga")
    (parent,) = runs(root, "toy_ga")
    assert parent.info.status == "FINISHED"
    assert parent.data.params["study.settings.selection"] == "truncation"


def test_own_study_kind_by_entry_point(root):
    done = run(root, "+study=seeds", "data=xor", "model.hidden=[4]", "regime.epochs=2")
    assert "val/acc over 2 seeds" in done.stdout
    found = runs(root, "seeds")
    parent = [r for r in found if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in found if "mlflow.parentRunId" in r.data.tags]
    assert [r.info.status for r in parent] == ["FINISHED"]
    assert sorted(r.data.tags["seed"] for r in children) == ["0", "1"]
    assert all(r.info.status == "FINISHED" for r in children)
    assert "val/acc/mean" in parent[0].data.metrics


def test_unknown_plugin_path_is_one_line(root):
    env = {**os.environ, "PYTHONPATH": str(SITE)}
    done = subprocess.run(
        [sys.executable, "-m", "research.run", "regime=sgd", "regime.name=toy_plugins.nope:X"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "toy_plugins.nope" in done.stderr
