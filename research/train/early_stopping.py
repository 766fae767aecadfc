"""Early stopping: end training once a monitored metric stops improving.

Nielsen's "no-improvement-in-n" rule: stop when the metric has not improved on its best by
more than ``min_delta`` for ``patience`` consecutive epochs, and remember the best epoch so the
fit loop can restore its weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from research import schema as S
from research.errors import ConfigError

MODES = ("min", "max")


@dataclass
class EarlyStoppingConfig:
    """``regime.early_stopping``: stop when ``monitor`` has not improved by ``min_delta`` for
    ``patience`` epochs (``patience`` null: never)."""

    patience: int | None = None
    monitor: str = "val/loss"
    mode: str = "min"
    min_delta: float = 0.0
    restore_best: bool = True

    def __post_init__(self) -> None:
        if self.patience is not None:
            S.require(self.patience >= 1, "early_stopping.patience", self.patience, "must be >= 1")
        S.one_of("early_stopping.mode", self.mode, MODES)
        S.require(self.min_delta >= 0, "early_stopping.min_delta", self.min_delta, "must be >= 0")


class EarlyStopping:
    """Watch ``monitor`` in each epoch's metrics; ``update`` returns True when it is time to stop.

    Improvement means value < best - min_delta (mode ``min``) or value > best + min_delta
    (mode ``max``); a NaN value never improves. After stopping, ``reason`` says why, e.g.
    "val/loss did not improve by 0.0 for 5 epochs (best 0.123 at epoch 7)".
    """

    def __init__(
        self,
        monitor: str = "val/loss",
        mode: str = "min",
        patience: int = 10,
        min_delta: float = 0.0,
    ) -> None:
        EarlyStoppingConfig(patience, monitor, mode, min_delta)  # the ranges, checked once
        self.monitor = monitor
        self.mode = mode
        self.patience = patience
        self.min_delta = float(min_delta)
        #: best value seen (inf / -inf before the first update)
        self.best = math.inf if mode == "min" else -math.inf
        #: epoch of the best value (None before the first improvement)
        self.best_epoch: int | None = None
        #: consecutive epochs without improvement
        self.wait = 0
        #: why training stopped ("" until ``update`` returns True)
        self.reason = ""

    def improved(self, value: float) -> bool:
        """Whether ``value`` beats the best by more than ``min_delta``."""
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, metrics: Mapping[str, float], epoch: int) -> bool:
        """Record ``epoch``'s metrics; True means stop now."""
        try:
            value = float(metrics[self.monitor])
        except KeyError:
            names = ", ".join(sorted(metrics)) or "none"
            raise ConfigError(
                f"early stopping monitors {self.monitor!r}, which is not among the metrics: {names}"
            ) from None
        if self.improved(value):
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
            return False
        self.wait += 1
        if self.wait < self.patience:
            return False
        best = "none" if self.best_epoch is None else f"{self.best:.6g} at epoch {self.best_epoch}"
        self.reason = (
            f"{self.monitor} did not improve by {self.min_delta} for {self.wait} epochs "
            f"(best {best})"
        )
        return True

    def state_dict(self) -> dict[str, Any]:
        """Scalars needed to resume (``best_epoch`` -1 stands for None)."""
        return {
            "best": self.best,
            "best_epoch": -1 if self.best_epoch is None else self.best_epoch,
            "wait": self.wait,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.best = float(state["best"])
        best_epoch = int(state["best_epoch"])
        self.best_epoch = None if best_epoch < 0 else best_epoch
        self.wait = int(state["wait"])
