"""The ``regime`` group's base: how a network is trained, whatever the optimiser.

Each optimiser's schema subclasses :class:`RegimeConfig` beside the optimiser's class
(``research.train.optimisers``, ``research.train.stochastic``) and adds its own
hyperparameters, which :func:`optimiser_params` hands to the optimiser by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from omegaconf import MISSING

from research import schema as S
from research.train.early_stopping import EarlyStoppingConfig
from research.train.schedules import ScheduleConfig


@dataclass
class RegimeConfig:
    """How a network is trained. Subclasses add the optimiser's own hyperparameters."""

    name: str = MISSING
    lr: float = 0.1
    epochs: int = 30
    batch_size: int = 32
    l1: float = 0.0
    l2: float = 0.0
    clip_norm: float | None = None
    eval_train: bool = True
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)

    def __post_init__(self) -> None:
        S.positive("lr", self.lr)
        S.require(self.epochs >= 0, "epochs", self.epochs, "must be >= 0")
        S.positive("batch_size", self.batch_size)
        S.require(self.l1 >= 0, "l1", self.l1, "must be >= 0")
        S.require(self.l2 >= 0, "l2", self.l2, "must be >= 0")
        S.positive("clip_norm", self.clip_norm, allow_none=True)


BASE_FIELDS = frozenset(f.name for f in fields(RegimeConfig))


def optimiser_params(regime: Any) -> dict[str, Any]:
    """The optimiser's own hyperparameters: the fields a regime adds to :class:`RegimeConfig`."""
    return {f.name: getattr(regime, f.name) for f in fields(regime) if f.name not in BASE_FIELDS}
