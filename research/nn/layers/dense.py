"""Layers that act on the last axis only: dense (affine), activation, dropout, batch norm,
maxout, and flatten. Each works on any leading shape, so a dense layer also maps every time
step of a sequence."""

from __future__ import annotations

import math

import numpy as np

from research import schema as S
from research.errors import ConfigError
from research.nn.functions import activation
from research.nn.layers.base import Layer, Shape

BN_MOMENTUM = 0.9
BN_EPS = 1e-5


def _rows(x: np.ndarray) -> np.ndarray:
    """All leading axes as rows: (..., D) -> (M, D)."""
    return x.reshape(-1, x.shape[-1])


class Dense(Layer):
    """y = x W + b over the last axis (W: (D_in, units))."""

    def __init__(self, units: int, bias: bool = True) -> None:
        S.positive("units", units)
        self.units, self.bias = int(units), bool(bias)

    def build(self, in_shape: Shape) -> Shape:
        super().build(in_shape)
        self.n_in = int(in_shape[-1])
        return (*in_shape[:-1], self.units)

    def blocks(self):
        blocks = [("W", (self.n_in, self.units), True)]
        return blocks + ([("b", (self.units,), False)] if self.bias else [])

    def initialise(self, rng, init) -> None:
        w, b = init(rng, self.n_in, self.units)
        self.p["W"][...] = w
        if self.bias:
            self.p["b"][...] = b

    def forward(self, x, train, rng):
        y = x @ self.p["W"]
        if self.bias:
            y += self.p["b"]
        return y, x

    def backward(self, dy, x):
        rows, drows = _rows(x), _rows(dy)
        np.matmul(rows.T, drows, out=self.g["W"])
        if self.bias:
            np.sum(drows, axis=0, out=self.g["b"])
        return dy @ self.p["W"].T


class Activation(Layer):
    """An elementwise nonlinearity (``relu``, ``tanh``...: :data:`ACTIVATIONS`)."""

    def __init__(self, name: str) -> None:
        self.fn = activation(name)

    def forward(self, x, train, rng):
        y = self.fn.f(x)
        return y, (x, y)

    def backward(self, dy, cache):
        x, y = cache
        return dy * self.fn.df(x, y)


class Dropout(Layer):
    """Inverted dropout: in training, keep each unit with probability 1 - ``rate`` and scale
    the kept ones by 1 / (1 - rate), so evaluation needs no rescaling."""

    def __init__(self, rate: float) -> None:
        S.fraction("dropout", rate)
        if rate >= 1:
            raise ConfigError(f"dropout={rate!r} is not allowed: must be in [0, 1)")
        self.rate = float(rate)

    def forward(self, x, train, rng):
        if not train or self.rate == 0:
            return x, None
        keep = 1 - self.rate
        mask = (rng.random(x.shape) < keep).astype(x.dtype) / x.dtype.type(keep)
        return x * mask, mask

    def backward(self, dy, mask):
        return dy if mask is None else dy * mask


class BatchNorm(Layer):
    """Batch normalisation over every axis but the last (per channel for sequences and
    images): y = gamma (x - mean) / sqrt(var + eps) + beta, with running moments for
    evaluation (Ioffe & Szegedy 2015)."""

    def build(self, in_shape: Shape) -> Shape:
        super().build(in_shape)
        c = int(in_shape[-1])
        self.running_mean = np.zeros(c, self.dtype)
        self.running_var = np.ones(c, self.dtype)
        return self.in_shape

    def blocks(self):
        c = self.in_shape[-1]
        return [("gamma", (c,), False), ("beta", (c,), False)]

    def initialise(self, rng, init) -> None:
        self.p["gamma"][...] = 1

    def forward(self, x, train, rng):
        rows = _rows(x)
        if train:
            mean, var = rows.mean(0), rows.var(0)
            self.running_mean *= BN_MOMENTUM
            self.running_mean += (1 - BN_MOMENTUM) * mean
            self.running_var *= BN_MOMENTUM
            self.running_var += (1 - BN_MOMENTUM) * var
        else:
            mean, var = self.running_mean, self.running_var
        inv = 1 / np.sqrt(var + BN_EPS)
        xhat = (x - mean) * inv
        return xhat * self.p["gamma"] + self.p["beta"], (xhat, inv)

    def backward(self, dy, cache):
        xhat, inv = cache
        d, h = _rows(dy), _rows(xhat)
        np.sum(d * h, axis=0, out=self.g["gamma"])
        np.sum(d, axis=0, out=self.g["beta"])
        dh = d * self.p["gamma"]
        n = dh.shape[0]
        dx = inv / n * (n * dh - dh.sum(0) - h * np.sum(dh * h, axis=0))
        return dx.reshape(dy.shape)

    def state(self):
        return {"running_mean": self.running_mean.copy(), "running_var": self.running_var.copy()}

    def load_state(self, state) -> None:
        self.running_mean[...] = state["running_mean"]
        self.running_var[...] = state["running_var"]


class Maxout(Layer):
    """Maxout units (Goodfellow et al. 2013): ``units`` outputs, each the max of ``pieces``
    affine pieces of the input, h_i = max_j (x W_ij + b_ij). The gradient flows through the
    winning piece only."""

    def __init__(self, units: int, pieces: int = 2) -> None:
        S.positive("units", units)
        S.require(pieces >= 2, "maxout pieces", pieces, "must be >= 2")
        self.units, self.pieces = int(units), int(pieces)

    def build(self, in_shape: Shape) -> Shape:
        super().build(in_shape)
        self.n_in = int(in_shape[-1])
        return (*in_shape[:-1], self.units)

    def blocks(self):
        k = self.units * self.pieces
        return [("W", (self.n_in, k), True), ("b", (k,), False)]

    def initialise(self, rng, init) -> None:
        self.p["W"][...], self.p["b"][...] = init(rng, self.n_in, self.units * self.pieces)

    def forward(self, x, train, rng):
        z = (x @ self.p["W"] + self.p["b"]).reshape(*x.shape[:-1], self.units, self.pieces)
        win = z.argmax(-1)
        y = np.take_along_axis(z, win[..., None], -1)[..., 0]
        return y, (x, win)

    def backward(self, dy, cache):
        x, win = cache
        dz = np.zeros((*dy.shape, self.pieces), dy.dtype)
        np.put_along_axis(dz, win[..., None], dy[..., None], -1)
        dz = dz.reshape(*dy.shape[:-1], self.units * self.pieces)
        rows, drows = _rows(x), _rows(dz)
        np.matmul(rows.T, drows, out=self.g["W"])
        np.sum(drows, axis=0, out=self.g["b"])
        return dz @ self.p["W"].T


class Flatten(Layer):
    """(N, ...) -> (N, prod(...)): from feature maps to a dense layer."""

    def build(self, in_shape: Shape) -> Shape:
        super().build(in_shape)
        return (math.prod(in_shape),)

    def forward(self, x, train, rng):
        return x.reshape(len(x), -1), x.shape

    def backward(self, dy, shape):
        return dy.reshape(shape)
