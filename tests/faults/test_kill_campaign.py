"""The fault campaign: real processes killed for real, then the same command rerun.

After every fault the invariants hold: rerunning the command completes the study, exactly
``n_trials`` trials count, numbers are unique, no trial stays RUNNING in Optuna, no run stays
RUNNING in MLflow, and every trial has its run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from research.search.storage import open_storage
from tests.conftest import WAIT, run_cli
from tests.search.test_study import study_runs

pytestmark = pytest.mark.slow


def _running(root: Path, group: int) -> bool:
    """Whether a process of ``group`` (the study's process group) is running a trial."""
    try:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.load_study(study_name="fast", storage=open_storage(None, root, "fast"))
    except Exception:  # noqa: BLE001 - not created yet
        return False
    for t in study.get_trials(deepcopy=False):
        pid = t.user_attrs.get("worker", "::").split(":")[1]
        if t.state.name == "RUNNING" and pid.isdigit():
            try:
                if os.getpgid(int(pid)) == group:
                    return True
            except ProcessLookupError:
                continue
    return False


def check_invariants(root: Path, n_trials: int) -> dict[str, int]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="fast", storage=open_storage(None, root, "fast"))
    trials = study.trials
    counted = [t for t in trials if not t.user_attrs.get("retried")]
    assert len(counted) == n_trials, [(t.number, t.state, t.user_attrs) for t in trials]
    assert len({t.number for t in trials}) == len(trials)
    assert all(t.state.is_finished() for t in trials), "a trial stayed RUNNING/WAITING"
    _, parents, children = study_runs(root, "fast")
    assert [r.info.status for r in parents] == ["FINISHED"]
    assert not [r.info.run_id for r in children if r.info.status == "RUNNING"]
    by_number = {int(r.data.tags["trial.number"]): r for r in children}
    for t in trials:
        if "mlflow_run_id" in t.user_attrs:
            assert by_number[t.number].info.run_id == t.user_attrs["mlflow_run_id"]
    assert set(by_number) >= {t.number for t in trials if t.state.name != "FAIL"}
    return {"trials": len(trials), "crashed": sum(1 for t in trials if "crashed" in t.user_attrs)}


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkills_at_random_points_lose_no_trial(isolated, conf, workers):
    """SIGKILL the study's whole process group at random moments (during training, during
    MLflow and Optuna writes, during start-up), 12 times per worker setting (20+ in all),
    rerunning the same command each time; then let it finish and check every count."""
    n_trials = 40
    args = [conf, "+study=fast", f"study.n_trials={n_trials}", f"study.workers={workers}"]
    args += ["regime.epochs=600", "study.retry_crashed=100"]
    env = {**os.environ, "RESEARCH_ROOT": str(isolated)}
    rng = random.Random(workers)
    kills = attempts = 0
    while kills < 12 and attempts < 30:
        attempts += 1
        proc = subprocess.Popen(
            [sys.executable, "-m", "research.run", *args],
            cwd=isolated,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        # wait until a trial runs, then kill at a random moment of it: training, the end-of-
        # trial MLflow batch, Optuna's tell, the next ask — or start-up, for the first kill;
        # no trial running by then (or the study done) is no failure: the kill lands elsewhere
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and proc.poll() is None and kills > 0:
            if _running(isolated, proc.pid):
                break
            time.sleep(0.1)
        time.sleep(rng.uniform(0.0, 2.0) if kills else rng.uniform(0.5, 4.0))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
    done = run_cli(*args, cwd=isolated, timeout=2 * WAIT)  # 40 trials
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    stats = check_invariants(isolated, n_trials)
    print(f"workers={workers}: {kills} SIGKILLs, {stats}")
    assert kills >= 10 and stats["crashed"] >= 3, "the kills must hit running trials"
