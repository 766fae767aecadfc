"""Process-level run safety: SIGTERM/Ctrl-C become exceptions so runs end KILLED, not
RUNNING, and never in the middle of a store write.

A signal that lands inside a database transaction (an MLflow ``log_batch`` on SQLite, say)
would leave that transaction open and the store locked for the handler that then tries to
mark the run KILLED. Store calls therefore run :func:`shielded`: a signal arriving there is
held and raised as soon as the call returns. :func:`is_disk_full` tells a full disk (retry
later) from a failure of the run itself.
"""

from __future__ import annotations

import errno
import functools
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

F = TypeVar("F", bound=Callable)


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM.

    A ``BaseException`` like ``KeyboardInterrupt``: ordinary ``except Exception`` blocks in
    user code do not swallow it.
    """


_depth = 0  # how many shielded blocks the main thread is inside
_pending: BaseException | None = None


def _interruption(signum: int) -> BaseException:
    if signum == signal.SIGINT:
        return KeyboardInterrupt()
    return Terminated(f"received signal {signal.Signals(signum).name}")


def _on_signal(signum, frame):  # noqa: ARG001 - signal handler signature
    global _pending
    exc = _interruption(signum)
    if _depth > 0:
        _pending = _pending or exc
        return
    raise exc


def handle_sigterm() -> None:
    """Turn SIGTERM into :class:`Terminated` and Ctrl-C into ``KeyboardInterrupt``, both
    deferred out of :func:`shielded` blocks (main thread only; a no-op elsewhere)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)


@contextmanager
def shielded() -> Iterator[None]:
    """Hold SIGTERM/SIGINT until the block ends, then raise the held one (if any)."""
    global _depth, _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending is not None:
            exc, _pending = _pending, None
            raise exc


def shield(fn: F) -> F:
    """Decorator form of :func:`shielded` for methods that write to a store."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with shielded():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a full disk: ENOSPC, or SQLite's "database or
    disk is full" as MLflow or Optuna re-raise it."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(exc)
        if "disk is full" in text or "No space left on device" in text:
            return True
        exc = exc.__cause__ or exc.__context__
    return False
