"""Learning-rate schedules: eta as a function of the epoch, the update count or progress.

:data:`SCHEDULES` maps a config name to its class; :class:`ScheduleConfig` is the
``regime.schedule`` group (one flat set of fields: each schedule takes the ones its
``__init__`` names, with their ranges checked here once). The fit loop asks
``lr(epoch, update)`` before every update (``epoch`` 0-based, ``update`` = updates made so far)
and calls ``observe(value)`` once per epoch with the monitored validation metric (lower is
better); only ``plateau`` uses it. ``lr`` returns a Python float so float32 parameters stay
float32 under numpy's promotion rules.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from research import schema as S
from research.registry import Registry, keywords

#: config name -> schedule class; a user's schedule is an entry point in
#: ``research.schedules`` or an import path in ``regime.schedule.name``
SCHEDULES: Registry[type[Schedule]] = Registry("schedule", group="research.schedules")


@dataclass
class ScheduleConfig:
    """Learning-rate schedule (``regime.schedule``): every schedule's settings, defaults and
    ranges; a schedule reads the fields its ``__init__`` names."""

    name: str = "constant"
    decay: float = 0.0
    step_size: int = 10
    gamma: float = 0.5
    factor: float = 0.5
    patience: int = 5
    min_delta: float = 0.0
    min_lr: float = 0.0

    def __post_init__(self) -> None:
        S.one_of("schedule.name", self.name, SCHEDULES)
        S.require(self.decay >= 0, "schedule.decay", self.decay, "must be >= 0")
        S.positive("schedule.step_size", self.step_size)
        S.require(0 < self.gamma <= 1, "schedule.gamma", self.gamma, "must be in (0, 1]")
        S.require(0 < self.factor < 1, "schedule.factor", self.factor, "must be in (0, 1)")
        S.require(self.patience >= 0, "schedule.patience", self.patience, "must be >= 0")
        S.require(self.min_delta >= 0, "schedule.min_delta", self.min_delta, "must be >= 0")
        S.require(self.min_lr >= 0, "schedule.min_lr", self.min_lr, "must be >= 0")


class Schedule:
    """Base class: a constant eta0 that ignores what it observes."""

    def __init__(self, eta0: float) -> None:
        self.eta0 = float(eta0)

    def lr(self, epoch: int, update: int) -> float:
        """The learning rate for the next update."""
        return self.eta0

    def observe(self, value: float) -> None:  # noqa: B027 - a deliberate no-op hook
        """Called once per epoch with the monitored metric (lower is better)."""

    def state_dict(self) -> dict[str, Any]:
        """Scalars needed to resume (none for the stateless schedules)."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""

    def __repr__(self) -> str:
        params = inspect.signature(type(self).__init__).parameters
        shown = ", ".join(f"{k}={getattr(self, k)!r}" for k in params if k != "self")
        return f"{type(self).__name__}({shown})"


@SCHEDULES.register("constant", schema=ScheduleConfig)
class Constant(Schedule):
    """eta(t) = eta0."""


@SCHEDULES.register("inverse", schema=ScheduleConfig)
class Inverse(Schedule):
    """eta(t) = eta0 / (1 + eta0 * lambda * t), t = updates made (``decay`` = lambda).

    The 1/t decay that stochastic-approximation theory asks for (sum eta = inf, sum eta^2 <
    inf), in Bottou's form where lambda is the L2 strength of the objective being minimised.
    """

    def __init__(self, eta0: float, decay: float) -> None:
        super().__init__(eta0)
        self.decay = float(decay)
        self._rate = self.eta0 * self.decay

    def lr(self, epoch: int, update: int) -> float:
        return self.eta0 / (1.0 + self._rate * update)


@SCHEDULES.register("step", schema=ScheduleConfig)
class Step(Schedule):
    """eta(epoch) = eta0 * gamma ^ floor(epoch / step_size): drop by gamma every step_size
    epochs (epochs counted from 0)."""

    def __init__(self, eta0: float, step_size: int, gamma: float) -> None:
        super().__init__(eta0)
        self.step_size = int(step_size)
        self.gamma = float(gamma)

    def lr(self, epoch: int, update: int) -> float:
        return self.eta0 * self.gamma ** (epoch // self.step_size)


@SCHEDULES.register("exponential", schema=ScheduleConfig)
class Exponential(Schedule):
    """eta(epoch) = eta0 * gamma ^ epoch."""

    def __init__(self, eta0: float, gamma: float) -> None:
        super().__init__(eta0)
        self.gamma = float(gamma)

    def lr(self, epoch: int, update: int) -> float:
        return self.eta0 * self.gamma**epoch


@SCHEDULES.register("plateau", schema=ScheduleConfig)
class Plateau(Schedule):
    """Halve on plateau (Nielsen ch. 3's learning-rate schedule, generalised):

        eta <- max(factor * eta, min_lr)

    once the observed metric has gone ``patience`` consecutive epochs without improving on
    its best by more than ``min_delta`` (improvement means value < best - min_delta). The
    count restarts after each reduction, the best is kept; ``reductions`` counts the times eta
    actually fell. ``patience`` 0 and 1 both reduce at the first epoch without improvement.
    A NaN value counts as no improvement.
    """

    def __init__(
        self,
        eta0: float,
        factor: float,
        patience: int,
        min_delta: float,
        min_lr: float,
    ) -> None:
        super().__init__(eta0)
        self.factor = float(factor)
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.min_lr = float(min_lr)
        self.current = max(self.eta0, self.min_lr)
        self.best = math.inf
        self.bad_epochs = 0
        self.reductions = 0

    def lr(self, epoch: int, update: int) -> float:
        return self.current

    def observe(self, value: float) -> None:
        if value < self.best - self.min_delta:
            self.best = float(value)
            self.bad_epochs = 0
            return
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            reduced = max(self.current * self.factor, self.min_lr)
            self.reductions += reduced < self.current
            self.current = reduced
            self.bad_epochs = 0

    def state_dict(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "best": self.best,
            "bad_epochs": self.bad_epochs,
            "reductions": self.reductions,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.current = float(state["current"])
        self.best = float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])
        self.reductions = int(state["reductions"])


def build_schedule(config: ScheduleConfig, eta0: float) -> Schedule:
    """The schedule ``config`` names, starting at ``eta0``, given the fields it takes
    (``config`` is already checked: a validated config group)."""
    cls = SCHEDULES.get(config.name)
    takes, _ = keywords(cls, skip=1)
    return cls(eta0, **{k: getattr(config, k) for k in takes})


def make_schedule(name: str, eta0: float, **settings: Any) -> Schedule:
    """Build the schedule ``name`` starting at ``eta0`` from plain values: unknown names or
    keywords and values out of range raise the one-line errors the config gives."""
    SCHEDULES.check_keywords(name, settings, skip=1)
    S.positive("lr", eta0)
    return build_schedule(ScheduleConfig(name=name, **settings), eta0)
