"""The bridge from ``fit``'s per-epoch reports to an MLflow run."""

from __future__ import annotations

from collections.abc import Mapping

from research.track.tracker import TrackedRun


class RunReporter:
    """Logs each epoch's metrics to ``run`` (buffered); never asks ``fit`` to stop."""

    def __init__(self, run: TrackedRun) -> None:
        self.run = run

    def epoch(self, step: int, metrics: Mapping[str, float]) -> bool:
        self.run.log_metrics(metrics, step)
        return False
