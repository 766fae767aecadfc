"""NSGA-II on ZDT1 (30 variables, pop 100, 25,000 evaluations) against the design's anchor.

    python bench/zdt1.py [--seeds 5] [--engine nsga2] [--evals 25000]

Runs the ``nsga2`` engine (DEAP's selNSGA2 + SBX + polynomial mutation, eta 20, cxpb 0.9,
indpb 1/30) for seeds 0..S-1 and prints, per seed and as the median, the hypervolume at the
reference point (1.1, 1.1) of ZDT1's minimised objectives — of the final population (what
DEAP's example reports; anchor 0.869) and of the all-time Pareto archive — as ratios to the
anchor 0.869 and to the analytic optimum 1.21 - 1/3 = 0.8767.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from research.evolve import make_engine

ANCHOR = 0.869  # DESIGN.md section 7: DEAP 1.4.4 NSGA-II, same budget
ANALYTIC = 1.21 - 1.0 / 3.0  # integral of the true front f2 = 1 - sqrt(f1) against (1.1, 1.1)


def zdt1(x: np.ndarray) -> np.ndarray:
    """f1 = x1, g = 1 + 9 mean(x2..n), f2 = g (1 - sqrt(f1 / g)); both minimised."""
    f1 = x[:, 0]
    g = 1 + 9 * x[:, 1:].mean(axis=1)
    return np.column_stack([f1, g * (1 - np.sqrt(f1 / g))])


def run(engine: str, seed: int, evals: int) -> tuple[float, float, float]:
    e = make_engine(
        engine, 30, np.random.default_rng(seed), pop=100, low=0.0, up=1.0, hv_ref=(-1.1, -1.1)
    )
    started, used = time.perf_counter(), 0
    while used < evals:
        x = e.ask()
        e.tell(-zdt1(x))  # engines maximise
        used += len(x)
    stats = e.stats()
    return stats["hypervolume/pop"], stats["hypervolume"], time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--engine", default="nsga2")
    parser.add_argument("--evals", type=int, default=25_000)
    args = parser.parse_args()
    pops, archives = [], []
    print(f"{args.engine} on ZDT1, 30 variables, pop 100, {args.evals} evaluations")
    print(f"anchor {ANCHOR} (DEAP 1.4.4), analytic {ANALYTIC:.4f}, reference point (1.1, 1.1)")
    for seed in range(args.seeds):
        hv_pop, hv_archive, seconds = run(args.engine, seed, args.evals)
        pops.append(hv_pop)
        archives.append(hv_archive)
        print(
            f"  seed {seed}: population HV {hv_pop:.4f} ({hv_pop / ANCHOR:.3f}x anchor), "
            f"archive HV {hv_archive:.4f} ({hv_archive / ANALYTIC:.3f}x analytic), "
            f"{seconds:.1f} s"
        )
    med_pop, med_archive = statistics.median(pops), statistics.median(archives)
    print(
        f"median population HV {med_pop:.4f} = {med_pop / ANCHOR:.3f}x anchor "
        f"({med_pop / ANALYTIC:.3f}x analytic); range {min(pops):.4f}..{max(pops):.4f}"
    )
    print(f"median archive HV {med_archive:.4f} = {med_archive / ANALYTIC:.3f}x analytic")


if __name__ == "__main__":
    main()
