"""A search's best network and an evolution's champion are MLflow models: loadable with
``mlflow.pyfunc.load_model``, predicting exactly what our numpy network predicts, registered
under the study's name; the study's MLflow experiment and runs say what they are, and the
command ends with a deep link to the parent run."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from research.config import compose, validate
from research.data import load_dataset
from research.evolve.setup import setup
from research.run import main
from tests.mlflow_store import copy_store

LINK = re.compile(
    r"^MLflow: http://127\.0\.0\.1:5000/#/experiments/(\w+)/runs/(\w+)"
    r"\?workflowType=machine_learning  \(python -m research\.ui\)$",
    re.M,
)


@pytest.fixture
def project(isolated, tmp_path_factory) -> Path:
    return copy_store(tmp_path_factory, isolated)


def store(root: Path):
    uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    return MlflowClient(uri)


def runs_of(client: MlflowClient, name: str):
    exp = client.get_experiment_by_name(name)
    runs = client.search_runs([exp.experiment_id], max_results=100)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1
    return exp, parents[0], children


def test_a_search_logs_its_best_network_as_a_registered_model_and_links_its_parent_run(
    project, capsys, conf
):
    isolated = project
    args = [conf, "+study=fast", "study.name=bestnet", "study.n_trials=2", "study.report=false"]
    assert main(args) == 0
    out = capsys.readouterr().out
    client = store(isolated)
    exp, parent, trials = runs_of(client, "bestnet")
    # the deep link: to the parent run, in the UI's model-training mode
    link = LINK.search(out)
    assert link and link.groups() == (exp.experiment_id, parent.info.run_id), out
    # the experiment opens on its runs, and says what it is
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"
    assert "hyperparameter search" in exp.tags["mlflow.note.content"]
    note = parent.data.tags["mlflow.note.content"]
    assert note.startswith("Study `bestnet`: Bayesian search (TPE) over `model.hidden`")
    best = parent.data.tags["best.trial"]
    assert f"Best: trial {best}, val/acc = " in note
    for trial in trials:
        text = trial.data.tags["mlflow.note.content"]
        assert text.startswith(f"Trial {trial.data.tags['trial.number']} of study `bestnet`")
        assert f"Retrain with: `{trial.data.tags['command']}`" in text
    # the best trial's network, as a model: exactly the trial's test and val accuracy
    assert parent.data.tags["model.trial"] == best
    assert "mlflow.pyfunc.load_model('models:/bestnet/1')" in out
    model = mlflow.pyfunc.load_model(parent.data.tags["model.uri"])
    data = load_dataset("spirals", seed=0, dtype="float32", n_per_class=100)
    run = next(t for t in trials if t.data.tags["trial.number"] == best)
    for split in ("test", "val"):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        acc = float(np.mean(np.argmax(model.predict(x), axis=1) == y))
        assert acc == run.data.metrics[f"{split}/acc"]
    # registered: version 1 of the study's name, from the parent run
    version = client.get_model_version("bestnet", "1")
    assert version.run_id == parent.info.run_id
    assert parent.data.tags["model.registered"] == "bestnet/1"
    # Optuna's figures are on the parent run only: no copies in the study's folder
    assert {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert not (isolated / "studies" / "bestnet" / "figures").exists()


def test_an_evolution_logs_its_champion_as_a_model_predicting_as_our_network(project, capsys):
    isolated = project
    args = ["+study=cmaes", "task.max_steps=200", "study.generations=2"]
    args += ["study.stop_on_solve=false", "study.report=false"]
    assert main(args) == 0
    out = capsys.readouterr().out
    client = store(isolated)
    exp, parent, _ = runs_of(client, "cmaes")
    link = LINK.search(out)
    assert link and link.groups() == (exp.experiment_id, parent.info.run_id), out
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"
    note = parent.data.tags["mlflow.note.content"]
    assert note.startswith("Evolution `cmaes`: Neuroevolution (cmaes") and "Outcome: 2 gen" in note
    # the summary says where champion.npz is
    where = re.search(r"^champion: (\S+)$", out, re.M)
    assert where and where.group(1).endswith("champion.npz") and Path(where.group(1)).is_file()
    assert "as an MLflow model: mlflow.pyfunc.load_model('models:/cmaes/1')" in out
    # our network with the champion's weights, built as the evolution builds it
    cfg = compose(args)
    ev = setup(cfg, validate(cfg), isolated)
    with np.load(where.group(1)) as saved:
        ev.net.load_state_dict({k: saved[k] for k in saved.files})
    x = np.random.default_rng(1).standard_normal((64, ev.net.sizes[0]))
    model = mlflow.pyfunc.load_model("models:/cmaes/1")
    assert np.array_equal(model.predict(x), ev.net.predict(x))
    assert client.get_model_version("cmaes", "1").run_id == parent.info.run_id


def test_a_layered_best_network_is_a_model_too(project, capsys, conf):
    """A CNN with batch norm (parameters and running moments) rebuilt from network.json by
    its example shape predicts exactly what the trial measured."""
    args = [conf, "+study=fast", "study.name=layered", "study.n_trials=2", "study.report=false"]
    args += ["model=cnn", "model.channels=[4]", "model.kernel=3", "model.stride=1"]
    assert main([*args, "model.batch_norm=true"]) == 0
    assert "mlflow.pyfunc.load_model('models:/layered/1')" in capsys.readouterr().out
    client = store(project)
    _, parent, trials = runs_of(client, "layered")
    model = mlflow.pyfunc.load_model(parent.data.tags["model.uri"])
    run = next(t for t in trials if t.data.tags["trial.number"] == parent.data.tags["model.trial"])
    data = load_dataset("spirals", seed=0, dtype="float32", n_per_class=100)
    for split in ("test", "val"):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        acc = float(np.mean(np.argmax(model.predict(x), axis=1) == y))
        assert acc == run.data.metrics[f"{split}/acc"]
