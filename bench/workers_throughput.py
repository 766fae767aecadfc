"""Trials per minute of a study run by 4 worker processes: embedded journal vs PostgreSQL.

    RESEARCH_TEST_POSTGRES_URL=postgresql://... python bench/workers_throughput.py [--trials 32]

Runs the same small study (2-D spirals, 20 epochs per trial, no pruning) with
``study.workers=4`` on the journal file and, when a PostgreSQL URL is given, on a fresh
database there; prints trials per minute of each and their ratio (same process, same machine).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
import uuid

from research.run import main

STUDY = [
    "+study=bayes",
    "data=spirals",
    "study.pruner=none",
    "study.report=false",
    "study.overrides=['regime=adam','regime.epochs=20']",
    "study.workers=4",
]


def run(storage: str | None, trials: int) -> float:
    with tempfile.TemporaryDirectory() as root:
        os.environ["RESEARCH_ROOT"] = root
        args = [*STUDY, f"study.n_trials={trials}"]
        if storage:
            args.append(f"study.storage={storage}")
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(args) == 0
        return trials / ((time.perf_counter() - started) / 60)


def fresh_database(admin: str) -> str:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return admin.rsplit("/", 1)[0] + "/" + name


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=32)
    args = parser.parse_args(argv)
    journal = run(None, args.trials)
    print(f"journal file, 4 workers: {journal:6.1f} trials/min")
    admin = os.environ.get("RESEARCH_TEST_POSTGRES_URL")
    if not admin:
        print("PostgreSQL: skipped (set RESEARCH_TEST_POSTGRES_URL; see .ci/postgres.sh)")
        return
    pg = run(fresh_database(admin), args.trials)
    print(f"PostgreSQL,   4 workers: {pg:6.1f} trials/min  ({pg / journal:.2f}x the journal)")


if __name__ == "__main__":
    cli()
