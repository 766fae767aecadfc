"""Convolutional network: conv blocks (convolution, optional batch norm, activation, optional
pooling), then flatten or global average pooling, dense hidden layers, and the output layer.

``model.dims`` 1 reads each example as a sequence (MNIST-1D: length 40, one channel), 2 as an
image (MNIST: 28x28, one channel). ``kernel``, ``stride``, ``dilation`` and ``pool_size``
take one value for every conv layer or a list with one per layer. The default is the
MNIST-1D paper's CNN (Greydanus 2020): three conv layers of 25 channels, kernels 5, 3, 3,
stride 2, ReLU, then a linear read-out of the 125 features.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from research import schema as S
from research.nn.layers import Activation, BatchNorm, Dense, Dropout, Flatten
from research.nn.layers.conv import PADDINGS, Conv1D, Conv2D
from research.nn.layers.pool import POOLS, GlobalAvgPool, Pool
from research.nn.schema import ModelConfig, check_units
from research.nn.sequential import Sequential
from research.nn.shapes import example_shape


@dataclass
class CNNModel(ModelConfig):
    """Convolutional network (research/nn/cnn.py)."""

    name: str = "cnn"
    dims: int = 1
    input_shape: list[int] | None = None
    channels: list[int] = field(default_factory=lambda: [25, 25, 25])
    kernel: Any = field(default_factory=lambda: [5, 3, 3])
    stride: Any = 2
    dilation: Any = 1
    padding: str = "same"
    pool: str = "none"
    pool_size: Any = 2
    global_pool: bool = False
    hidden: list[int] = field(default_factory=list)
    activation: str = "relu"
    output: str = "softmax"
    cost: str = "log_likelihood"
    init: str = "he"
    dropout: float = 0.0
    batch_norm: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        S.one_of("dims", self.dims, (1, 2))
        S.require(len(self.channels) >= 1, "channels", list(self.channels), "give >= 1 layer")
        for c in self.channels:
            S.require(c >= 1, "channels", list(self.channels), "channel counts must be >= 1")
        for key in ("kernel", "stride", "dilation", "pool_size"):
            per_layer(self, key)
        S.one_of("padding", self.padding, PADDINGS)
        S.one_of("pool", self.pool, (*POOLS, "none"))
        for width in self.hidden:
            S.require(width >= 1, "hidden", list(self.hidden), "layer widths must be >= 1")
        check_units(self.activation, self.output, self.cost, self.init)
        S.fraction("dropout", self.dropout)

    def size(self, n_in: int, n_out: int) -> tuple[float, float, str, Any]:
        """A bound, not exact: every conv layer as if at the input's full length."""
        k = max(per_layer(self, "kernel")) ** self.dims
        chans = [1, *self.channels]
        params = sum(k * a * b + b for a, b in zip(chans, chans[1:]))
        widths = [self.channels[-1], *self.hidden, n_out]
        params += sum((a + 1) * b for a, b in zip(widths, widths[1:]))
        return float(params), float(n_in * max(self.channels)), "model.channels", self.channels


def per_layer(cfg, key: str) -> list[int]:
    """``cfg.<key>`` as one int per conv layer (one value repeats); a bad one is one line."""
    value = getattr(cfg, key)
    values = [value] * len(cfg.channels) if isinstance(value, int) else list(value)
    ok = len(values) == len(cfg.channels) and all(isinstance(v, int) and v >= 1 for v in values)
    S.require(
        ok,
        key,
        value,
        f"give one int >= 1 or a list of {len(cfg.channels)} (one per conv layer)",
    )
    return values


def build_cnn(cfg: CNNModel, shape, n_out: int, rng: np.random.Generator) -> Sequential:
    """The network of ``cfg`` for examples of ``shape`` (the data's) and ``n_out`` outputs."""
    in_shape = example_shape(shape, cfg.dims, cfg.input_shape)
    conv = Conv1D if cfg.dims == 1 else Conv2D
    layers = []
    columns = zip(
        cfg.channels, *(per_layer(cfg, k) for k in ("kernel", "stride", "dilation", "pool_size"))
    )
    for channels, kernel, stride, dilation, pool_size in columns:
        layers.append(conv(channels, kernel, stride, dilation, cfg.padding))
        if cfg.batch_norm:
            layers.append(BatchNorm())
        layers.append(Activation(cfg.activation))
        if cfg.pool != "none":
            layers.append(Pool(cfg.pool, pool_size))
    layers.append(GlobalAvgPool() if cfg.global_pool else Flatten())
    for width in cfg.hidden:
        layers += [Dense(width), Activation(cfg.activation)]
        if cfg.dropout:
            layers.append(Dropout(cfg.dropout))
    layers.append(Dense(n_out))
    return Sequential(layers, in_shape, cfg.output, cfg.cost, cfg.init, cfg.dtype, rng)
