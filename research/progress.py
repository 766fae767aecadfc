"""Progress of a long loop (epochs, trials, generations) on stderr, terminal or not.

On a terminal it is a tqdm bar. Otherwise (SLURM, nohup, CI, ``> log``) it is one plain line
at most every ``$RESEARCH_PROGRESS_SECONDS`` seconds (default 30; 0: at every change), and a
last line at :meth:`Progress.close` if the last one printed is out of date::

    bayes: 12/80 trials, pruned 3, failed 0, best val/acc 0.7012, 2m10s elapsed, ETA 12m04s

ETA is the mean time per unit done since the start (not counting a resumed ``initial``) times
the units left; it is left out until a unit is done, and once none is left. Nothing goes to
stdout.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from tqdm import tqdm

ENV = "RESEARCH_PROGRESS_SECONDS"
DEFAULT_SECONDS = 30.0


def interval_seconds(environ: Mapping[str, str] | None = None) -> float:
    """``$RESEARCH_PROGRESS_SECONDS`` (>= 0), or the default when unset or not a number."""
    raw = (os.environ if environ is None else environ).get(ENV, "").strip()
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_SECONDS
    return value if math.isfinite(value) and value >= 0 else DEFAULT_SECONDS


def duration(seconds: float) -> str:
    """``5s``, ``2m10s``, ``1h02m``."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """``total`` units of ``unit`` named ``desc``: :meth:`update` / :meth:`set` count them,
    ``**shown`` (here or in :meth:`note`) is what is shown beside the count (tqdm's postfix
    on a terminal); ``names`` renames keys of ``shown`` in the plain line only."""

    def __init__(
        self,
        total: int | None,
        desc: str,
        unit: str,
        *,
        initial: int = 0,
        names: Mapping[str, str] | None = None,
        file: TextIO | None = None,
        terminal: bool | None = None,
        seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.file = sys.stderr if file is None else file
        self.total, self.desc, self.unit = total, desc, unit
        self.initial = self.done = initial
        self.names = dict(names or {})
        self.shown: dict[str, Any] = {}
        self.clock = clock
        self.seconds = interval_seconds() if seconds is None else seconds
        self.started = clock()
        self.printed: tuple | None = None  # the state of the last line printed
        self.last_print = self.started
        self.closed = False
        terminal = _is_terminal(self.file) if terminal is None else terminal
        self.bar: tqdm | None = None
        if terminal:
            self.bar = tqdm(
                total=total, initial=initial, desc=desc, unit=unit, file=self.file, disable=False
            )

    def note(self, **shown: Any) -> None:
        """Replace what is shown beside the count; printed with the next update."""
        self.shown = shown
        if self.bar is not None:
            self.bar.set_postfix(shown, refresh=False)

    def set_total(self, total: int | None) -> None:
        """The end moved (an evaluation budget reached before the last generation)."""
        if total == self.total:
            return
        self.total = total
        if self.bar is not None:
            self.bar.total = total
            self.bar.refresh()

    def update(self, n: int = 1, **shown: Any) -> None:
        """``n`` more units done (and, if given, what is shown now)."""
        if shown:
            self.note(**shown)
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        else:
            self._maybe_print()

    def set(self, done: int, **shown: Any) -> None:
        """``done`` units done in all (counted elsewhere, e.g. by other processes)."""
        if shown:
            self.note(**shown)
        if self.total is not None:
            done = min(done, self.total)
        self.done = done
        if self.bar is not None:
            self.bar.n = done
            self.bar.refresh()
        else:
            self._maybe_print()

    def close(self) -> None:
        """End the bar; off a terminal, print the last state if anything was done and the
        last line printed does not show it."""
        if self.closed:
            return
        self.closed = True
        if self.bar is not None:
            self.bar.close()
        elif self.done != self.initial and self.printed != self._state():
            self._print()

    # -- the plain line ----------------------------------------------------------------------

    def _state(self) -> tuple:
        return (self.done, tuple(self.shown.items()))

    def _maybe_print(self) -> None:
        now = self.clock()
        if now - self.last_print < self.seconds:
            return
        if self.seconds > 0 or self.printed != self._state():  # 0: only what changed
            self._print(now)

    def _print(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        with contextlib.suppress(OSError, ValueError):  # a broken stderr must not stop the work
            print(self.line(now), file=self.file, flush=True)
        self.printed, self.last_print = self._state(), now

    def line(self, now: float | None = None) -> str:
        """``desc: done/total units, shown..., elapsed, ETA``."""
        now = self.clock() if now is None else now
        count = f"{self.done}" if self.total is None else f"{self.done}/{self.total}"
        parts = [f"{self.desc}: {count} {self.unit}s"]
        parts += [f"{self.names.get(k, k)} {v}" for k, v in self.shown.items()]
        elapsed = now - self.started
        parts.append(f"{duration(elapsed)} elapsed")
        eta = self.eta(now)
        if eta is not None:
            parts.append(f"ETA {duration(eta)}")
        return ", ".join(parts)

    def eta(self, now: float) -> float | None:
        """Seconds left at the mean pace so far; ``None`` when unknown or none are left."""
        units = self.done - self.initial
        if self.total is None or units <= 0 or self.done >= self.total:
            return None
        return (now - self.started) / units * max(0, self.total - self.done)
