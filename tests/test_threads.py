"""BLAS threads: the ``blas_threads`` setting reaches the main process, every search worker and
every evolution pool process, and every run records the count in effect (read back from the
library) with what numerics depend on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from research import threads
from research.config import compose, validate
from research.run import main
from research.search.spec import build_spec
from tests.conftest import run_cli
from tests.mlflow_store import local_client

# 3 is nobody's default on a 2-core machine: a run showing it got the setting
PINNED = 3


@pytest.fixture(autouse=True)
def restore_blas():
    yield
    threads.apply(None)  # in-process runs pin this (the test) process: give it back


def runs_of(root: Path, experiment: str):
    client = local_client(root)
    exp = client.get_experiment_by_name(experiment)
    return client.search_runs([exp.experiment_id], max_results=1000)


def test_auto_pins_one_thread_per_process_and_null_leaves_blas_default():
    threads.apply(None)  # whatever an earlier in-process run pinned is undone...
    original = threads.in_effect()  # ...leaving BLAS's default
    assert threads.resolve("auto", 1) == threads.AUTO_SINGLE
    assert threads.resolve("auto", 2) == 1
    assert threads.resolve(None, 2) is None and threads.resolve(4, 1) == 4
    threads.apply(PINNED)
    assert threads.in_effect() == PINNED and threads.tags()["blas.threads"] == str(PINNED)
    threads.apply(None)
    assert threads.in_effect() == original


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "true"])
def test_a_bad_blas_threads_value_is_one_line_and_exit_2(isolated, capsys, value):
    assert main(["regime.epochs=1", f"blas_threads={value}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: blas_threads="), err
    assert value in err[0] or value.title() in err[0]  # 'abc', 1.5, True
    assert "is not allowed: auto, null" in err[0]
    assert not (isolated / "mlruns").exists()


def test_a_training_run_is_tagged_with_its_blas_threads_library_numpy_and_cpu(isolated):
    args = ["data=spirals", "regime.epochs=1", f"blas_threads={PINNED}"]
    assert main(args) == 0
    (run,) = runs_of(isolated, "train")
    tags = run.data.tags
    assert tags["blas.threads"] == str(PINNED) and tags["blas.threads.setting"] == str(PINNED)
    assert tags["blas.library"] and tags["blas.library"] != "none"
    assert tags["versions.numpy"] == np.__version__
    assert tags["cpu.model"] and tags["cpu.count"].isdigit()


@pytest.mark.parametrize(
    ("setting", "expected"),
    [  # a pinned count is the same path as auto's: kept for -m slow (the suite's time budget)
        pytest.param(str(PINNED), str(PINNED), marks=pytest.mark.slow),
        ("auto", "1"),
    ],
)
def test_the_setting_reaches_every_search_worker_process(isolated, conf, setting, expected):
    """``study.workers=2``: each trial run carries the BLAS threads its worker process read
    back from the library; both workers ran trials, all show the setting."""
    args = [conf, "+study=fast", "study.n_trials=6", "study.workers=2", "study.report=false"]
    done = run_cli(*args, f"blas_threads={setting}", cwd=isolated)
    assert done.returncode == 0, done.stderr
    runs = runs_of(isolated, "fast")
    trials = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(trials) == 6
    workers = {r.data.tags["worker"] for r in trials}
    assert len(workers) == 2, "both worker processes ran trials"
    assert {r.data.tags["blas.threads"] for r in trials} == {expected}
    assert {r.data.tags["blas.threads.setting"] for r in trials} == {setting}
    assert parent.data.tags["blas.threads"] == expected  # the main process


@pytest.mark.parametrize(
    ("setting", "expected"),
    [  # a pinned count is the same path as auto's: kept for -m slow (the suite's time budget)
        pytest.param(str(PINNED), str(PINNED), marks=pytest.mark.slow),
        ("auto", "1"),
    ],
)
def test_the_setting_reaches_every_evolution_pool_process(isolated, capsys, setting, expected):
    """``study.processes=2``: each pool process pins BLAS in its initializer and reports the
    count it reads back; the parent run records all of them."""
    args = ["+study=evolve", "task=xor", "study.processes=2", "study.generations=2"]
    assert main([*args, "study.report=false", f"blas_threads={setting}"]) == 0
    (parent,) = runs_of(isolated, "evolve")
    assert parent.data.tags["blas.threads"] == expected
    assert parent.data.tags["blas.threads.pool"].split(",") == [expected, expected]


def test_blas_threads_is_how_a_study_runs_not_what_it_is(tmp_path):
    """Like ``study.workers``, a resume may change it: it is not in the study's signature."""
    args = ["+study=bayes", "blas_threads=1"]
    cfg = compose(args)
    spec = build_spec(cfg, validate(cfg), args, tmp_path)
    assert "blas_threads=1" in spec.base_overrides  # trials run with it...
    assert "blas_threads=1" not in spec.signature()["overrides"]  # ...but may change on resume
