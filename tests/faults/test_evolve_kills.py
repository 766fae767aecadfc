"""The kill campaign for evolution studies: real processes SIGKILLed at fixed points (the
``RESEARCH_FAULT`` hook: after the parent run exists, after a stage change, before and after a
checkpoint) and at random moments, then the same command rerun.

After every campaign the invariants hold for each kind (GA, CMA-ES, staging, ESP coevolution,
NSGA-II): one parent run, one run per stage, no run RUNNING, and every metric history, the
champion and the engine state bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import os
import random
import signal
import time
import zlib

import pytest

from research.evolve.runs import FAULT_POINTS
from tests.conftest import finish, run_cli
from tests.evolve.test_evolve_faults import KINDS, args_of, outcome, start, straight_run

pytestmark = pytest.mark.slow

RANDOM_KILLS = 3  # per kind, one after the other on the same study


def _kill_with_hook(args, root, fault) -> bool:
    proc = start(args, root, fault)
    _, err = finish(proc, f"the evolution to exit or be SIGKILLed by the fault hook {fault}")
    assert proc.returncode in (0, -signal.SIGKILL), err.decode()[-2000:]
    return proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("kind", list(KINDS))
def test_sigkills_of_an_evolution_leave_one_run_each_and_the_uninterrupted_result(tmp_path, kind):
    name = KINDS[kind][0].split("=")[1]
    args = args_of(kind)
    began = time.monotonic()
    reference = straight_run(tmp_path / "straight", kind)
    duration = time.monotonic() - began
    rng = random.Random(zlib.crc32(kind.encode()))
    counts = {"fixed": 0, "random": 0}

    # each fixed point, at a random occurrence, on a fresh study each, then the rerun
    for point in FAULT_POINTS:
        if point == "after_stage_change" and kind != "stage":
            continue
        root = tmp_path / f"fixed-{point}"
        root.mkdir()
        nth = {"after_parent": 1, "after_stage_change": rng.randint(1, 2)}.get(point)
        nth = nth or rng.randint(1, 4)  # the small staged study changes stage twice
        counts["fixed"] += _kill_with_hook(args, root, f"evolve:{point}:{nth}")
        done = run_cli(*args, cwd=root)
        assert done.returncode == 0, done.stderr
        assert outcome(root, name) == reference, (point, nth)

    # random moments (start-up, generations, MLflow writes, checkpoints), several kills in a
    # row on one study, then the rerun
    root = tmp_path / "random"
    root.mkdir()
    for _ in range(RANDOM_KILLS * 3):
        if counts["random"] >= RANDOM_KILLS:
            break
        proc = start(args, root)
        time.sleep(rng.uniform(0.3, 1.0) * duration)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            counts["random"] += 1
        proc.communicate()
        if proc.returncode == 0:  # it finished first: check it, start over on a fresh study
            assert outcome(root, name) == reference
            root = tmp_path / f"random-{counts['random']}-{rng.random():.6f}"
            root.mkdir()
    done = run_cli(*args, cwd=root)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert outcome(root, name) == reference
    print(f"{kind}: {counts['fixed']} kills at fixed points, {counts['random']} at random")
    assert counts["fixed"] + counts["random"] >= 5
