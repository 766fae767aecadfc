"""``study.workers=N``: N processes that attach to one storage and one parent run.

Workers are started with the ``spawn`` method (a clean interpreter each: no inherited
database connections or locks) and rebuild the study from the same command-line overrides.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence

from research import threads

EXIT_OK, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_ERROR = 0, 130, 143, 1


def _worker_main(args: list[str], root_env: dict[str, str]) -> None:
    os.environ.update(root_env)
    from research.config import compose, validate
    from research.search.driver import open_study, work
    from research.search.spec import build_spec
    from research.track import Terminated, Tracker, handle_sigterm

    handle_sigterm()
    try:
        cfg = compose(args)
        groups = validate(cfg)
        threads.configure(cfg.blas_threads, groups)  # the main process's setting, here too
        tracker = Tracker.from_config(groups["tracking"])
        spec = build_spec(cfg, groups, args, tracker.store.root)
        handle = open_study(spec, tracker, "", create=False)
        work(handle)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    except Terminated:
        sys.exit(EXIT_TERMINATED)


def start_workers(n: int, args: Sequence[str]) -> list[mp.Process]:
    ctx = mp.get_context("spawn")
    env = {k: v for k, v in os.environ.items() if k.startswith(("RESEARCH_", "MLFLOW_"))}
    procs = [
        ctx.Process(target=_worker_main, args=(list(args), env), name=f"worker-{i}")
        for i in range(n)
    ]
    for p in procs:
        p.start()
    return procs


def wait_for(procs: list[mp.Process], poll: Callable[[], None], every: float = 1.0) -> None:
    """Join ``procs``, calling ``poll`` (the progress bar) every ``every`` seconds."""
    while any(p.is_alive() for p in procs):
        poll()
        for p in procs:
            p.join(timeout=every / len(procs))
    poll()


def stop_workers(procs: list[mp.Process], grace: float = 30.0) -> None:
    """SIGTERM every live worker (they close their trial and runs), then SIGKILL stragglers."""
    for p in procs:
        if p.is_alive() and p.pid is not None:
            os.kill(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in procs:
        p.join(timeout=max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()
