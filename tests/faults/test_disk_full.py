"""A full disk during a study (a small tmpfs as the project root): the study stops with one
line, and once space is freed the same command completes it with exact counts."""

from __future__ import annotations

import os
import subprocess

import optuna
import pytest

from research.search.storage import open_storage
from tests.conftest import run_cli
from tests.search.test_study import study_runs

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4M", "tmpfs", str(disk)])
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_stops_the_study_cleanly_and_a_rerun_completes_it(small_disk, conf):
    n_trials = 150
    args = [conf, "+study=fast", f"study.n_trials={n_trials}", "study.pruner=none"]
    args.append("study.report=false")
    full = run_cli(*args, cwd=small_disk)
    assert full.returncode == 1, full.stderr[-2000:]
    lines = full.stderr.strip().splitlines()
    assert "Traceback" not in full.stderr
    assert lines[-1].startswith("error: the disk is full") and "rerun the same command" in lines[-1]
    subprocess.run(["mount", "-o", "remount,size=400M", str(small_disk)], check=True)
    done = run_cli(*args, cwd=small_disk, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="fast", storage=open_storage(None, small_disk, "fast"))
    trials = study.trials
    counted = [t for t in trials if not t.user_attrs.get("retried")]
    assert len(counted) == n_trials and all(t.state.is_finished() for t in trials)
    blamed = [t for t in counted if "disk is full" in t.user_attrs.get("fail_reason", "")]
    assert not blamed, "a full disk is never counted as the config's failure"
    _, parents, children = study_runs(small_disk, "fast")
    assert [r.info.status for r in parents] == ["FINISHED"]
    assert not [r for r in children if r.info.status == "RUNNING"]
    print(f"{len(trials)} trials in all, {len(trials) - len(counted)} retried after the fault")
