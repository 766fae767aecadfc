"""Maxout network (Goodfellow et al. 2013): hidden layers of maxout units, each the max of
``pieces`` affine functions of its input, with dropout between them as in the paper."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from research import schema as S
from research.nn.layers import Dense, Dropout, Flatten, Maxout
from research.nn.schema import ModelConfig, check_units
from research.nn.sequential import Sequential


@dataclass
class MaxoutModel(ModelConfig):
    """Maxout network (research/nn/maxout.py): ``hidden`` widths of maxout units."""

    name: str = "maxout"
    hidden: list[int] = field(default_factory=lambda: [240, 240])
    pieces: int = 3
    output: str = "softmax"
    cost: str = "log_likelihood"
    init: str = "glorot"
    dropout: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        for width in self.hidden:
            S.require(width >= 1, "hidden", list(self.hidden), "layer widths must be >= 1")
        S.require(self.pieces >= 2, "pieces", self.pieces, "must be >= 2")
        check_units("relu", self.output, self.cost, self.init)
        S.fraction("dropout", self.dropout)

    def size(self, n_in: int, n_out: int) -> tuple[float, float, str, Any]:
        widths = [n_in, *self.hidden]
        params = sum((a + 1) * b * self.pieces for a, b in zip(widths, widths[1:]))
        params += (widths[-1] + 1) * n_out
        return float(params), float(sum(widths) * self.pieces), "model.hidden", self.hidden


def build_maxout(cfg: MaxoutModel, shape, n_out: int, rng: np.random.Generator) -> Sequential:
    layers = [Flatten()]
    for width in cfg.hidden:
        layers.append(Maxout(width, cfg.pieces))
        if cfg.dropout:
            layers.append(Dropout(cfg.dropout))
    layers.append(Dense(n_out))
    return Sequential(layers, tuple(shape), cfg.output, cfg.cost, cfg.init, cfg.dtype, rng)
