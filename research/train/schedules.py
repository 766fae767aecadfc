"""Learning-rate schedules: eta as a function of the epoch, the update count or progress.

:func:`make_schedule` builds one by name from :data:`SCHEDULES`. The fit loop asks
``lr(epoch, update)`` before every update (``epoch`` 0-based, ``update`` = updates made so far)
and calls ``observe(value)`` once per epoch with the monitored validation metric (lower is
better); only ``plateau`` uses it. ``lr`` returns a Python float so float32 parameters stay
float32 under numpy's promotion rules.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any, ClassVar

from research.errors import ConfigError, unknown_name
from research.train.optimisers import check_in, check_positive

#: config name -> schedule class
SCHEDULES: dict[str, type[Schedule]] = {}


def _register(cls: type[Schedule]) -> type[Schedule]:
    SCHEDULES[cls.name] = cls
    return cls


def _check_int(owner: str, key: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{owner}: {key}={value!r} must be an integer >= {low}")
    return value


class Schedule:
    """Base class: a constant eta0 that ignores what it observes."""

    name: ClassVar[str] = ""

    def __init__(self, eta0: float) -> None:
        self.eta0 = check_positive(f"schedule {self.name}", "lr", eta0)

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


@_register
class Constant(Schedule):
    """eta(t) = eta0."""

    name = "constant"


@_register
class Inverse(Schedule):
    """eta(t) = eta0 / (1 + eta0 * lambda * t), t = updates made (``decay`` = lambda).

    The 1/t decay that stochastic-approximation theory asks for (sum eta = inf, sum eta^2 <
    inf), in Bottou's form where lambda is the L2 strength of the objective being minimised.
    """

    name = "inverse"

    def __init__(self, eta0: float, decay: float = 0.0) -> None:
        super().__init__(eta0)
        self.decay = check_in("schedule inverse", "decay", decay, 0.0, math.inf, "[)")
        self._rate = self.eta0 * self.decay

    def lr(self, epoch: int, update: int) -> float:
        return self.eta0 / (1.0 + self._rate * update)


@_register
class Step(Schedule):
    """eta(epoch) = eta0 * gamma ^ floor(epoch / step_size): drop by gamma every step_size
    epochs (epochs counted from 0)."""

    name = "step"

    def __init__(self, eta0: float, step_size: int = 10, gamma: float = 0.5) -> None:
        super().__init__(eta0)
        self.step_size = _check_int("schedule step", "step_size", step_size, 1)
        self.gamma = check_in("schedule step", "gamma", gamma, 0.0, 1.0, "(]")

    def lr(self, epoch: int, update: int) -> float:
        return self.eta0 * self.gamma ** (epoch // self.step_size)


@_register
class Exponential(Schedule):
    """eta(epoch) = eta0 * gamma ^ epoch."""

    name = "exponential"

    def __init__(self, eta0: float, gamma: float = 0.5) -> None:
        super().__init__(eta0)
        self.gamma = check_in("schedule exponential", "gamma", gamma, 0.0, 1.0, "(]")

    def lr(self, epoch: int, update: int) -> float:
        return self.eta0 * self.gamma**epoch


@_register
class Plateau(Schedule):
    """Halve on plateau (Nielsen ch. 3's learning-rate schedule, generalised):

        eta <- max(factor * eta, min_lr)

    once the observed metric has gone ``patience`` consecutive epochs without improving on
    its best by more than ``min_delta`` (improvement means value < best - min_delta). The
    count restarts after each reduction, the best is kept; ``reductions`` counts the times eta
    actually fell. ``patience`` 0 and 1 both reduce at the first epoch without improvement.
    A NaN value counts as no improvement.
    """

    name = "plateau"

    def __init__(
        self,
        eta0: float,
        factor: float = 0.5,
        patience: int = 5,
        min_delta: float = 0.0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__(eta0)
        owner = "schedule plateau"
        self.factor = check_in(owner, "factor", factor, 0.0, 1.0, "()")
        self.patience = _check_int(owner, "patience", patience, 0)
        self.min_delta = check_in(owner, "min_delta", min_delta, 0.0, math.inf, "[)")
        self.min_lr = check_in(owner, "min_lr", min_lr, 0.0, math.inf, "[)")
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


def make_schedule(name: str, eta0: float, **kw: Any) -> Schedule:
    """Build the schedule ``name`` starting at ``eta0``; unknown names or keywords and values
    out of range raise a one-line :class:`ConfigError`."""
    try:
        cls = SCHEDULES[name]
    except KeyError:
        raise unknown_name("schedule", name, SCHEDULES) from None
    allowed = [k for k in inspect.signature(cls.__init__).parameters if k not in ("self", "eta0")]
    for key in kw:
        if key not in allowed:
            takes = ", ".join(allowed) or "nothing"
            raise ConfigError(f"schedule {name!r} has no parameter {key!r}; it takes: {takes}")
    return cls(eta0, **kw)
