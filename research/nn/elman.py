"""Elman recurrent network: h_t = f(x_t Wx + h_{t-1} Wh + bh), h_0 = 0; the output
y = g(h_T Wo + bo) is read at the last step. Trained by backpropagation through time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from research import schema as S
from research.nn.functions import activation, cost, initialiser
from research.nn.layout import FlatModel, Layout
from research.nn.schema import ModelConfig, check_units


@dataclass
class ElmanModel(ModelConfig):
    """Elman recurrent net: one recurrent hidden layer of width ``hidden[0]``."""

    name: str = "elman"
    hidden: list[int] = field(default_factory=lambda: [8])
    activation: str = "tanh"
    output: str = "linear"
    cost: str = "quadratic"
    init: str = "fan_in"
    bias: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        S.require(
            len(self.hidden) == 1 and self.hidden[0] >= 1,
            "hidden",
            list(self.hidden),
            "an Elman net has one recurrent layer: give [width], width >= 1",
        )
        check_units(self.activation, self.output, self.cost, self.init)

    def size(self, n_in: int, n_out: int) -> tuple[float, float, str, Any]:
        h, bias = float(self.hidden[0]), 1.0 if self.bias else 0.0
        params = h * (n_in + h + bias) + n_out * (h + bias)
        return params, h, "model.hidden", list(self.hidden)


class ElmanNet(FlatModel):
    def __init__(
        self,
        n_inputs: int,
        n_hidden: int,
        n_outputs: int,
        activation: str = "tanh",
        output: str = "linear",
        cost: str = "quadratic",
        init: str = "fan_in",
        bias: bool = True,
        dtype: str = "float32",
        rng: np.random.Generator | None = None,
    ) -> None:
        self.n_inputs, self.n_hidden, self.n_outputs, self.bias = (
            n_inputs,
            n_hidden,
            n_outputs,
            bias,
        )
        self.act = _activation(activation)
        self.out = _activation(output, output=True)
        self.cost = _cost(cost, output)
        blocks = [("Wx", (n_inputs, n_hidden), True), ("Wh", (n_hidden, n_hidden), True)]
        if bias:
            blocks.append(("bh", (n_hidden,), False))
        blocks.append(("Wo", (n_hidden, n_outputs), True))
        if bias:
            blocks.append(("bo", (n_outputs,), False))
        self._use(Layout(blocks, dtype))
        rng = rng or np.random.default_rng(0)
        init_fn = initialiser(init)
        p = self.layout.params
        p["Wx"][...], bh = init_fn(rng, n_inputs, n_hidden)
        p["Wh"][...], _ = init_fn(rng, n_hidden, n_hidden)
        p["Wo"][...], bo = init_fn(rng, n_hidden, n_outputs)
        if bias:
            p["bh"][...], p["bo"][...] = bh, bo

    def _seq(self, x) -> np.ndarray:
        x = np.asarray(x, self.dtype)
        return x[:, :, None] if x.ndim == 2 else x

    def _run(self, x):
        p = self.layout.params
        B, T, _ = x.shape
        h = np.zeros((B, self.n_hidden), self.dtype)
        zs, hs = [], [h]
        for t in range(T):
            z = x[:, t] @ p["Wx"] + h @ p["Wh"]
            if self.bias:
                z += p["bh"]
            h = self.act.f(z)
            zs.append(z)
            hs.append(h)
        return zs, hs

    def _output(self, h):
        p = self.layout.params
        z = h @ p["Wo"] + (p["bo"] if self.bias else 0)
        return z, self.out.f(z)

    def forward(self, x, *, train: bool = False, rng=None) -> np.ndarray:
        _, hs = self._run(self._seq(x))
        return self._output(hs[-1])[1]

    def loss_and_grad(self, x, y, *, rng=None) -> float:
        x = self._seq(x)
        p, g = self.layout.params, self.layout.grads
        zs, hs = self._run(x)
        zo, out = self._output(hs[-1])
        delta = self.cost.delta(zo, out, y, self.out)
        g["Wo"][...] = hs[-1].T @ delta
        if self.bias:
            g["bo"][...] = delta.sum(0)
        dh = delta @ p["Wo"].T
        gWx, gWh = g["Wx"], g["Wh"]
        gWx[...] = 0
        gWh[...] = 0
        if self.bias:
            g["bh"][...] = 0
        for t in range(x.shape[1] - 1, -1, -1):
            dz = dh * self.act.df(zs[t], hs[t + 1])
            gWx += x[:, t].T @ dz
            gWh += hs[t].T @ dz
            if self.bias:
                g["bh"] += dz.sum(0)
            dh = dz @ p["Wh"].T
        return self.cost.value(out, y)

    def initial_state(self, P: int, B: int) -> np.ndarray:
        return np.zeros((P, B, self.n_hidden), self.dtype)


_activation, _cost = activation, cost
