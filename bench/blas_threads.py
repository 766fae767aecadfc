"""Wall time with BLAS threads unpinned vs pinned to one per process (``blas_threads``).

    python bench/blas_threads.py [--trials 80] [--reps 2] [--cases alone neighbour workers evolve]

Each measurement is a fresh ``python -m research.run ...`` process in a fresh temporary project
(its own MLflow store and studies; the MNIST-1D cache is shared and generated once before any
timing), with no ``OMP_``/``OPENBLAS_``/``MKL_`` thread variables in its environment.
Unpinned is ``blas_threads=null`` (BLAS's own default: one thread per core), pinned is
``blas_threads=1``. Cases:

- ``alone``: the main job, ``+study=bayes`` (``--trials`` trials);
- ``neighbour``: the same beside a CPU-bound neighbour process (a plain Python busy loop, one
  core), started before and stopped after the run;
- ``workers``: the main job with ``study.workers=2``;
- ``evolve``: CMA-ES on the double pole with ``study.processes=2`` (the evaluation pool).

Runs are interleaved A B B A ... per case so that drift in the machine's load (other users)
cancels out; the table gives the median wall time per mode, the ratio pinned/unpinned, and the
``blas.threads`` tags the runs recorded (read back from the library in each process).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODES = {"unpinned": "blas_threads=null", "pinned": "blas_threads=1"}
THREAD_VARS = ("OMP_", "OPENBLAS_", "MKL_", "BLIS_", "VECLIB_", "NUMEXPR_")
EVOLVE = [
    "+study=cmaes",
    "task=pole_double",
    "model.hidden=[6]",
    "task.bias_input=null",
    "study.max_evals=3000",
    "study.stop_on_solve=false",
    "study.processes=2",
]


def cases(trials: int) -> dict[str, list[str]]:
    bayes = ["+study=bayes", f"study.n_trials={trials}"]
    return {
        "alone": bayes,
        "neighbour": bayes,
        "workers": [*bayes, "study.workers=2"],
        "evolve": EVOLVE,
    }


def clean_env(root: Path, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(THREAD_VARS)}
    env.update(RESEARCH_ROOT=str(root), RESEARCH_DATA_DIR=str(data), PYTHONUNBUFFERED="1")
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def busy() -> subprocess.Popen:
    """A CPU-bound neighbour: one core spinning in plain Python."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def thread_tags(root: Path) -> str:
    """The distinct ``blas.threads`` (and pool) tags the runs of this project recorded."""
    db = root / "mlruns" / "mlflow.db"
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "select key, value from tags where key in ('blas.threads', 'blas.threads.pool')"
        ).fetchall()
    values = sorted({f"{k.split('.')[-1]}={v}" for k, v in rows})
    return " ".join(values)


def measure(args: list[str], mode: str, data: Path, neighbour: bool) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        other = busy() if neighbour else None
        try:
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "research.run", *args, MODES[mode]],
                cwd=root,
                env=clean_env(root, data),
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - started
        finally:
            if other is not None:
                other.kill()
                other.wait()
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} {MODES[mode]} failed:\n{done.stderr[-2000:]}")
        return seconds, thread_tags(root)


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=80)
    parser.add_argument("--reps", type=int, default=2, help="runs per mode and case")
    parser.add_argument("--cases", nargs="+", default=["alone", "neighbour", "workers", "evolve"])
    opts = parser.parse_args(argv)
    table = cases(opts.trials)
    print(
        f"{os.cpu_count()} cores; unpinned = {MODES['unpinned']}, pinned = {MODES['pinned']}; "
        f"{opts.reps} runs per mode, interleaved A B B A ... to cancel drift in the load",
        flush=True,
    )
    results = []
    with tempfile.TemporaryDirectory() as data_dir:
        data = Path(data_dir)
        with tempfile.TemporaryDirectory() as warm:  # generate the data set once, untimed
            subprocess.run(
                [sys.executable, "-m", "research.run", "regime.epochs=0"],
                cwd=warm,
                env=clean_env(Path(warm), data),
                capture_output=True,
                check=True,
            )
        for case in opts.cases:
            times: dict[str, list[float]] = {m: [] for m in MODES}
            tags: dict[str, set[str]] = {m: set() for m in MODES}
            for rep in range(opts.reps):
                order = list(MODES) if rep % 2 == 0 else list(MODES)[::-1]
                for mode in order:
                    seconds, seen = measure(table[case], mode, data, case == "neighbour")
                    times[mode].append(seconds)
                    tags[mode].add(seen)
                    print(f"  {case:9} {mode:8} {seconds:7.1f} s  ({seen})", flush=True)
            results.append((case, times, tags))
    print(f"\ncase        unpinned s  pinned s  pinned/unpinned   (median of {opts.reps})")
    for case, times, _ in results:
        u, p = statistics.median(times["unpinned"]), statistics.median(times["pinned"])
        print(f"{case:10} {u:10.1f} {p:9.1f} {p / u:12.2f}")
    print("commands:")
    for case, _, _ in results:
        extra = " (+ a busy-loop neighbour)" if case == "neighbour" else ""
        print(f"  {case}: python -m research.run {' '.join(table[case])} blas_threads=...{extra}")


if __name__ == "__main__":
    run()
