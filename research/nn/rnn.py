"""Recurrent networks for sequences: stacked Elman, LSTM or GRU layers (optionally bidirectional),
read out at the last step or as the mean over steps, then dense layers and the output.

A flat example of length T (MNIST-1D: 40) is read as T steps of one input. ``model=rnn``
(Elman's tanh layer, as a stackable layer), ``model=lstm`` and ``model=gru`` are the options of
this schema; ``peepholes`` applies to the LSTM only (Gers & Schmidhuber 2000). Recurrent
matrices start orthogonal unless ``orthogonal`` is false (then the model's ``init``).
``forget_bias`` is the first bias of the gate that keeps the past: the LSTM's forget gate
(1: Gers et al. 2000), the GRU's update gate (h_t = (1 - z) n + z h_{t-1}); larger values
make a fresh net remember longer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from research import schema as S
from research.errors import ConfigError
from research.nn.layers import Activation, Dense, Dropout
from research.nn.layers.pool import GlobalAvgPool
from research.nn.layers.recurrent import GRU, LSTM, Bidirectional, LastStep, SimpleRNN
from research.nn.schema import ModelConfig, check_units
from research.nn.sequential import Sequential
from research.nn.shapes import example_shape

READOUTS = ("last", "mean")


@dataclass
class RecurrentModel(ModelConfig):
    """LSTM or GRU network (research/nn/rnn.py)."""

    name: str = "gru"
    hidden: list[int] = field(default_factory=lambda: [64])
    bidirectional: bool = False
    peepholes: bool = False
    orthogonal: bool = True
    forget_bias: float = 1.0
    readout: str = "last"
    input_shape: list[int] | None = None
    dense: list[int] = field(default_factory=list)
    activation: str = "relu"
    output: str = "softmax"
    cost: str = "log_likelihood"
    init: str = "glorot"
    dropout: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        S.require(len(self.hidden) >= 1, "hidden", list(self.hidden), "give >= 1 layer width")
        for width in [*self.hidden, *self.dense]:
            S.require(width >= 1, "hidden", list(self.hidden), "layer widths must be >= 1")
        S.one_of("readout", self.readout, READOUTS)
        if self.peepholes and self.name != "lstm":
            raise ConfigError(
                f"model.peepholes=true is not allowed with model={self.name}: only the LSTM "
                "has peepholes"
            )
        check_units(self.activation, self.output, self.cost, self.init)
        S.fraction("dropout", self.dropout)

    def size(self, n_in: int, n_out: int) -> tuple[float, float, str, Any]:
        gates = {"lstm": 4, "gru": 3}.get(self.name, 1)
        sides = 2 if self.bidirectional else 1
        params, width = 0.0, 1
        for h in self.hidden:
            params += sides * gates * h * (width + h + 1)
            width = sides * h
        widths = [width, *self.dense, n_out]
        params += sum((a + 1) * b for a, b in zip(widths, widths[1:]))
        return params, float(n_in * sides * max(self.hidden)), "model.hidden", self.hidden


def _cell(cfg: RecurrentModel, width: int):
    if cfg.name == "lstm":
        return LSTM(width, cfg.peepholes, cfg.forget_bias, cfg.orthogonal)
    if cfg.name == "gru":
        return GRU(width, update_bias=cfg.forget_bias, orthogonal=cfg.orthogonal)
    return SimpleRNN(width, orthogonal=cfg.orthogonal)


def build_recurrent(cfg: RecurrentModel, shape, n_out: int, rng: np.random.Generator):
    """The network of ``cfg`` for examples of ``shape`` and ``n_out`` outputs."""
    in_shape = example_shape(shape, 1, cfg.input_shape)
    layers = []
    for width in cfg.hidden:
        if cfg.bidirectional:
            layers.append(Bidirectional(_cell(cfg, width), _cell(cfg, width)))
        else:
            layers.append(_cell(cfg, width))
    layers.append(LastStep() if cfg.readout == "last" else GlobalAvgPool())
    for width in cfg.dense:
        layers += [Dense(width), Activation(cfg.activation)]
        if cfg.dropout:
            layers.append(Dropout(cfg.dropout))
    layers.append(Dense(n_out))
    return Sequential(layers, in_shape, cfg.output, cfg.cost, cfg.init, cfg.dtype, rng)
