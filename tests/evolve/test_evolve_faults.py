"""Evolution studies under faults: one command per study (a lock naming its holder), and a
process SIGKILLed at a fixed point (``RESEARCH_FAULT``) leaves, after the rerun, one parent
run, one run per stage, none RUNNING, and results bit-identical to an uninterrupted run.

The helpers here also serve the slow kill campaign in ``tests/faults/test_evolve_kills.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from research.evolve import checkpoint
from research.evolve.runs import FAULT_POINTS, study_lock
from research.run import main
from research.search.storage import study_dir
from tests.conftest import finish, kill, run_cli, wait_for
from tests.mlflow_store import local_client

COMMON = ["study.stop_on_solve=false", "study.report=false"]
#: small configurations of each kind of evolution (a few seconds each)
KINDS = {
    "evolve": [
        "+study=evolve",
        "task.max_steps=300",
        "study.generations=8",
        "study.settings.pop=12",
    ],
    "cmaes": ["+study=cmaes", "task.max_steps=300", "study.generations=10"],
    "stage": [
        "+study=stage",
        "task.max_steps=100",
        "study.advance_at=60",
        "study.generations=12",
        "study.stage_generations=3",
        "study.settings.sigma0=1.0",
    ],
    "coevolve": [
        "+study=coevolve",
        "task.max_steps=300",
        "study.generations=6",
        "study.settings.subpop=6",
        "study.settings.trials=2",
    ],
    "pareto": [
        "+study=pareto",
        "task.max_steps=200",
        "study.generations=8",
        "study.settings.pop=12",
    ],
}


def args_of(kind: str) -> list[str]:
    return [*KINDS[kind], *COMMON]


def _hex(values) -> list[tuple[int, str]]:
    return [(m.step, float(m.value).hex()) for m in sorted(values, key=lambda m: m.step)]


def outcome(root: Path, name: str) -> dict:
    """Everything an evolution leaves, checked for the invariants on the way: exactly one
    parent run (FINISHED), at most one run per stage, no run RUNNING (deleted duplicates
    included). Returns what must equal an uninterrupted run's: every metric history of the
    parent and of each stage's run, the summary tags, the champion and the engine state."""
    client = local_client(root)
    exp = client.get_experiment_by_name(name)
    every = client.search_runs([exp.experiment_id], run_view_type=3, max_results=1000)
    running = [r.info.run_name for r in every if r.info.status == "RUNNING"]
    assert not running, f"runs left RUNNING: {running}"
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1, f"{len(parents)} parent runs"
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    assert all(c.data.tags["mlflow.parentRunId"] == parent.info.run_id for c in children)
    stages = [c.data.tags["stage"] for c in children]
    assert len(stages) == len(set(stages)), f"duplicate stage runs: {sorted(stages)}"

    def histories(run) -> dict:
        return {k: _hex(client.get_metric_history(run.info.run_id, k)) for k in run.data.metrics}

    state = checkpoint.load_latest(study_dir(root, name) / "checkpoints")[1]
    progress = state["progress"]
    return {
        "parent": histories(parent),
        "stages": {
            c.data.tags["stage"]: (c.info.status, histories(c))
            for c in sorted(children, key=lambda r: int(r.data.tags["stage"]))
        },
        "tags": {k: v for k, v in parent.data.tags.items() if k.startswith("evolve.")},
        "champion": None if progress.champion is None else progress.champion.tobytes().hex(),
        "progress": (progress.generation, progress.evals, progress.champion_fitness),
        "engine": json.dumps(state["engine"], default=str, sort_keys=True),
    }


def start(args: list[str], root: Path, fault: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "RESEARCH_ROOT": str(root)}
    env.pop("RESEARCH_FAULT", None)
    if fault:
        env["RESEARCH_FAULT"] = fault
    return subprocess.Popen(
        [sys.executable, "-m", "research.run", *args],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def killed_at(args: list[str], root: Path, fault: str) -> None:
    """Run the command until the fault hook SIGKILLs it."""
    proc = start(args, root, fault)
    _, err = finish(proc, f"the fault hook {fault} to SIGKILL the evolution")
    assert proc.returncode == -signal.SIGKILL, (fault, proc.returncode, err.decode()[-2000:])


def straight_run(root: Path, kind: str) -> dict:
    root.mkdir(parents=True, exist_ok=True)
    done = run_cli(*args_of(kind), cwd=root)
    assert done.returncode == 0, done.stderr
    return outcome(root, KINDS[kind][0].split("=")[1])


@pytest.fixture(scope="module")
def stage_reference(tmp_path_factory) -> dict:
    ref = straight_run(tmp_path_factory.mktemp("straight"), "stage")
    assert len(ref["stages"]) >= 2, "the small staged study must change stage"
    return ref


#: two points run by default (the parent's creation, a checkpoint being written); all four with
#: -m slow (the suite's time budget); the kill campaign covers random points too
DEFAULT_POINTS = ("after_parent", "before_checkpoint")


@pytest.mark.parametrize(
    "point",
    [p if p in DEFAULT_POINTS else pytest.param(p, marks=pytest.mark.slow) for p in FAULT_POINTS],
)
def test_a_kill_at_each_point_leaves_one_run_each_and_the_uninterrupted_result(
    tmp_path, stage_reference, point
):
    """Staged evolution killed once at each point (the second stage change, the 5th
    checkpoint, ...), then rerun: the same MLflow tree and numbers as without the kill."""
    nth = {"after_parent": 1, "after_stage_change": 2}.get(point, 5)
    killed_at(args_of("stage"), tmp_path, f"evolve:{point}:{nth}")
    assert main(args_of("stage")) == 0  # the rerun, in this process ($RESEARCH_ROOT=tmp_path)
    assert outcome(tmp_path, "stage") == stage_reference


def test_a_second_command_on_a_running_study_says_who_holds_it_and_exits(isolated, capsys):
    with study_lock(study_dir(isolated, "cmaes"), "cmaes"):
        assert main(args_of("cmaes")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: evolution study 'cmaes' is running in process ")
    assert f"process {os.getpid()} on host " in err[0] and "wait for it or stop it" in err[0]
    assert not (isolated / "mlruns").exists()  # MLflow untouched
    assert not (isolated / "studies" / "cmaes" / "checkpoints").exists()


def test_a_killed_holder_releases_the_lock_and_the_rerun_completes(tmp_path):
    """Two real processes: the second is refused while the first runs, naming its pid; once
    the first is SIGKILLed the same command resumes and completes."""
    long = [*args_of("cmaes"), "study.generations=100000"]
    holder = start(long, tmp_path)
    lock = tmp_path / "studies" / "cmaes" / "evolve.lock"

    def holding() -> bool:
        """A checkpoint complete on disk (loads and verifies) and the lock naming its holder."""
        ckpt = checkpoint.load_latest(lock.parent / "checkpoints")
        return ckpt is not None and json.loads(lock.read_text())["pid"] == holder.pid

    try:
        wait_for(holding, "the first evolution's first checkpoint and its lock", proc=holder)
        second = run_cli(*long, cwd=tmp_path)
        assert second.returncode == 2
        err = second.stderr.strip().splitlines()
        assert len(err) == 1 and f"running in process {holder.pid} on host" in err[0], err
    finally:
        kill(holder)
        holder.wait()
    done = run_cli(*args_of("cmaes"), cwd=tmp_path)  # fewer generations: ends at once
    assert done.returncode == 0, done.stderr
    outcome(tmp_path, "cmaes")  # one parent, nothing RUNNING


def test_a_bad_fault_hook_is_one_line(isolated, capsys, monkeypatch):
    monkeypatch.setenv("RESEARCH_FAULT", "evolve:nowhere")
    assert main(args_of("cmaes")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "RESEARCH_FAULT" in err[0]


def test_duplicate_runs_left_running_are_ended_and_deleted_by_the_rerun(isolated, capsys):
    """A second parent run of the same evolution and a second run of a stage, both RUNNING
    (what older versions left after such kills): the rerun keeps the checkpoint's parent and
    the stage's first run, ends the duplicates KILLED and deletes them."""
    args = args_of("stage")
    assert main(args) == 0
    client = local_client(isolated)
    exp = client.get_experiment_by_name("stage")
    (parent,) = client.search_runs([exp.experiment_id], "tags.`study.kind` = 'evolve'")
    tags = {k: v for k, v in parent.data.tags.items() if not k.startswith("mlflow.")}
    orphan = client.create_run(exp.experiment_id, tags=tags, run_name="stage")  # RUNNING
    client.create_run(  # a duplicate of stage 1, RUNNING
        exp.experiment_id,
        tags={"mlflow.parentRunId": parent.info.run_id, "stage": "1"},
        run_name="stage-1",
    )
    assert main([*args, "study.generations=13"]) == 0
    result = outcome(isolated, "stage")  # one parent, one run per stage, none RUNNING
    assert result["progress"][0] == 13
    assert client.get_run(orphan.info.run_id).info.status == "KILLED"
