"""Evaluations to solve the pole-balancing tasks, over seeds, against the published table.

    python bench/evolve_poles.py [--seeds 10] [--first-seed 0]
                                 [--tasks pole_single pole_double pole_double_nv] [overrides]

Runs each task's set-up below for seeds first..first+S-1, each in a fresh temporary project,
and prints per task the median evaluations to solve over all seeds (an unsolved seed counts
as infinite), the mean over the solved ones (generalisation tests not counted), how many
seeds solved within the budget, and the ratio to the best published method and to CMA-ES in
Gomez et al. 2008 (lower is better). The set-ups are the design's reference: CMA-ES (IPOP) on
bias-free tanh nets without a bias input (4-8-1 and 6-6-1 MLPs; without velocities the 3-3-1
Elman net of ``+study=cmaes_nv``), so every controller is odd-symmetric like the cart's
physics. Overrides go to every run: ``task.bias_input=0.5`` gives the literature's inputs,
``study.settings.sigma0=1.0`` another initial step, ``study.max_evals=20000`` a budget.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time

from research.report.evolve_report import PUBLISHED
from research.run import main

SETUPS = {
    "pole_single": ["+study=cmaes", "task=pole_single", "model.hidden=[8]", "task.bias_input=null"],
    "pole_double": ["+study=cmaes", "task=pole_double", "model.hidden=[6]", "task.bias_input=null"],
    "pole_double_nv": ["+study=cmaes_nv"],
}


def solve(task: str, seed: int, extra: list[str]) -> tuple[int | None, float]:
    with tempfile.TemporaryDirectory() as root:
        os.environ["RESEARCH_ROOT"] = root
        out = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main([*SETUPS[task], f"seed={seed}", "study.report=false", *extra])
        seconds = time.perf_counter() - started
        assert code == 0, out.getvalue()
        text = out.getvalue()
        if "solved after" not in text:
            return None, seconds
        return int(text.split("solved after ")[1].split()[0]), seconds


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--tasks", nargs="+", default=list(SETUPS))
    args, extra = parser.parse_known_args(argv)
    extra += [t for t in args.tasks if "=" in t]  # overrides written after --tasks
    args.tasks = [t for t in args.tasks if "=" not in t]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(
        f"seeds {seeds[0]}..{seeds[-1]}, overrides {' '.join(extra) or '(none)'}; "
        "evaluations to solve"
    )
    print(
        "task             solved  median   mean  [min..max]        best published   CMA-ES  s/run"
    )
    for task in args.tasks:
        runs = []
        for seed in seeds:
            runs.append(solve(task, seed, extra))
            print(
                f"  {task} seed {seed}: {runs[-1][0] or 'not solved'} evaluations, "
                f"{runs[-1][1]:.1f} s",
                flush=True,
            )
        evals = [e for e, _ in runs if e is not None]
        seconds = statistics.median(s for _, s in runs)
        best = min(PUBLISHED[task].values())
        if evals:  # an unsolved seed counts as infinitely many evaluations in the median
            med = statistics.median(e or float("inf") for e, _ in runs)
            mean = statistics.mean(evals)  # of the solved seeds
            print(
                f"{task:15}  {len(evals):2}/{len(runs):<2}  {med:6.0f} {mean:6.0f}  "
                f"[{min(evals)}..{max(evals)}]  {best:>8} ({mean / best:.2f}x)  "
                f"{PUBLISHED[task]['CMA-ES']:>6} ({mean / PUBLISHED[task]['CMA-ES']:.2f}x)  "
                f"{seconds:5.1f}"
            )
        else:
            print(f"{task:15}   0/{len(runs):<2}  not solved within the budget  {seconds:5.1f}")


if __name__ == "__main__":
    run()
