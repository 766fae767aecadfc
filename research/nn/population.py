"""Evaluate a whole population of weight sets in one call (P networks x B inputs).

A genome is exactly a model's flat ``theta``. Sums over inputs run in a fixed Python
order (elementwise multiply-adds, which numpy computes identically whatever the shapes), so
each individual's outputs are bit-identical whatever P and B are and whoever shares the
call — the same seed gives the same evolution. Above ``FIXED_ORDER_MAX`` inputs a batched
matmul is used instead: faster, but not bit-stable across batch shapes.
"""

from __future__ import annotations

import numpy as np

from research.errors import ConfigError
from research.nn.elman import ElmanNet
from research.nn.mlp import MLP

FIXED_ORDER_MAX = 64


def _affine(a: np.ndarray, W: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """z[p, n, :] = sum_i a[p, n, i] W[p, i, :] (+ b[p]) in a fixed order of i."""
    n_in = W.shape[1]
    if n_in > FIXED_ORDER_MAX:
        z = np.matmul(a, W)
    else:
        z = a[:, :, 0, None] * W[:, None, 0, :]
        for i in range(1, n_in):
            z += a[:, :, i, None] * W[:, None, i, :]
    if b is not None:
        z += b[:, None, :]
    return z


def _batch(x: np.ndarray, P: int, dtype) -> np.ndarray:
    x = np.asarray(x, dtype)
    return np.broadcast_to(x, (P, *x.shape)) if x.ndim == 2 else x


def mlp_forward_population(model: MLP, thetas: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Outputs (P, B, n_out) of P MLPs with ``model``'s architecture and weights ``thetas``
    (P, n_params); ``x`` is (B, n_in) shared by all, or (P, B, n_in)."""
    if model.batch_norm or model.dropout:
        raise ConfigError("population evaluation needs batch_norm=false and dropout=0")
    thetas = np.asarray(thetas, model.dtype)
    P = thetas.shape[0]
    a = _batch(x, P, model.dtype)
    view, blocks = model.layout.view, model.layout.slices
    for l in range(model.n_layers):
        bias = view(thetas, f"b{l}") if f"b{l}" in blocks else None
        z = _affine(a, view(thetas, f"W{l}"), bias)
        a = model.out.f(z) if l == model.n_layers - 1 else model.acts[l].f(z)
    return a


def elman_step_population(
    net: ElmanNet, thetas: np.ndarray, x_t: np.ndarray, h: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One time step of P Elman nets: returns (outputs (P, B, n_out), new hidden state)."""
    thetas = np.asarray(thetas, net.dtype)
    P = thetas.shape[0]
    view = net.layout.view
    bh = view(thetas, "bh") if net.bias else None
    bo = view(thetas, "bo") if net.bias else None
    z = _affine(_batch(x_t, P, net.dtype), view(thetas, "Wx"), bh)
    z += _affine(h, view(thetas, "Wh"), None)
    h_new = net.act.f(z)
    y = net.out.f(_affine(h_new, view(thetas, "Wo"), bo))
    return y, h_new
