"""Activations, costs and initialisers, each in a registry found by config name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from research.errors import ConfigError, unknown_name


@dataclass(frozen=True)
class Activation:
    """``f(z) -> a`` and its elementwise derivative ``df(z, a) = da/dz``."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray, np.ndarray], np.ndarray]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


#: hidden-layer activations
ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", expit, lambda z, a: a * (1 - a)),
        Activation("tanh", np.tanh, lambda z, a: 1 - a * a),
        Activation("relu", lambda z: np.maximum(z, 0), lambda z, a: (z > 0).astype(z.dtype)),
        Activation(
            "leaky_relu",
            lambda z: np.where(z > 0, z, z * z.dtype.type(0.01)),
            lambda z, a: np.where(z > 0, 1, 0.01).astype(z.dtype),
        ),
        Activation("softplus", lambda z: np.logaddexp(0, z), lambda z, a: expit(z)),
        Activation("linear", lambda z: z, lambda z, a: np.ones_like(z)),
    )
}
SOFTMAX = Activation("softmax", _softmax, lambda z, a: None)
#: output-layer activations: every hidden one plus softmax
OUTPUTS: dict[str, Activation] = {**ACTIVATIONS, "softmax": SOFTMAX}


def activation(name: str, *, output: bool = False) -> Activation:
    table = OUTPUTS if output else ACTIVATIONS
    if name not in table:
        raise unknown_name("output" if output else "activation", name, table)
    return table[name]


EPS = 1e-12


@dataclass(frozen=True)
class Cost:
    """A cost, mean over the batch of a per-example sum over outputs.

    ``value(a, y)`` is the mean cost; ``delta(z, a, y, out)`` is dC/dz at the output layer
    (already divided by the batch size)."""

    name: str
    value: Callable[[np.ndarray, np.ndarray], float]
    dc_da: Callable[[np.ndarray, np.ndarray], np.ndarray]
    outputs: tuple[str, ...] | None  # allowed output activations (None: any)

    def delta(self, z: np.ndarray, a: np.ndarray, y: np.ndarray, out: Activation) -> np.ndarray:
        n = a.shape[0]
        if (self.name, out.name) in (("cross_entropy", "sigmoid"), ("log_likelihood", "softmax")):
            return (a - y) / n  # the simplified deltas
        g = self.dc_da(a, y)
        if out.name == "softmax":  # Jacobian-vector product of softmax
            return a * (g - np.sum(g * a, axis=-1, keepdims=True)) / n
        return g * out.df(z, a) / n


def _ce(a, y):
    a = np.clip(a, EPS, 1 - EPS)
    return float(-np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)) / a.shape[0])


COSTS: dict[str, Cost] = {
    c.name: c
    for c in (
        Cost(
            "quadratic",
            lambda a, y: float(0.5 * np.sum((a - y) ** 2) / a.shape[0]),
            lambda a, y: a - y,
            None,
        ),
        Cost(
            "cross_entropy",
            _ce,
            lambda a, y: (a - y) / np.clip(a * (1 - a), EPS, None),
            ("sigmoid", "softmax"),
        ),
        Cost(
            "log_likelihood",
            lambda a, y: float(-np.sum(y * np.log(np.clip(a, EPS, None))) / a.shape[0]),
            lambda a, y: -y / np.clip(a, EPS, None),
            ("softmax",),
        ),
    )
}


def cost(name: str, output: str) -> Cost:
    """The cost ``name``, checked against the output activation it is used with."""
    if name not in COSTS:
        raise unknown_name("cost", name, COSTS)
    c = COSTS[name]
    if c.outputs is not None and output not in c.outputs:
        raise ConfigError(
            f"cost {name!r} needs output {' or '.join(repr(o) for o in c.outputs)}; got {output!r}"
        )
    return c


def _normal(rng, n_in, n_out):
    return rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out)


def _fan_in(rng, n_in, n_out):
    return rng.standard_normal((n_in, n_out)) / np.sqrt(n_in), rng.standard_normal(n_out)


def _glorot(rng, n_in, n_out):
    r = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-r, r, (n_in, n_out)), np.zeros(n_out)


def _he(rng, n_in, n_out):
    return rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in), np.zeros(n_out)


def _sparse(rng, n_in, n_out, k=15):
    """Martens (2010): each unit gets min(15, n_in) nonzero N(0, 1) incoming weights."""
    w = np.zeros((n_in, n_out))
    for j in range(n_out):
        rows = rng.choice(n_in, size=min(k, n_in), replace=False)
        w[rows, j] = rng.standard_normal(len(rows))
    return w, np.zeros(n_out)


#: name -> f(rng, n_in, n_out) -> (W (n_in, n_out), b (n_out,)) in float64
INITIALISERS: dict[str, Callable] = {
    "normal": _normal,  # Nielsen's network.py: weights and biases N(0, 1)
    "fan_in": _fan_in,  # Nielsen ch. 3: W ~ N(0, 1/n_in), b ~ N(0, 1)
    "glorot": _glorot,
    "he": _he,
    "sparse": _sparse,
}


def initialiser(name: str) -> Callable:
    if name not in INITIALISERS:
        raise unknown_name("initialiser", name, INITIALISERS)
    return INITIALISERS[name]
