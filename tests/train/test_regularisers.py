"""Weight penalties with Nielsen's 1/n scaling (value, finite-difference gradient, weight
decay) and gradient-norm clipping."""

from __future__ import annotations

import numpy as np
import pytest

from research.errors import ConfigError
from research.train.optimisers import make_optimiser
from research.train.regularisers import add_penalty_grad, clip_grad_norm


def test_penalty_values_and_gradients_by_hand():
    theta = np.array([1.0, -2.0, 3.0])
    mask = np.array([1.0, 1.0, 0.0])  # the third entry is a bias: not penalised
    grad = np.array([0.1, 0.2, 0.3])
    # L2: lambda / (2n) sum w^2 = 2 / 8 * (1 + 4) = 1.25; gradient 2/4 * w = [0.5, -1, 0]
    assert add_penalty_grad(grad, theta, mask, 0.0, 2.0, 4) == pytest.approx(1.25)
    np.testing.assert_allclose(grad, [0.6, -0.8, 0.3])
    grad = np.array([0.1, 0.2, 0.3])
    # L1: lambda1 / n sum |w| = 3/4 * 3 = 2.25; gradient 3/4 * sign(w) = [0.75, -0.75, 0]
    assert add_penalty_grad(grad, theta, mask, 3.0, 0.0, 4) == pytest.approx(2.25)
    np.testing.assert_allclose(grad, [0.85, -0.55, 0.3])
    grad = np.array([0.1, 0.2, 0.3])
    # both at once add up; theta is untouched
    assert add_penalty_grad(grad, theta, mask, 3.0, 2.0, 4) == pytest.approx(3.5)
    np.testing.assert_allclose(grad, [1.35, -1.55, 0.3])
    np.testing.assert_array_equal(theta, [1.0, -2.0, 3.0])


def test_no_penalty_leaves_the_gradient_alone():
    grad = np.array([0.1, 0.2])
    assert add_penalty_grad(grad, np.ones(2), np.ones(2), 0.0, 0.0, 10) == 0.0
    np.testing.assert_array_equal(grad, [0.1, 0.2])


def test_penalty_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(12)
    theta[np.abs(theta) < 0.05] = 0.5  # keep |w| away from the kink of the L1 term
    mask = (rng.random(12) < 0.7).astype(float)
    l1, l2, n = 0.3, 1.7, 50

    def penalty(w):
        return add_penalty_grad(np.zeros(12), w, mask, l1, l2, n)

    grad = np.zeros(12)
    add_penalty_grad(grad, theta, mask, l1, l2, n)
    h = 1e-6
    numeric = np.empty(12)
    for i in range(12):
        e = np.zeros(12)
        e[i] = h
        numeric[i] = (penalty(theta + e) - penalty(theta - e)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    assert np.all(grad[mask == 0] == 0)


def test_float32_penalty_keeps_dtype_and_mask_none_penalises_everything():
    theta = np.array([1.0, -2.0], dtype=np.float32)
    grad = np.zeros(2, dtype=np.float32)
    value = add_penalty_grad(grad, theta, None, 0.0, 1.0, 1)
    assert value == pytest.approx(2.5) and grad.dtype == np.float32
    np.testing.assert_allclose(grad, [1.0, -2.0])


def test_sgd_with_l2_shrinks_weights_by_nielsens_decay_factor():
    eta, lam, n = 0.5, 5.0, 1000
    theta = np.array([2.0, -4.0, 1.0])
    mask = np.array([1.0, 1.0, 0.0])
    data_grad = np.array([0.2, 0.4, 0.6])
    grad = data_grad.copy()
    add_penalty_grad(grad, theta, mask, 0.0, lam, n)
    make_optimiser("sgd", 3, np.float64, np.random.default_rng(0)).step(theta, grad, eta)
    decay = 1 - eta * lam / n  # 0.9975
    # weights: w <- (1 - eta lambda / n) w - eta g; the bias only takes the gradient step
    np.testing.assert_allclose(theta, [decay * 2.0 - 0.1, decay * -4.0 - 0.2, 1.0 - 0.3])


def test_clip_grad_norm_rescales_only_when_over_the_limit():
    grad = np.array([3.0, 4.0])
    assert clip_grad_norm(grad, 10.0) == 5.0
    np.testing.assert_array_equal(grad, [3.0, 4.0])
    assert clip_grad_norm(grad, 1.0) == 5.0
    np.testing.assert_allclose(grad, [0.6, 0.8])
    assert np.linalg.norm(grad) == pytest.approx(1.0)
    g32 = np.array([30.0, 40.0], dtype=np.float32)
    pointer = g32.ctypes.data
    clip_grad_norm(g32, 5.0)
    assert g32.dtype == np.float32 and g32.ctypes.data == pointer
    np.testing.assert_allclose(g32, [3.0, 4.0], rtol=1e-6)


def test_clip_grad_norm_rejects_a_non_positive_limit():
    with pytest.raises(ConfigError, match="clip_norm"):
        clip_grad_norm(np.ones(2), 0.0)
