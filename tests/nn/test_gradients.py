"""Finite-difference gradient checks (float64, central differences) for every model part."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from research.errors import ConfigError
from research.nn import ACTIVATIONS, MLP, ElmanNet, RBFNet

PAIRS = [
    ("sigmoid", "quadratic"),
    ("linear", "quadratic"),
    ("tanh", "quadratic"),
    ("softmax", "quadratic"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "cross_entropy"),
    ("softmax", "log_likelihood"),
]


def numeric_grad(model, x, y, eps=1e-6):
    theta = model.theta
    g = np.zeros_like(theta)
    for i in range(len(theta)):
        old = theta[i]
        theta[i] = old + eps
        up = model.loss(x, y)
        theta[i] = old - eps
        down = model.loss(x, y)
        theta[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def check(model, x, y, train_loss=None):
    model.loss_and_grad(x, y)
    analytic = model.grad.copy()
    numeric = numeric_grad(model, x, y) if train_loss is None else train_loss()
    err = np.linalg.norm(analytic - numeric) / max(np.linalg.norm(analytic + numeric), 1e-12)
    assert err < 1e-6, err


def targets(rng, kind, n, k):
    if kind == "onehot":
        return np.eye(k)[rng.integers(0, k, n)]
    return rng.random((n, k))


@pytest.mark.parametrize(("hidden", "pair"), list(itertools.product(sorted(ACTIVATIONS), PAIRS)))
def test_mlp_gradient_every_activation_and_cost(hidden, pair):
    output, cost = pair
    rng = np.random.default_rng(0)
    net = MLP([3, 4, 5, 3], [hidden, hidden], output, cost, "fan_in", dtype="float64", rng=rng)
    x = rng.standard_normal((6, 3)) + 0.1  # relu kinks are avoided with probability one
    y = targets(rng, "onehot" if output == "softmax" else "soft", 6, 3)
    check(net, x, y)


def test_perceptron_gradient():
    rng = np.random.default_rng(1)
    net = MLP([4, 2], [], "sigmoid", "quadratic", "normal", dtype="float64", rng=rng)
    check(net, rng.standard_normal((5, 4)), rng.random((5, 2)))


def test_bias_free_mlp_gradient_and_layout_hold_weights_only():
    rng = np.random.default_rng(5)
    net = MLP([3, 4, 2], ["tanh"], "linear", "quadratic", dtype="float64", bias=False, rng=rng)
    assert set(net.layout.slices) == {"W0", "W1"}
    assert net.n_params == 3 * 4 + 4 * 2
    check(net, rng.standard_normal((5, 3)), rng.random((5, 2)))


def test_batch_norm_gradient_in_train_mode():
    rng = np.random.default_rng(2)
    net = MLP(
        [3, 5, 4, 2],
        ["tanh", "sigmoid"],
        "softmax",
        "log_likelihood",
        dtype="float64",
        batch_norm=True,
        rng=rng,
    )
    x, y = rng.standard_normal((7, 3)), np.eye(2)[rng.integers(0, 2, 7)]

    def train_mode_numeric():
        theta, g = net.theta, np.zeros_like(net.theta)
        saved = net.state_dict()
        for i in range(len(theta)):
            vals = []
            for d in (1e-6, -1e-6):
                old = theta[i]
                theta[i] = old + d
                vals.append(net.cost.value(net.forward(x, train=True), y))
                theta[i] = old
            g[i] = (vals[0] - vals[1]) / 2e-6
        net.load_state_dict(saved)
        return g

    check(net, x, y, train_mode_numeric)
    gamma_block = net.layout.slices["bn0.gamma"][0]
    assert np.any(net.grad[gamma_block] != 0)


@pytest.mark.parametrize("normalised", [False, True])
def test_rbf_gradient_all_parameters(normalised):
    rng = np.random.default_rng(3)
    net = RBFNet(2, 4, 2, normalised=normalised, solver="gd", dtype="float64", rng=rng)
    x = rng.standard_normal((6, 2))
    net.prepare(x, rng.random((6, 2)), rng)
    net.layout.params["W"][...] = rng.standard_normal((4, 2))
    check(net, x, rng.random((6, 2)))


@pytest.mark.parametrize("bias", [True, False])
def test_elman_gradient_through_time(bias):
    rng = np.random.default_rng(4)
    net = ElmanNet(2, 3, 2, "tanh", "sigmoid", "cross_entropy", bias=bias, dtype="float64", rng=rng)
    check(net, rng.standard_normal((4, 5, 2)), rng.random((4, 2)))


def test_decay_mask_marks_exactly_the_weights():
    net = MLP([3, 4, 2], ["relu"], batch_norm=True, rng=np.random.default_rng(0))
    expected = np.zeros(net.n_params)
    for name in ("W0", "W1"):
        expected[net.layout.slices[name][0]] = 1
    assert np.array_equal(net.decay_mask, expected)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"output": "sigmoid", "cost": "log_likelihood"}, "needs output 'softmax'"),
        ({"output": "linear", "cost": "cross_entropy"}, "needs output"),
        ({"output": "nosuch"}, "unknown output 'nosuch'"),
        ({"init": "nosuch"}, "unknown initialiser"),
    ],
)
def test_invalid_combinations_are_one_line_errors(kwargs, fragment):
    args = {"output": "softmax", "cost": "log_likelihood", **kwargs}
    with pytest.raises(ConfigError, match=fragment) as info:
        MLP([2, 3, 2], ["relu"], **args)
    assert "\n" not in str(info.value)
