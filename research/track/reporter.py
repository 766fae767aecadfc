"""The bridge from ``fit``'s per-epoch reports to an MLflow run."""

from __future__ import annotations

from collections.abc import Mapping

from research.track.tracker import TrackedRun

#: metrics that are logged only when they change: a constant learning rate is one point, a
#: schedule is a step function with every change kept (MLflow shows the last value as current)
ON_CHANGE = ("lr",)


class RunReporter:
    """Logs each epoch's metrics to ``run`` (buffered); never asks ``fit`` to stop."""

    def __init__(self, run: TrackedRun) -> None:
        self.run = run
        self._last: dict[str, float] = {}

    def epoch(self, step: int, metrics: Mapping[str, float]) -> bool:
        logged = dict(metrics)
        for key in ON_CHANGE:
            if key in logged:
                if self._last.get(key) == logged[key]:
                    del logged[key]
                else:
                    self._last[key] = logged[key]
        self.run.log_metrics(logged, step)
        return False
