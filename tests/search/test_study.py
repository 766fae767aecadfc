"""Search studies end to end: real Optuna journal storage, real MLflow store, real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState

from research.run import main
from research.search.storage import open_storage
from tests.conftest import finish, run_cli, wait_for
from tests.mlflow_store import local_client


def client_for(root: Path) -> MlflowClient:
    return local_client(root)


def load(root: Path, name: str) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=name, storage=open_storage(None, root, name))


def study_runs(root: Path, name: str):
    client = client_for(root)
    exp = client.get_experiment_by_name(name)
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return client, parents, children


def test_a_small_study_logs_a_parent_and_one_child_per_trial_in_optunas_states(
    isolated, capsys, conf
):
    args = [conf, "+study=fast", "study.name=random", "study.sampler=random"]
    args += ["study.n_trials=6", "study.pruner=median"]
    args += ["study.prune_after_trials=1", "study.prune_after_epochs=1", "regime.epochs=6"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "study 'random': " in out and "retrain trial" in out
    study = load(isolated, "random")
    trials = study.get_trials()
    assert len(trials) == 6
    client, parents, children = study_runs(isolated, "random")
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    parent = parents[0]
    assert parent.data.tags["sampler"] == "random" and "git.commit" in parent.data.tags
    assert json.loads(parent.data.tags["space"])["regime.lr"] == "tag(log, interval(1e-4, 0.3))"
    by_number = {int(r.data.tags["trial.number"]): r for r in children}
    assert sorted(by_number) == [t.number for t in trials]
    for t in trials:
        run = by_number[t.number]
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.info.run_id == t.user_attrs["mlflow_run_id"]
        assert run.data.tags["trial.state"] == t.state.name
        assert run.info.status == ("FAILED" if t.state == TrialState.FAIL else "FINISHED")
        assert float(run.data.params["regime.lr"]) == pytest.approx(t.params["regime.lr"])
        if t.state == TrialState.COMPLETE:
            assert run.data.metrics["val/acc"] == pytest.approx(t.value)
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned, "a wide lr range with a median pruner after 1 trial prunes some trials"
    for t in pruned:
        curve = client.get_metric_history(t.user_attrs["mlflow_run_id"], "val/acc")
        last = max(t.intermediate_values)
        assert 1 <= last < 6 and max(m.step for m in curve) == last  # a partial curve
    best = client.get_metric_history(parent.info.run_id, "best/val/acc")
    assert [m.value for m in sorted(best, key=lambda m: m.step)][-1] == pytest.approx(
        study.best_value
    )
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"trials.csv", "figures"} <= artifacts
    figures = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert "figures/history.png" in figures
    assert (isolated / "studies" / "random" / "trials.csv").is_file()


def test_a_diverging_trial_fails_with_its_reason_and_the_study_goes_on(isolated, capsys, conf):
    assert main([conf, "+study=diverging", "study.n_trials=2"]) == 0, capsys.readouterr().err
    trials = load(isolated, "diverging").get_trials()
    states = {t.params["regime.lr"]: t.state for t in trials}
    assert states == {0.1: TrialState.COMPLETE, 1e12: TrialState.FAIL}
    failed = next(t for t in trials if t.state == TrialState.FAIL)
    assert "became" in failed.user_attrs["fail_reason"]
    _, _, children = study_runs(isolated, "diverging")
    failed_run = next(r for r in children if r.info.status == "FAILED")
    assert "became" in failed_run.data.tags["status.reason"]


@pytest.mark.slow  # the resumed-vs-straight test below covers it by default (suite time)
def test_a_sequential_seeded_study_gives_the_same_trials_twice(tmp_path, monkeypatch, capsys, conf):
    results = []
    for name in ("a", "b"):
        root = tmp_path / name
        root.mkdir()
        monkeypatch.setenv("RESEARCH_ROOT", str(root))
        assert main([conf, "+study=fast", "study.n_trials=5", "seed=3"]) == 0
        trials = load(root, "fast").get_trials()
        results.append([(t.number, t.state, t.params, t.values) for t in trials])
    assert results[0] == results[1]
    assert len({json.dumps(p, sort_keys=True) for _, _, p, _ in results[0]}) == 5


def test_the_pareto_front_in_optuna_equals_the_one_logged_to_mlflow(isolated, capsys):
    args = ["+study=pareto_search", "data=spirals", "study.n_trials=8", "regime.epochs=2"]
    args += ["study.n_startup_trials=4"]
    assert main(args) == 0, capsys.readouterr().err
    study = load(isolated, "pareto_search")
    front = sorted(t.number for t in study.best_trials)
    client, parents, children = study_runs(isolated, "pareto_search")
    path = client.download_artifacts(parents[0].info.run_id, "pareto_front.json")
    logged = json.loads(Path(path).read_text())
    assert logged["metrics"] == ["val/acc", "n_params"]
    assert sorted(p["trial"] for p in logged["front"]) == front
    tagged = sorted(int(r.data.tags["trial.number"]) for r in children if "pareto" in r.data.tags)
    assert tagged == front
    for point in logged["front"]:
        trial = study.trials[point["trial"]]
        assert point["values"] == trial.values
        run = client.get_run(point["run_id"])
        assert run.data.metrics["n_params"] == trial.values[1]


def test_changing_the_space_of_an_existing_study_is_refused_unless_asked(isolated, capsys, conf):
    assert main([conf, "+study=fast", "study.n_trials=1"]) == 0
    capsys.readouterr()
    changed = [conf, "+study=fast_lr", "study.n_trials=2"]
    assert main(changed) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "allow_space_change" in err[0] and "regime.lr" in err[0]
    assert len(load(isolated, "fast").trials) == 1
    assert main([*changed, "study.allow_space_change=true"]) == 0
    assert len(load(isolated, "fast").trials) == 2
    capsys.readouterr()
    linear = [conf, "+study=fast_linear", "study.n_trials=3", "study.allow_space_change=true"]
    assert main(linear) == 2  # Optuna cannot mix a log and a linear scale in one study
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another study.name" in err[0]
    assert len(load(isolated, "fast").trials) == 2


def test_a_study_killed_mid_trial_resumes_to_exactly_n_trials(isolated, conf):
    args = [conf, "+study=fast", "study.n_trials=4", "regime.epochs=1500", "study.pruner=none"]
    env = {**os.environ, "RESEARCH_ROOT": str(isolated)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "research.run", *args],
        cwd=isolated,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # kill while trial 1 is training (trial 0 finished, so the study is mid-way)
        wait_for(
            lambda: "mlflow_run_id" in load(isolated, "fast").trials[1].user_attrs,
            "trial 1 to start training (its MLflow run in the journal)",
            proc=proc,
        )
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed = load(isolated, "fast").trials
    assert killed[-1].state == TrialState.RUNNING  # left behind by the dead process
    done = run_cli(*args, cwd=isolated)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    trials = load(isolated, "fast").trials
    crashed = [t for t in trials if "crashed" in t.user_attrs]
    assert len(crashed) == 1 and crashed[0].state == TrialState.FAIL
    counted = [t for t in trials if not t.user_attrs.get("retried")]
    assert len(counted) == 4 and all(t.state.is_finished() for t in trials)
    retry = [t for t in trials if t.user_attrs.get("retry_of") == crashed[0].number]
    assert len(retry) == 1 and retry[0].params == crashed[0].params
    _, parents, children = study_runs(isolated, "fast")
    assert [r.info.status for r in parents] == ["FINISHED"]
    assert not [r for r in children if r.info.status == "RUNNING"]
    assert len(children) == len(trials)
    crashed_run = next(r for r in children if r.data.tags["trial.number"] == str(crashed[0].number))
    assert crashed_run.info.status == "FAILED" and "died" in crashed_run.data.tags["status.reason"]


def test_two_workers_share_one_study_without_losing_or_repeating_a_trial(isolated, conf):
    args = [conf, "+study=fast", "study.n_trials=6", "study.workers=2"]
    done = run_cli(*args, cwd=isolated)
    assert done.returncode == 0, done.stderr
    assert "locked" not in done.stderr and "Traceback" not in done.stderr
    trials = load(isolated, "fast").trials
    assert len(trials) == 6 and sorted(t.number for t in trials) == list(range(6))
    assert all(t.state.is_finished() for t in trials)
    workers = {t.user_attrs["worker"].split(":")[1] for t in trials}
    assert len(workers) == 2, "both worker processes ran trials"
    _, parents, children = study_runs(isolated, "fast")
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert sorted(int(r.data.tags["trial.number"]) for r in children) == list(range(6))
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("+study=unknown_key", "model.nosuch"),
        ("study.params={regime.lr:'interval(0.5, 0.1)'}", "low 0.5 > high 0.1"),
        ("study.params={regime.lr:'tag(log, interval(0, 0.1))'}", "log scale needs low > 0"),
        ("study.params={regime.lr:'uniform(0, 1)'}", "regime.lr"),
        ("+study=unknown_option", "nosuch"),
        ("study.params={regime.lr:'choice(0.1, -1)'}", "regime.lr=-1"),
        ("study.sampler=nosuch", "sampler"),
        ("study.pruner=nosuch", "pruner"),
        ("study.n_trials=0", "n_trials"),
        ("study.workers=0", "workers"),
        ("study.name=../escape", "study.name"),
        ("study.objectives={val/acc: up}", "maximize"),
        ("+study=unknown_metric", "val/nosuch"),
        ("study.sampler=grid", "grid"),
        pytest.param(
            "study.sampler=cmaes",
            "cmaes",
            marks=pytest.mark.skipif(
                find_spec("cmaes") is not None, reason="the optional cmaes extra is installed"
            ),
        ),
    ],
)
def test_a_bad_study_is_one_line_before_anything_exists(isolated, capsys, conf, override, expected):
    args = [conf, override] if override.startswith("+study=") else ["+study=bayes", override]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not (isolated / "studies").exists()
    assert not (isolated / "mlruns").exists()


def test_an_accuracy_objective_on_regression_data_is_refused(isolated, capsys):
    assert main(["+study=bayes", "data=sine", "model.output=linear", "model.cost=quadratic"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "val/rmse" in err[0]


def test_ctrl_c_stops_a_study_cleanly_and_a_rerun_finishes_it(isolated, conf):
    args = [conf, "+study=fast", "study.n_trials=2", "regime.epochs=2000", "study.pruner=none"]
    env = {**os.environ, "RESEARCH_ROOT": str(isolated)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "research.run", *args],
        cwd=isolated,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: "mlflow_run_id" in load(isolated, "fast").trials[0].user_attrs,
            "trial 0 to start training (its MLflow run in the journal)",
            proc=proc,
        )
        proc.send_signal(signal.SIGINT)  # trial 0 is training (2000 epochs: seconds)
        _, err = finish(proc, "the study to exit after Ctrl-C (SIGINT)")
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "rerun the command to resume" in err
    trials = load(isolated, "fast").trials
    assert trials[0].state == TrialState.FAIL and "interrupted" in trials[0].user_attrs["crashed"]
    assert trials[1].state == TrialState.WAITING  # its retry, queued with the same params
    _, parents, children = study_runs(isolated, "fast")
    assert [r.info.status for r in parents] == ["KILLED"]
    assert [r.info.status for r in children] == ["KILLED"]
    done = run_cli(*args, cwd=isolated)
    assert done.returncode == 0, done.stderr
    trials = load(isolated, "fast").trials
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]
    assert trials[1].params == trials[0].params
    _, parents, _ = study_runs(isolated, "fast")
    assert [r.info.status for r in parents] == ["FINISHED"]


def test_a_study_resumed_in_two_commands_gives_the_trials_of_one_command(
    tmp_path, monkeypatch, capsys, conf
):
    def trials(root: Path, *counts: int):
        root.mkdir()
        monkeypatch.setenv("RESEARCH_ROOT", str(root))
        for n in counts:
            assert main([conf, "+study=fast", f"study.n_trials={n}", "regime.epochs=2"]) == 0
        return [(t.params, t.values, t.state) for t in load(root, "fast").trials]

    assert trials(tmp_path / "resumed", 3, 6) == trials(tmp_path / "straight", 6)


@pytest.mark.parametrize(
    "setting",
    [
        # qmc and hyperband share their paths with random and halving: -m slow runs them
        pytest.param(["study.sampler=qmc"], marks=pytest.mark.slow),
        ["study.sampler=random"],
        ["study.sampler=nsga2", "study.pruner=none"],
        ["study.sampler=grid", "study.params={regime.lr:'choice(0.001, 0.01)'}"],
        ["study.pruner=percentile"],
        ["study.pruner=halving"],
        pytest.param(["study.pruner=hyperband"], marks=pytest.mark.slow),
        ["study.pruner=none"],
    ],
)
def test_every_sampler_and_pruner_runs_a_small_study(isolated, capsys, conf, setting):
    # n_trials=6 > the grid's 2 x 2 points: a grid study stops when it has covered them
    args = [conf, "+study=fast", "study.n_trials=6", "regime.epochs=3", *setting]
    assert main(args) == 0, capsys.readouterr().err
    trials = load(isolated, "fast").trials
    assert all(t.state.is_finished() for t in trials)
    if "study.sampler=grid" in setting:
        points = {(t.params["model.hidden"], t.params["regime.lr"]) for t in trials}
        assert len(trials) == 4 and len(points) == 4
    else:
        assert len(trials) == 6


def test_a_search_can_tune_an_evolution_each_trial_being_an_evolution(isolated, capsys):
    args = ["+study=tune_evolve", "study.n_trials=3", "study.n_startup_trials=2"]
    args += ["study.overrides=['task=pole_single','study.max_evals=400','study.report=false']"]
    assert main(args) == 0, capsys.readouterr().err
    assert "retrain trial" in capsys.readouterr().out
    trials = load(isolated, "tune_evolve").trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
    client, parents, children = study_runs(isolated, "tune_evolve")
    for t in trials:
        run = next(r for r in children if r.info.run_id == t.user_attrs["mlflow_run_id"])
        assert run.data.params["study.algorithm"] == "cmaes"
        assert float(run.data.params["study.settings.sigma0"]) == pytest.approx(
            t.params["study.settings.sigma0"]
        )
        curve = client.get_metric_history(run.info.run_id, "fitness/best")
        assert len(curve) >= 1  # one point per generation of the inner evolution
        assert t.value == run.data.metrics["evals_to_solve"] <= 400 + 20


def test_an_inner_study_that_is_not_an_evolution_is_refused(isolated, capsys):
    assert main(["+study=tune_evolve", "study.inner=bayes"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "evolve study" in err[0]


def test_a_rerun_says_resume_or_complete_and_leaves_a_finished_study_untouched(
    isolated, capsys, conf
):
    args = [conf, "+study=fast", "regime.epochs=2"]
    assert main([*args, "study.n_trials=2"]) == 0
    assert "resuming" not in capsys.readouterr().err
    assert main([*args, "study.n_trials=3"]) == 0
    assert "resuming study 'fast' at trial 3/3" in capsys.readouterr().err
    report = isolated / "studies" / "fast" / "report.html"
    written = report.stat().st_mtime_ns
    _, parents, children = study_runs(isolated, "fast")
    assert main([*args, "study.n_trials=3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("study 'fast' is complete (3/3); raise study.n_trials to extend it")
    assert "best" in out  # the table is shown again
    assert report.stat().st_mtime_ns == written  # report, figures, runs left as they were
    _, parents_after, children_after = study_runs(isolated, "fast")
    assert [p.info.status for p in parents_after] == ["FINISHED"]
    assert parents_after[0].info.end_time == parents[0].info.end_time
    assert len(children_after) == len(children) == 3
