"""Gradient checks (float64) for the last-axis layers and the Sequential network."""

from __future__ import annotations

import numpy as np
import pytest

from research.errors import ConfigError
from research.nn.layers import Activation, BatchNorm, Dense, Dropout, Flatten, Maxout
from research.nn.sequential import Sequential
from tests.nn.gradcheck import check_input_grad, check_network


def _net(layers, in_shape, output="softmax", cost="log_likelihood"):
    return Sequential(layers, in_shape, output, cost, "fan_in", "float64", np.random.default_rng(0))


def _data(in_shape, n=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *in_shape)) + 0.05
    return x, np.eye(k)[rng.integers(0, k, n)]


@pytest.mark.parametrize(
    "layers",
    [
        lambda: [Dense(4), Activation("tanh"), Dense(3)],
        lambda: [Dense(4), BatchNorm(), Activation("relu"), Dropout(0.3), Dense(3)],
        lambda: [Maxout(4, pieces=3), Maxout(5, pieces=2), Dense(3)],
        lambda: [Dense(4, bias=False), Activation("sigmoid"), Dense(3, bias=False)],
    ],
    ids=["dense", "batchnorm-dropout", "maxout", "no-bias"],
)
def test_vector_layers_match_finite_differences(layers):
    x, y = _data((6,))
    check_network(_net(layers(), (6,)), x, y)


def test_per_step_layers_and_flatten_on_sequences():
    """Dense, batch norm and maxout act on the last axis of (N, T, C) inputs."""
    x, y = _data((4, 2))
    layers = [Dense(3), BatchNorm(), Maxout(2, pieces=2), Flatten(), Dense(3)]
    check_network(_net(layers, (4, 2)), x, y)


@pytest.mark.parametrize("layer", [lambda: Maxout(3, 2), lambda: BatchNorm(), lambda: Dense(2)])
def test_input_gradients(layer):
    net = _net([layer(), Flatten(), Dense(3)], (4, 5))  # binds the layer's parameters
    x = np.random.default_rng(2).standard_normal((3, 4, 5))
    check_input_grad(net.layers[0], x)


def test_state_round_trip_keeps_running_moments():
    net = _net([Dense(4), BatchNorm(), Activation("relu"), Dense(3)], (6,))
    x, y = _data((6,), n=20)
    net.loss_and_grad(x, y, rng=np.random.default_rng(0))
    state = net.state_dict()
    assert "1.running_mean" in state and np.any(state["1.running_mean"] != 0)
    other = _net([Dense(4), BatchNorm(), Activation("relu"), Dense(3)], (6,))
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.predict(x), net.predict(x))


def test_input_that_does_not_fit_is_one_line():
    net = _net([Flatten(), Dense(3)], (4, 2))
    with pytest.raises(ConfigError, match=r"input of shape \(7,\) does not fit .*\(4, 2\)"):
        net.predict(np.zeros((2, 7)))
