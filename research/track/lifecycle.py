"""Process-level run safety: SIGTERM becomes an exception so runs end KILLED, not RUNNING."""

from __future__ import annotations

import signal
import threading


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM.

    A ``BaseException`` like ``KeyboardInterrupt``: ordinary ``except Exception`` blocks in
    user code do not swallow it.
    """


def _raise_terminated(signum, frame):  # noqa: ARG001 - signal handler signature
    raise Terminated(f"received signal {signal.Signals(signum).name}")


def handle_sigterm() -> None:
    """Turn SIGTERM into :class:`Terminated` (main thread only; a no-op elsewhere)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)
