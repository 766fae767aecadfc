"""Best-so-far against wall time: the fair comparison of searches whose trials cost different
amounts (a pruner stops some early; one sampler's suggestions may train longer), read from
the trials' own timestamps in the Optuna storage."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from optuna.trial import FrozenTrial, TrialState

from research.report.figures import plt

#: points on the time axis where the curves of a method are summarised
GRID = 200


def best_by_time(trials: Sequence[FrozenTrial], direction: str) -> list[tuple[float, float]]:
    """(seconds from the study's first trial start to a complete trial's end, best objective
    so far then), in time order. Trials without timestamps are left out."""
    timed = [t for t in trials if t.datetime_start is not None]
    if not timed:
        return []
    start = min(t.datetime_start for t in timed)
    done = [t for t in timed if t.state == TrialState.COMPLETE and t.datetime_complete]
    sign = 1.0 if direction == "maximize" else -1.0
    points, best = [], None
    for t in sorted(done, key=lambda t: t.datetime_complete):
        value = t.values[0]
        if best is None or sign * value > sign * best:
            best = value
        points.append(((t.datetime_complete - start).total_seconds(), best))
    return points


def elapsed(trials: Sequence[FrozenTrial]) -> float:
    """Seconds from the first trial's start to the last finished trial's end (0 if none)."""
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    ends = [t.datetime_complete for t in trials if t.datetime_complete is not None]
    if not starts or not ends:
        return 0.0
    return max(0.0, (max(ends) - min(starts)).total_seconds())


def best_at(points: list[tuple[float, float]], seconds: float) -> float | None:
    """The best objective reached within ``seconds`` (None if no trial had completed)."""
    best = None
    for when, value in points:
        if when > seconds:
            break
        best = value
    return best


def draw(ax, curves: dict[str, list[list[tuple[float, float]]]], horizon: float) -> None:
    """Per method: each study's best so far as a step line up to ``horizon`` seconds (thin
    when the method has several studies), and their median where every one has a value."""
    grid = [horizon * i / (GRID - 1) for i in range(GRID)]
    for method, studies in curves.items():
        several, colour = len(studies) > 1, None
        for points in studies:
            shown = [(t, v) for t, v in points if t <= horizon]
            if not shown:
                continue
            label = None if colour else (f"{method} (each study)" if several else method)
            (line,) = ax.step(
                [t for t, _ in shown] + [horizon],
                [v for _, v in shown] + [shown[-1][1]],
                where="post",
                color=colour,
                lw=0.8 if several else 1.8,
                alpha=0.5 if several else 1.0,
                label=label,
            )
            colour = line.get_color()
        values = [[best_at(points, t) for t in grid] for points in studies]
        shown = [i for i in range(GRID) if all(v[i] is not None for v in values)]
        if several and shown:
            median = [statistics.median(v[i] for v in values) for i in shown]
            xs = [grid[i] for i in shown]
            ax.plot(xs, median, color=colour, lw=2, label=f"{method} (median)")


def figure(curves: dict[str, list[list[tuple[float, float]]]], horizon: float, metric: str):
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    draw(ax, curves, horizon)
    ax.set(
        xlabel="wall time (s)",
        ylabel=f"best {metric} so far",
        title=f"Equal wall time: {horizon:.0f} s",
    )
    ax.grid(alpha=0.3)
    ax.legend()
    return fig
