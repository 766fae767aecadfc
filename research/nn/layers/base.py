"""The contract every layer keeps, so :class:`~research.nn.sequential.Sequential` can stack
any of them over one flat parameter vector.

Life of a layer: ``build(in_shape)`` fixes its sizes (or raises a one-line
:class:`~research.errors.ConfigError` when the input cannot fit, e.g. a kernel longer than
the padded sequence) and returns the output shape; ``blocks()`` names its parameter arrays;
``bind`` hands it views of them and of their gradients; ``initialise`` draws their first
values. Shapes exclude the batch axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: (name, shape, decays): decays is True for weights that L2 / weight decay acts on
Block = tuple[str, tuple[int, ...], bool]
Shape = tuple[int, ...]


class Layer:
    """A stateless, parameter-free identity; subclasses override what they need."""

    #: set by the network before ``build``
    dtype: np.dtype = np.dtype("float64")

    def build(self, in_shape: Shape) -> Shape:
        """Fix sizes for inputs of ``in_shape``; return the output's shape."""
        self.in_shape = tuple(in_shape)
        return self.in_shape

    def blocks(self) -> list[Block]:
        """The parameter arrays this layer owns (none by default)."""
        return []

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Views of this layer's blocks in the network's ``theta`` and ``grad`` (by block
        name, without the network's prefix). Written in place, never rebound."""
        self.p, self.g = params, grads

    def initialise(self, rng: np.random.Generator, init: Callable) -> None:
        """Draw first values; ``init(rng, fan_in, fan_out) -> (W, b)`` is the model's
        initialiser (:data:`research.nn.functions.INITIALISERS`)."""

    def forward(self, x: np.ndarray, train: bool, rng: np.random.Generator | None):
        """(output, cache): ``cache`` is whatever :meth:`backward` needs (None in eval)."""
        return x, None

    def backward(self, dy: np.ndarray, cache: Any) -> np.ndarray:
        """Given dLoss/dOutput, write dLoss/dParams into ``self.g`` (assign, do not add) and
        return dLoss/dInput."""
        return dy

    def state(self) -> dict[str, np.ndarray]:
        """Non-trainable arrays to save with the weights (batch norm's running moments)."""
        return {}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state` returned."""
