"""Where an evolution's time goes, per task: is the fitness evaluation worth compiling?

    python bench/task_share.py [--tasks xor classify regress pole_single] [--max-evals 5000]

Runs ``+study=evolve`` (GA, population 50) on each task in a fresh temporary project under
cProfile and prints the wall time of the evolution loop, the share spent in the task's
``evaluate`` and, inside it, the share in the population forward pass (numpy affine maps /
matmul). A task is worth a compiled kernel when ``evaluate`` is a large share and the
forward pass a small share of it (per-step Python/numpy overhead, as the pole tasks were);
when the forward pass dominates, the work is already in BLAS.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import tempfile

from research.run import main

SETUPS = {
    "xor": ["task=xor"],
    "classify": ["task=classify", "task.data=digits", "model.hidden=[16]"],
    "regress": ["task=regress"],
    "pole_single": ["task=pole_single"],
}


def cumulative(stats: pstats.Stats, name: str, path_part: str) -> float:
    return max(
        (v[3] for k, v in stats.stats.items() if k[2] == name and path_part in k[0]),
        default=0.0,
    )


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(SETUPS))
    parser.add_argument("--max-evals", type=int, default=5000)
    args = parser.parse_args(argv)
    print(f"{'task':12} {'loop s':>7} {'evaluate':>9} {'forward/evaluate':>17}")
    for task in args.tasks:
        with tempfile.TemporaryDirectory() as root:
            os.environ["RESEARCH_ROOT"] = root
            overrides = ["+study=evolve", *SETUPS[task], "study.report=false"]
            overrides.append(f"study.max_evals={args.max_evals}")
            profile = cProfile.Profile()
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                assert profile.runcall(main, overrides) == 0
            stats = pstats.Stats(profile)
            loop = cumulative(stats, "run_study", "evolve/driver")
            evaluate = max(cumulative(stats, "evaluate", "tasks"), 1e-9)
            forward = max(
                cumulative(stats, "forward", "tasks/base"),
                cumulative(stats, "mlp_forward_population", "population"),
                cumulative(stats, "run_episodes", "tasks/balance"),
            )
            print(
                f"{task:12} {loop:7.2f} {evaluate / loop:9.0%} {forward / evaluate:17.0%}",
                flush=True,
            )


if __name__ == "__main__":
    run()
