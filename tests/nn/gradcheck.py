"""Central finite differences in float64: the reference every layer's backward is checked
against (relative error of the whole gradient below 1e-6)."""

from __future__ import annotations

import numpy as np


def numeric_grad(loss, theta: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d loss() / d theta by central differences, perturbing ``theta`` in place."""
    g = np.zeros_like(theta)
    for i in range(len(theta)):
        old = theta[i]
        theta[i] = old + eps
        up = loss()
        theta[i] = old - eps
        down = loss()
        theta[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a + b), 1e-12))


def check_network(net, x, y, tol: float = 1e-6) -> float:
    """``net.loss_and_grad`` against finite differences of its train-mode loss with the same
    randomness (a fresh generator of seed 0 for each evaluation, so dropout masks repeat)."""
    net.loss_and_grad(x, y, rng=np.random.default_rng(0))
    analytic = net.grad.copy()

    def loss():
        return net.loss_and_grad(x, y, rng=np.random.default_rng(0))

    numeric = numeric_grad(loss, net.theta)
    err = relative_error(analytic, numeric)
    assert err < tol, f"relative error {err:.3g}"
    return err


def check_input_grad(layer, x, tol: float = 1e-6) -> float:
    """A layer's returned dLoss/dInput against finite differences of sum(w * forward(x))
    for a fixed random w (train mode, same randomness each time)."""
    y, cache = layer.forward(x, True, np.random.default_rng(0))
    w = np.random.default_rng(1).standard_normal(y.shape)
    analytic = layer.backward(w.copy(), cache)
    flat = x.reshape(-1)

    def loss():
        return float(np.sum(w * layer.forward(x, True, np.random.default_rng(0))[0]))

    numeric = numeric_grad(loss, flat).reshape(x.shape)
    err = relative_error(analytic, numeric)
    assert err < tol, f"relative error {err:.3g}"
    return err
