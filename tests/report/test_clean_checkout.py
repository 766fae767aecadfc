"""Running README's main job in a fresh clone leaves ``git status`` clean (issue 14, item 2):
the study's report goes to the ignored ``studies/<name>/``, never over a tracked file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from research.track import tags as T
from research.track.reader import StoreReader
from research.track.store import resolve_store

TESTS = Path(__file__).resolve().parent


def _git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def _repo_root() -> Path | None:
    if shutil.which("git") is None:
        return None
    top = _git("rev-parse", "--show-toplevel", cwd=TESTS)
    return Path(top.stdout.strip()) if top.returncode == 0 else None


def test_the_main_job_leaves_a_fresh_clone_clean(tmp_path):
    repo = _repo_root()
    if repo is None:
        pytest.skip("the tests are not inside a git checkout (or git is not installed)")
    clone = tmp_path / "clone"
    cloned = _git("clone", "--quiet", str(repo), str(clone), cwd=tmp_path)
    assert cloned.returncode == 0, cloned.stderr
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update(RESEARCH_ROOT=str(clone), PYTHONUNBUFFERED="1")
    args = ["+study=bayes", "study.n_trials=2", "regime.epochs=1", "data=xor"]
    run = subprocess.run(
        [sys.executable, "-m", "research.run", *args],
        cwd=clone,  # `python -m` imports the clone's package: its git state is the clone's
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert (clone / "studies" / "bayes" / "report.md").is_file()  # the report was written...
    status = _git("status", "--porcelain", "--untracked-files=all", cwd=clone)
    assert status.stdout == "", f"the run changed the checkout:\n{status.stdout}"  # ...ignored
    parent = StoreReader(resolve_store("local", None, str(clone))).study("bayes").parent
    assert parent.tags[T.GIT_DIRTY] == "False"
