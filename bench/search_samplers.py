"""TPE against random search at an equal budget, over several seeds (the main job's claim).

    python bench/search_samplers.py [--seeds 5] [--trials 80] [--study bayes] [extra overrides]

Runs ``+study=<study>`` with ``study.sampler=tpe`` and ``study.sampler=random`` for seeds
0..S-1 (the sampler seed; every trial trains with the same root seed, so samplers are
compared on their choices only), each in a fresh temporary project, and prints per sampler
the median and spread (min..max) of the best val/acc and of that trial's test/acc, plus the
untuned default config's test/acc (``python -m research.run``) as the reference. Ratios are
against that reference run in the same process.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import optuna

from research.run import main
from research.search.storage import open_storage


def run_study(sampler: str, seed: int, trials: int, study: str, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as root:
        os.environ["RESEARCH_ROOT"] = root
        args = [f"+study={study}", f"study.sampler={sampler}", f"study.seed={seed}"]
        args += [f"study.n_trials={trials}", *extra]
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(args)
        seconds = time.perf_counter() - started
        assert code == 0, f"{args} exited {code}"
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        s = optuna.load_study(study_name=study, storage=open_storage(None, Path(root), study))
        best = s.best_trial
        pruned = sum(t.state.name == "PRUNED" for t in s.trials)
        return {
            "val": best.value,
            "test": best.user_attrs["metrics"]["test/acc"],
            "seconds": seconds,
            "pruned": pruned / len(s.trials),
        }


def default_test_acc(extra: list[str]) -> float:
    with tempfile.TemporaryDirectory() as root:
        os.environ["RESEARCH_ROOT"] = root
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main([a for a in extra if not a.startswith("study.")]) == 0
        line = next(l for l in out.getvalue().splitlines() if "test/acc" in l)
        words = line.split()
        return float(words[words.index("test/acc") + 1])


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} [{min(values):.3f}..{max(values):.3f}]"


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=80)
    parser.add_argument("--study", default="bayes")
    args, extra = parser.parse_known_args(argv)
    reference = default_test_acc(extra)
    print(f"untuned default config (python -m research.run): test/acc {reference:.3f}")
    print(f"{args.study}, {args.trials} trials per study, sampler seeds 0..{args.seeds - 1}")
    print("sampler  best val/acc median [min..max]  its test/acc          test/ref  pruned  s")
    for sampler in ("tpe", "random"):
        rows = [run_study(sampler, s, args.trials, args.study, extra) for s in range(args.seeds)]
        tests = [r["test"] for r in rows]
        print(
            f"{sampler:7}  {spread([r['val'] for r in rows]):30}  {spread(tests):20}  "
            f"{statistics.median(tests) / reference:7.2f}x  "
            f"{statistics.median(r['pruned'] for r in rows):5.0%}  "
            f"{statistics.median(r['seconds'] for r in rows):.0f}"
        )


if __name__ == "__main__":
    run()
