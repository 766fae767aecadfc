"""The conditional GAN: both costs by hand and against finite differences, a short training
on ring8, and the one-line error for regression data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from research.data import load_dataset
from research.data.mixtures import mode_quality, ring8, ring_modes
from research.errors import ConfigError
from research.nn.gan import GANModel, build_gan, d_cost, g_cost
from research.train.adversarial import fit_adversarial
from research.train.fit import fit_model
from research.train.optimisers import AdamRegime
from tests.nn.gradcheck import numeric_grad, relative_error


def _tiny(n=6):
    """A float64 GAN on ring8 points (8 classes), with fixed x, y and z."""
    data = ring8(seed=0, dtype="float64", n_train=n, n_val=0, n_test=0)
    cfg = GANModel(z_dim=3, g_hidden=[5], d_hidden=[4, 3], dtype="float64")
    net = build_gan(cfg, data, np.random.default_rng(1))
    rng = np.random.default_rng(2)
    y = net.onehot(data.y_train)
    return net, data.x_train, y, net.noise(n, rng)


def test_costs_by_hand():
    log2 = math.log(2)
    value, d_real, d_fake = d_cost(np.zeros(2), np.zeros(2))
    assert value == pytest.approx(log2)  # D = 1/2 everywhere: J_D = log 2
    assert np.allclose(d_real, -0.25 / 2) and np.allclose(d_fake, 0.25 / 2)
    value, _, _ = d_cost(np.array([2.0]), np.array([-1.0]))
    by_hand = -0.5 * math.log(1 / (1 + math.exp(-2))) - 0.5 * math.log(1 - 1 / (1 + math.exp(1)))
    assert value == pytest.approx(by_hand)
    assert g_cost(np.array([0.0]))[0] == pytest.approx(0.5 * log2)
    # stable from logits: a confident D gives finite costs, not log(0)
    assert d_cost(np.array([1000.0]), np.array([-1000.0]))[0] == pytest.approx(0.0)
    value, grad = g_cost(np.array([-1000.0]))
    assert value == pytest.approx(500.0) and grad[0] == pytest.approx(-0.5)


def test_d_cost_gradient_matches_finite_differences():
    net, x, y, z = _tiny()
    g_before = net.G.theta.copy()
    net.d_loss_and_grad(x, y, z)
    analytic = net.D.grad.copy()
    numeric = numeric_grad(lambda: net.d_loss_and_grad(x, y, z), net.D.theta)
    assert relative_error(analytic, numeric) < 1e-6
    assert np.array_equal(net.G.theta, g_before)


def test_g_cost_gradient_matches_finite_differences():
    net, _, y, z = _tiny()
    net.g_loss_and_grad(y, z)
    analytic = net.G.grad.copy()
    numeric = numeric_grad(lambda: net.g_loss_and_grad(y, z), net.G.theta)
    assert relative_error(analytic, numeric) < 1e-6


def test_mode_quality_counts_modes_and_high_quality_samples():
    modes = ring_modes()
    points = np.concatenate([modes[:3], modes[:1] + 0.05, modes[:1] + 0.5])
    q = mode_quality(points, np.array([0, 1, 2, 0, 3]), modes, 0.02)
    # 0.05 * sqrt(2) = 0.071 > 3 std = 0.06: only the three exact points are high quality
    assert q["modes"] == 3 and q["high_quality"] == pytest.approx(3 / 5)
    assert q["cond_acc"] == pytest.approx(4 / 5)


def test_short_training_moves_samples_to_the_modes():
    # wider modes (std 0.1) than the bench's 0.02, so that a few epochs show the trend
    data = ring8(seed=0, dtype="float32", n_train=1000, n_val=300, n_test=0, std=0.1)
    net = build_gan(GANModel(samples=500), data, np.random.default_rng(0))
    regime = AdamRegime(epochs=8, batch_size=32, beta1=0.5)
    result = fit_model(net, regime, data, seed=0)
    assert result.status == "finished"
    first, last = result.history[0], result.history[-1]
    assert {"d/loss", "g/loss", "val/modes", "val/high_quality"} <= set(last)
    assert last["val/high_quality"] > first["val/high_quality"] + 0.1
    assert first["val/cond_acc"] < 0.2 < 0.8 < last["val/cond_acc"]


def test_regression_data_is_a_one_line_error():
    sine = load_dataset("sine", seed=0)
    with pytest.raises(ConfigError) as err:
        build_gan(GANModel(), sine, np.random.default_rng(0))
    message = str(err.value)
    assert "\n" not in message
    assert message == (
        "a GAN needs class labels to condition on: data=sine is a regression data set"
    )
    net, *_ = _tiny()
    with pytest.raises(ConfigError, match="regression data set"):
        fit_adversarial(net, AdamRegime(epochs=1), sine, None)


def test_reporter_can_stop_an_adversarial_fit():
    class StopAfterOne:
        def epoch(self, step, metrics):
            return step == 1

    data = ring8(seed=0, dtype="float32", n_train=64, n_val=32, n_test=0)
    net = build_gan(GANModel(samples=50), data, np.random.default_rng(0))
    result = fit_model(net, AdamRegime(epochs=5), data, StopAfterOne(), seed=0)
    assert (result.status, result.epochs, len(result.history)) == ("stopped", 1, 2)
    assert {"d/loss", "g/loss", "time/epoch"} <= set(result.history[1])
