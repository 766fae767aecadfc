"""Evolution studies end to end: the MLflow tree, staging, checkpoints and a resume after a
real SIGKILL that ends bit-identical to an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from research.evolve import checkpoint
from research.run import main
from tests.conftest import run_cli, wait_for
from tests.mlflow_store import local_client

SHORT = ["task.max_steps=500"]


def tree(root: Path, name: str):
    client = local_client(root)
    exp = client.get_experiment_by_name(name)
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return client, parents, children


def history(client, run_id, key):
    points = client.get_metric_history(run_id, key)
    return [(m.step, m.value) for m in sorted(points, key=lambda m: m.step)]


@pytest.mark.parametrize(
    ("study", "extra"),
    [
        ("evolve", ["study.generations=4", "study.settings.pop=12"]),
        ("cmaes", ["study.generations=4"]),
        ("cmaes_nv", ["study.generations=3", "task.generalisation_steps=100"]),
        ("coevolve", ["study.generations=3", "study.settings.subpop=6", "study.settings.trials=2"]),
        ("cosyne", ["study.generations=4", "study.settings.pop=12"]),
        ("cppn", ["study.generations=3"]),
        ("pareto", ["study.generations=4", "study.settings.pop=12", "task.max_steps=200"]),
        ("cascade", ["study.generations=4", "study.settings.pop=12", "task.max_steps=200"]),
        ("compete", ["study.generations=4", "task.data=xor", "model.hidden=[3]"]),
    ],
)
def test_each_evolution_kind_runs_small_and_leaves_its_mlflow_tree(isolated, capsys, study, extra):
    short = [] if study == "compete" else SHORT
    args = [f"+study={study}", *short, *extra, "study.stop_on_solve=false"]
    assert main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert f"evolution {study!r}" in out
    client, parents, children = tree(isolated, study)
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    parent = parents[0]
    generations = int(parent.data.tags["evolve.generations"])
    assert generations >= 3
    best = history(client, parent.info.run_id, "fitness/best")
    assert [s for s, _ in best] == list(range(1, generations + 1))
    evals = history(client, parent.info.run_id, "evals")
    assert all(b[1] > a[1] for a, b in zip(evals, evals[1:]))  # evaluations accumulate
    for key in ("fitness/mean", "fitness/std", "stage"):
        assert key in parent.data.metrics
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"champion.npz", "champion.json", "config.yaml"} <= artifacts
    champion = np.load(client.download_artifacts(parent.info.run_id, "champion.npz"))
    assert all(np.isfinite(v).all() for v in champion.values())
    if study in ("pareto", "cascade"):
        assert {"pareto_front.csv", "pareto_front.png"} <= artifacts
        assert "hypervolume" in parent.data.metrics
    assert list((isolated / "studies" / study / "checkpoints").glob("gen-*.ckpt"))


def test_without_velocities_only_each_generations_champion_is_tested(isolated, capsys):
    """The double pole without velocities, the design's reference set-up, made quick (shorter
    long test, fewer generalisation steps): solved through the champion's test, at most one
    network tested per generation, the tests not counted as evaluations."""
    args = ["+study=cmaes_nv", "task.max_steps=3000", "task.generalisation_steps=200"]
    assert main([*args, "study.report=false"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "solved after" in out and "generalisation:" in out
    client, parents, _ = tree(isolated, "cmaes_nv")
    parent = parents[0]
    assert parent.data.tags["evolve.solved"] == "True"
    assert int(parent.data.tags["evolve.generalisation"]) >= 200
    solved = history(client, parent.info.run_id, "solved")
    assert max(v for _, v in solved) == 1.0 and solved[-1][1] == 1.0  # stop_on_solve
    evals = history(client, parent.info.run_id, "evals")
    lambda_ = history(client, parent.info.run_id, "lambda")
    assert evals[-1][1] == int(parent.data.tags["evolve.solved_at_evals"])
    assert evals[0][1] == lambda_[0][1]  # one evaluation per network and generation


def test_staging_advances_on_its_rule_with_one_child_run_per_stage(isolated, capsys):
    args = ["+study=stage", "task.max_steps=300", "study.advance_at=300", "study.generations=60"]
    args += ["study.stage_generations=30", "study.backtrack=false"]
    assert main(args) == 0, capsys.readouterr().err
    client, parents, children = tree(isolated, "stage")
    parent = parents[0]
    stages = [int(v) for _, v in history(client, parent.info.run_id, "stage")]
    assert stages[0] == 0 and stages == sorted(stages), "stages only advance here"
    reached = max(stages)
    assert reached >= 1
    assert sorted(int(r.data.tags["stage"]) for r in children) == list(range(reached + 1))
    left = json.loads(parent.data.tags["evolve.stage_evals"])
    assert len(left) == reached and left == sorted(left)
    for run in children:
        task = json.loads(run.data.tags["stage.task"])
        assert task["short_length"] == [0.05, 0.10, 0.15][int(run.data.tags["stage"])]


def _ckpts(root: Path) -> list[Path]:
    return checkpoint.checkpoints(root / "studies" / "cmaes" / "checkpoints")


def test_a_resume_from_a_checkpoint_older_than_the_logged_metrics_logs_no_step_twice(
    tmp_path, monkeypatch
):
    """A process killed after flushing generation g's metrics but before writing checkpoint g
    resumes from g-1 and recomputes g: the store must still hold one point per step."""
    monkeypatch.setenv("RESEARCH_ROOT", str(tmp_path))
    args = ["+study=cmaes", "task.max_steps=300", "study.generations=12"]
    args += ["study.checkpoint_every=4", "study.stop_on_solve=false", "study.report=false"]
    assert main(args) == 0
    newest = _ckpts(tmp_path)[-1]
    newest.unlink()  # as if killed between the flush and this checkpoint
    assert checkpoint.load_latest(newest.parent)[0] == 8
    assert main(args) == 0
    client, parents, _ = tree(tmp_path, "cmaes")
    for key in ("fitness/best", "evals", "sigma"):
        steps = [step for step, _ in history(client, parents[0].info.run_id, key)]
        assert steps == list(range(1, 13)), key


def test_an_evolution_killed_and_resumed_ends_bit_identical_to_an_uninterrupted_one(tmp_path):
    """SIGKILLed from outside at whatever generation it has reached, then rerun: it ends where
    an uninterrupted run ends, bit for bit. The killed run is asked for far more generations
    than it can reach before the kill (a generation takes ~10 ms, so a 40-generation run could
    finish before the poll sees it); both finishing runs then stop a few generations past the
    kill (``generations`` may change on resume)."""
    base = ["+study=cmaes", "task=pole_double", "task.max_steps=2000", "model.hidden=[5]"]
    base += ["study.stop_on_solve=false", "study.settings.sigma0=0.3"]
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    straight.mkdir()
    resumed.mkdir()
    env = {**os.environ, "RESEARCH_ROOT": str(resumed)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "research.run", *base, "study.generations=1000000"],
        cwd=resumed,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    folder = resumed / "studies" / "cmaes" / "checkpoints"

    def third_checkpoint() -> bool:
        newest = checkpoint.load_latest(folder)  # complete on disk: it loads and verifies
        return newest is not None and newest[0] >= 3

    try:
        wait_for(third_checkpoint, "the evolution's checkpoint of generation 3", proc=proc)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL  # killed mid-run, not finished
    killed_at = checkpoint.load_latest(folder)[0]
    assert killed_at >= 3
    end = killed_at + 5
    args = [*base, f"study.generations={end}"]
    assert run_cli(*args, cwd=straight).returncode == 0
    done = run_cli(*args, cwd=resumed)
    assert done.returncode == 0, done.stderr
    a = checkpoint.load_latest(straight / "studies" / "cmaes" / "checkpoints")[1]
    b = checkpoint.load_latest(resumed / "studies" / "cmaes" / "checkpoints")[1]
    assert a["progress"].generation == b["progress"].generation == end
    assert np.array_equal(a["progress"].champion, b["progress"].champion)
    assert a["progress"].evals == b["progress"].evals
    assert json.dumps(a["engine"], default=str, sort_keys=True) == json.dumps(
        b["engine"], default=str, sort_keys=True
    )
    ca, pa, _ = tree(straight, "cmaes")
    cb, pb, _ = tree(resumed, "cmaes")
    for key in ("fitness/best", "fitness/mean", "evals"):
        assert history(ca, pa[0].info.run_id, key) == history(cb, pb[0].info.run_id, key)
    assert pb[0].info.status == "FINISHED"


def test_a_bad_evolution_setting_is_one_line_before_anything_exists(isolated, capsys):
    for args in (
        ["+study=cmaes", "study.algorithm=nosuch"],
        ["+study=cmaes", "study.settings.nosuch=1"],
        ["+study=cmaes", "study.encoding=nosuch"],
        ["+study=cmaes", "task.force=nosuch"],
        ["+study=cmaes", "task.max_steps=0"],
        ["+study=cmaes", "task=nosuch"],
        ["+study=cmaes", "model=rbf"],
        ["+study=cmaes", "study.objectives=[size]"],
        ["+study=coevolve", "study.encoding=cppn"],
    ):
        assert main(args) == 2, args
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: "), (args, err)
    assert not (isolated / "mlruns").exists() and not (isolated / "studies").exists()


def test_evaluation_spread_over_processes_gives_the_single_process_result(tmp_path, monkeypatch):
    """The population's evaluation in 2 worker processes (chunks of the population) ends in
    exactly the evolution of one process: same metrics every generation, same champion."""
    args = ["+study=cmaes", "task=pole_double", "task.max_steps=3000", "model.hidden=[5]"]
    args += ["study.generations=6", "study.stop_on_solve=false", "study.report=false"]
    results = []
    for processes in (1, 2):
        root = tmp_path / f"p{processes}"
        root.mkdir()
        monkeypatch.setenv("RESEARCH_ROOT", str(root))
        assert main([*args, f"study.processes={processes}"]) == 0
        state = checkpoint.load_latest(root / "studies" / "cmaes" / "checkpoints")[1]
        client, parents, _ = tree(root, "cmaes")
        curves = {k: history(client, parents[0].info.run_id, k) for k in ("fitness/best", "evals")}
        results.append((state["progress"].champion, state["progress"].evals, curves))
    assert np.array_equal(results[0][0], results[1][0])
    assert results[0][1:] == results[1][1:]


def test_competitive_coevolution_resumes_its_parasites_bit_identically():
    """Hosts meet parasites drawn by the task's own RNG, and the parasites evolve: the task's
    state_dict carries all of it, so a restored task scores the next generation exactly as the
    original does; and the parasites do drift toward examples the hosts get wrong."""
    from research.nn.mlp import MLP
    from research.nn.population import mlp_forward_population
    from research.tasks import make_task

    task = make_task("compete", data="spirals", data_params={"n_per_class": 40}, seed=1)
    net = MLP([2, 6, 2], ["tanh"], output="softmax", dtype="float64")
    rng = np.random.default_rng(0)
    thetas = rng.normal(size=(8, net.n_params))
    for _ in range(3):
        task.evaluate(net, thetas)
    twin = make_task("compete", data="spirals", data_params={"n_per_class": 40}, seed=1)
    twin.load_state_dict(task.state_dict())
    a, b = task.evaluate(net, thetas), twin.evaluate(net, thetas)
    assert np.array_equal(a.fitness, b.fitness)
    assert np.array_equal(task.parasites, twin.parasites)
    out = np.argmax(mlp_forward_population(net, thetas, task.x), axis=2)
    wrong = (out != task.y).mean(axis=0)
    assert wrong[task.parasites].mean() > wrong.mean()  # parasites hold harder examples


def test_a_finished_evolution_can_be_extended_but_not_changed(isolated, capsys):
    base = ["+study=cmaes", "task.max_steps=300", "study.stop_on_solve=false"]
    assert main([*base, "study.generations=3"]) == 0
    assert main([*base, "study.generations=5"]) == 0  # more generations: resumed
    client, parents, _ = tree(isolated, "cmaes")
    assert len(parents) == 1
    steps = [s for s, _ in history(client, parents[0].info.run_id, "fitness/best")]
    assert steps == [1, 2, 3, 4, 5]
    capsys.readouterr()
    assert main([*base, "study.generations=5", "model.hidden=[7]"]) == 2  # another network
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another study.name" in err[0]


def test_a_corrupt_last_checkpoint_falls_back_and_the_rerun_completes(isolated, capsys, caplog):
    args = ["+study=cmaes", "task.max_steps=300", "study.stop_on_solve=false"]
    assert main([*args, "study.generations=4"]) == 0
    newest = _ckpts(isolated)[-1]
    data = bytearray(newest.read_bytes())
    data[-5] ^= 0xFF  # a flipped byte near the end
    newest.write_bytes(bytes(data))
    assert main([*args, "study.generations=6"]) == 0
    assert "falling back" in caplog.text and newest.name in caplog.text
    client, parents, _ = tree(isolated, "cmaes")
    steps = [s for s, _ in history(client, parents[0].info.run_id, "fitness/best")]
    assert steps[-1] == 6 and sorted(set(steps)) == list(range(1, 7))
    assert parents[0].info.status == "FINISHED"
