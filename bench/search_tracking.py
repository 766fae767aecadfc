"""The share of a study's wall time spent in tracking calls (target: under 3%).

    python bench/search_tracking.py [--trials 30] [extra overrides]

Runs ``+study=bayes`` in a temporary project with every public ``MlflowClient`` method
wrapped in a timer (outermost calls only), and prints the time inside MLflow against the
study's wall time, with the number of calls. Optuna storage writes are timed the same way
(``JournalStorage`` methods) and reported separately.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import tempfile
import time

from mlflow.tracking import MlflowClient
from optuna.storages import JournalStorage

from research.run import main


class Timer:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.depth = 0

    def wrap(self, cls) -> None:
        for name in dir(cls):
            attr = getattr(cls, name)
            if name.startswith("_") or not callable(attr) or isinstance(attr, type):
                continue
            setattr(cls, name, self._timed(attr))

    def _timed(self, fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            if self.depth:
                return fn(*args, **kwargs)
            self.depth += 1
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1
                self.depth -= 1

        return timed


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    args, extra = parser.parse_known_args(argv)
    mlflow_timer, optuna_timer = Timer(), Timer()
    mlflow_timer.wrap(MlflowClient)
    optuna_timer.wrap(JournalStorage)
    with tempfile.TemporaryDirectory() as root:
        os.environ["RESEARCH_ROOT"] = root
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["+study=bayes", f"study.n_trials={args.trials}", *extra]) == 0
        wall = time.perf_counter() - started
    print(f"study wall time {wall:.1f} s, {args.trials} trials")
    for name, t in (("MLflow", mlflow_timer), ("Optuna journal", optuna_timer)):
        print(f"{name:15} {t.seconds:6.2f} s in {t.calls:5d} calls = {t.seconds / wall:6.2%}")


if __name__ == "__main__":
    run()
