"""The ``model`` group's base and the checks its schemas share.

Each network's schema (``MLPModel`` in :mod:`research.nn.mlp`, ``RBFModel`` in
:mod:`research.nn.rbf`, ``ElmanModel`` in :mod:`research.nn.elman`) subclasses
:class:`ModelConfig` beside the network's class and is registered with its builder in
:data:`research.nn.build.MODELS`. ``size(n_in, n_out)`` tells the config layer's memory
estimate how big the network is: (parameters, units in a forward pass, the key that sizes it,
its value).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import MISSING

from research import schema as S
from research.nn.functions import ACTIVATIONS, COSTS, INITIALISERS, OUTPUTS

DTYPES = ("float32", "float64")


@dataclass
class ModelConfig:
    name: str = MISSING
    dtype: str = "float32"

    def __post_init__(self) -> None:
        S.one_of("dtype", self.dtype, DTYPES)

    def size(self, n_in: int, n_out: int) -> tuple[float, float, str, Any]:
        """(parameters, units in a forward pass, the key that sizes them, its value), here
        for layers of widths ``n_in, *hidden, n_out`` (with biases unless ``bias`` is false)."""
        hidden = list(getattr(self, "hidden", []))
        bias = 1.0 if getattr(self, "bias", True) else 0.0
        sizes = [float(n_in), *(float(h) for h in hidden), float(n_out)]
        params = sum((a + bias) * b for a, b in zip(sizes, sizes[1:]))
        return params, sum(sizes), "model.hidden", hidden


def check_units(activation: str, output: str, cost: str, init: str) -> None:
    """The hidden activation, output activation, cost and initialiser are known names."""
    S.one_of("activation", activation, ACTIVATIONS)
    S.one_of("output", output, OUTPUTS)
    S.one_of("cost", cost, COSTS)
    S.one_of("init", init, INITIALISERS)
