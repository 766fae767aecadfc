"""A toy optimiser: sign SGD, theta <- theta - eta * step_scale * sign(g).

One module: the schema (fields, defaults, ranges) and the class that uses it. Named in a
YAML by import path (``name: toy_plugins.optim:SignSGD``); its fields are then config keys
like a built-in's (``regime.step_scale=0.2``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from research.schema import positive
from research.train.base import Optimiser
from research.train.regime import RegimeConfig


@dataclass
class SignSGDRegime(RegimeConfig):
    name: str = "toy_plugins.optim:SignSGD"
    lr: float = 0.01
    step_scale: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        positive("step_scale", self.step_scale)


class SignSGD(Optimiser):
    schema = SignSGDRegime

    def __init__(self, n_params, dtype, rng, *, step_scale: float) -> None:
        super().__init__(n_params, dtype, rng)
        self.step_scale = step_scale
        self._tmp = self._buffer()

    def step(self, theta, grad, lr, loss_fn=None) -> None:
        np.sign(grad, out=self._tmp)
        self._tmp *= lr * self.step_scale
        theta -= self._tmp
        self.t += 1
