"""What a search says and records (issue 14, items 5, 8, 9, 10): a warning when the pruner
cannot act, Optuna's objectives named, trial runs with the parent's provenance, a retrain
command with each key once, a progress count of failures that matches the summary, and no
trial run left RUNNING after Ctrl-C."""

from __future__ import annotations

import contextlib
import io
import re
import signal
import subprocess
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest
from mlflow.tracking import MlflowClient
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from research.run import main
from research.search.progress import TrialBar
from research.search.spec import sampler_warning, without_repeats
from research.search.storage import open_storage
from research.search.summary import summary_lines
from research.track.settings import TrackingConfig
from tests.conftest import WAIT, finish, start_cli, stop, wait_for
from tests.mlflow_store import local_client

#: what this file does not look at, off where the setting exists: the best network as an MLflow
#: model (retrained), system metrics
_TRACKING = {f.name for f in fields(TrackingConfig)}
EXTRAS = [f"tracking.{k}=false" for k in ("log_model", "system_metrics") if k in _TRACKING]


def client_for(root: Path) -> MlflowClient:
    return local_client(root)


def runs_of(root: Path, name: str) -> tuple[list, list]:
    client = client_for(root)
    exp = client.get_experiment_by_name(name)
    runs = client.search_runs([exp.experiment_id], max_results=1000) if exp else []
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return parents, children


@pytest.fixture(scope="module")
def study(tmp_path_factory, conf, data_cache):
    """A 2-trial study of ``fast`` (whose overrides say regime.epochs=4) with the user's
    regime.epochs=2, below the default prune_after_epochs=3; its journal holds an unnamed
    study first, as versions before the objectives were named made them."""
    root = tmp_path_factory.mktemp("messages")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RESEARCH_ROOT", str(root))
        mp.setenv("RESEARCH_DATA_DIR", str(data_cache))
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        optuna.create_study(
            study_name="fast", storage=open_storage(None, root, "fast"), direction="maximize"
        )
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(
                [conf, "+study=fast", "study.n_trials=2", "regime.epochs=2", "study.report=false"]
            )
    assert code == 0, err.getvalue()
    return SimpleNamespace(root=root, out=out.getvalue(), err=err.getvalue())


def test_a_pruner_that_cannot_act_is_one_warning_before_the_study(study):
    warnings = [line for line in study.err.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: pruning cannot act: regime.epochs=2 < study.prune_after_epochs=3 (the pruner "
        "never stops a trial before that epoch); lower study.prune_after_epochs, raise "
        "regime.epochs, or set study.pruner=none"
    ]
    assert study.err.index("warning:") < study.err.index("fast: ")  # before any trial


@pytest.mark.parametrize(
    ("sampler", "pruner", "warned"),
    [("gp", "median", True), ("cmaes", "hyperband", True), ("gp", "none", False)]
    + [("tpe", "median", False), ("random", "median", False)],
)
def test_a_sampler_a_pruner_keeps_at_random_is_warned_of(sampler, pruner, warned):
    """GP and CMA-ES count only completed trials towards their start-up trials: under a pruner
    they may stay random (the bench saw GP equal random search for all 80 trials)."""
    study = SimpleNamespace(sampler=sampler, pruner=pruner, n_startup_trials=15)
    warning = sampler_warning(SimpleNamespace(study=study))
    assert (warning is not None) == warned
    if warned:
        assert warning.startswith(f"warning: sampler '{sampler}' counts only completed trials")
        assert "study.n_startup_trials=15" in warning and f"pruner '{pruner}'" in warning


def test_optunas_objectives_are_named_also_in_a_study_made_without_names(study):
    loaded = optuna.load_study(study_name="fast", storage=open_storage(None, study.root, "fast"))
    assert loaded.metric_names == ["val/acc"]
    assert len(loaded.trials) == 2


def test_trial_runs_carry_the_parents_provenance_and_their_own_command(study):
    (parent,), children = runs_of(study.root, "fast")
    provenance = {
        k: v
        for k, v in parent.data.tags.items()
        if k.startswith(("git.", "versions.", "mlflow.source.git"))
    }
    assert "versions.optuna" in provenance  # and git.commit, git.dirty in a git checkout
    assert len(children) == 2
    for run in children:
        assert provenance.items() <= run.data.tags.items()
        assert run.data.tags["command"] != parent.data.tags["command"]


def test_the_retrain_command_names_each_overridden_key_once(study):
    _, children = runs_of(study.root, "fast")
    retrain = next(line for line in study.out.splitlines() if line.startswith("retrain trial"))
    for command in [retrain, *(r.data.tags["command"] for r in children)]:
        assert command.count("regime.epochs=") == 1, command
        assert "regime.epochs=2" in command and "regime.epochs=4" not in command
        assert command.index("data=spirals") < command.index("regime.lr=")  # order kept
    assert without_repeats(["+foo=1", "a=1", "foo=2", "~b", "a=3"]) == ["+foo=2", "~b", "a=3"]


def test_the_progress_counts_failures_as_the_summary_does(capsys, monkeypatch, tmp_path):
    """A trial that crashed and was queued again (``retried``) is not a failure: its retry
    counts instead."""
    monkeypatch.setenv("RESEARCH_PROGRESS_SECONDS", "0")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    dist = {"regime.lr": FloatDistribution(1e-4, 1.0)}
    for state, retried, value in [
        (TrialState.FAIL, True, None),  # crashed, retried as the next one
        (TrialState.COMPLETE, False, 0.5),
        (TrialState.FAIL, False, None),  # failed on its own merits
    ]:
        attrs = {"retried": retried} if state == TrialState.FAIL else {}
        study.add_trial(
            create_trial(
                state=state,
                value=value,
                params={"regime.lr": 0.1},
                distributions=dist,
                user_attrs=attrs,
            )
        )
    spec = SimpleNamespace(
        name="s",
        n_trials=2,
        metrics=["val/acc"],
        multi_objective=False,
        space={},
        root=tmp_path,
        study=SimpleNamespace(
            sampler="tpe",
            pruner="median",
            objectives={"val/acc": "maximize"},
            report=False,
            seeds_per_trial=1,
        ),
        retrain_overrides=lambda params: [],
        trial_overrides=lambda params: [],
    )
    handle = SimpleNamespace(
        spec=spec,
        study=study,
        parent_run_id="r",
        tracker=SimpleNamespace(store=SimpleNamespace(is_local=True)),
    )
    bar = TrialBar(handle)
    bar.refresh()
    bar.close()
    shown = re.findall(r"failed (\d+)", capsys.readouterr().err)
    summary = summary_lines(handle)[0]
    assert "1 failed, 1 crashed and retried" in summary
    assert shown and set(shown) == {"1"}


def test_ctrl_c_during_a_trial_leaves_no_trial_run_running(isolated, conf):
    """A real process: Ctrl-C while a trial trains ends its run KILLED with ``trial.state``
    FAIL (as Optuna records it), not RUNNING."""
    args = [
        conf,
        "+study=fast",
        "study.n_trials=2",
        "regime.epochs=100000",
        "study.pruner=none",
        *EXTRAS,
    ]
    proc = start_cli(*args, cwd=isolated, stdout=subprocess.DEVNULL)
    try:

        def a_trial_running():
            return [
                r
                for r in runs_of(isolated, "fast")[1]
                if r.data.tags.get("trial.state") == "RUNNING"
            ]

        wait_for(a_trial_running, "a trial run tagged trial.state=RUNNING", proc=proc)
        proc.send_signal(signal.SIGINT)
        _, err = finish(proc, "the search to exit after SIGINT", WAIT)
    finally:
        stop(proc, timeout=0)
    assert proc.returncode == 130, err
    _, children = runs_of(isolated, "fast")
    states = [(r.info.status, r.data.tags.get("trial.state")) for r in children]
    assert states == [("KILLED", "FAIL")], states
    assert children[0].data.tags["trial.reason"] == "interrupted (KeyboardInterrupt)"
