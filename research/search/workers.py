"""``study.workers=N``: N processes that attach to one storage and one parent run.

Workers are started with the ``spawn`` method (a clean interpreter each: no inherited
database connections or locks). Each runs ``main(args)``, a module-level function of the
search kind that rebuilds the study from the same command-line overrides; this module only
starts, watches and stops the processes.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence

from research.track import Terminated, handle_sigterm

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


def _worker(main: Callable[[list[str]], None], args: list[str], env: dict[str, str]) -> None:
    os.environ.update(env)
    handle_sigterm()
    try:
        main(args)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    except Terminated:
        sys.exit(EXIT_TERMINATED)


def start_workers(
    n: int, main: Callable[[list[str]], None], args: Sequence[str]
) -> list[mp.Process]:
    """Start ``n`` processes running ``main(args)`` (``main`` must be importable by name)."""
    ctx = mp.get_context("spawn")
    env = {k: v for k, v in os.environ.items() if k.startswith(("RESEARCH_", "MLFLOW_"))}
    procs = [
        ctx.Process(target=_worker, args=(main, list(args), env), name=f"worker-{i}")
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
