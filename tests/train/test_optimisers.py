"""Gradient optimisers: first steps worked by hand, in-place float32 updates, known properties,
checkpoint/resume, registry and hyperparameter errors."""

from __future__ import annotations

import numpy as np
import pytest

from research.errors import ConfigError
from research.train import optimiser_params
from research.train.optimisers import OPTIMISERS, hyperparameters, make_optimiser

GRADIENT_OPTIMISERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam"]
THETA0 = [1.0, -2.0]


def run(name: str, grads, lr: float, theta0=THETA0, dtype=np.float64, **hyper):
    """Apply ``grads`` one by one from ``theta0``; return theta after each step."""
    theta = np.array(theta0, dtype=dtype)
    opt = make_optimiser(name, theta.size, dtype, np.random.default_rng(0), **hyper)
    seen = []
    for g in grads:
        opt.step(theta, np.array(g, dtype=dtype), lr)
        seen.append(theta.copy())
    return seen


def assert_steps(got, expected):
    for step, (g, e) in enumerate(zip(got, expected, strict=True), start=1):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-14, err_msg=f"step {step}")


# --- first three steps, worked by hand (theta0 = [1, -2]) ------------------------------------
def test_sgd_first_three_steps_match_hand_arithmetic():
    grads = [[0.5, -1.0], [0.25, 0.5], [-1.0, 2.0]]
    # eta = 0.1: theta -= 0.1 * g
    expected = [
        [1 - 0.05, -2 + 0.1],  # [0.95, -1.9]
        [0.95 - 0.025, -1.9 - 0.05],  # [0.925, -1.95]
        [0.925 + 0.1, -1.95 - 0.2],  # [1.025, -2.15]
    ]
    assert_steps(run("sgd", grads, 0.1), expected)


def test_momentum_first_three_steps_match_hand_arithmetic():
    grads = [[0.5, -1.0], [0.25, 0.5], [-1.0, 2.0]]
    # mu = 0.5, eta = 0.1
    # v1 = -0.1 * g1 = [-0.05, 0.1]
    # v2 = 0.5 * v1 - 0.1 * g2 = [-0.025 - 0.025, 0.05 - 0.05] = [-0.05, 0]
    # v3 = 0.5 * v2 - 0.1 * g3 = [-0.025 + 0.1, 0 - 0.2] = [0.075, -0.2]
    expected = [
        [1 - 0.05, -2 + 0.1],  # [0.95, -1.9]
        [0.95 - 0.05, -1.9 + 0.0],  # [0.9, -1.9]
        [0.9 + 0.075, -1.9 - 0.2],  # [0.975, -2.1]
    ]
    assert_steps(run("momentum", grads, 0.1, mu=0.5), expected)


def test_nesterov_first_three_steps_match_hand_arithmetic():
    grads = [[0.5, -1.0], [0.25, 0.5], [-1.0, 2.0]]
    # mu = 0.5, eta = 0.1, same velocities as momentum: v1 = [-0.05, 0.1], v2 = [-0.05, 0],
    # v3 = [0.075, -0.2]; theta += -mu * v_prev + (1 + mu) * v
    # step 1: 1.5 * [-0.05, 0.1] = [-0.075, 0.15]
    # step 2: -0.5 * [-0.05, 0.1] + 1.5 * [-0.05, 0] = [0.025 - 0.075, -0.05] = [-0.05, -0.05]
    # step 3: -0.5 * [-0.05, 0] + 1.5 * [0.075, -0.2] = [0.025 + 0.1125, -0.3] = [0.1375, -0.3]
    expected = [
        [1 - 0.075, -2 + 0.15],  # [0.925, -1.85]
        [0.925 - 0.05, -1.85 - 0.05],  # [0.875, -1.9]
        [0.875 + 0.1375, -1.9 - 0.3],  # [1.0125, -2.2]
    ]
    assert_steps(run("nesterov", grads, 0.1, mu=0.5), expected)


def test_adagrad_first_three_steps_match_hand_arithmetic():
    # gradients chosen so G is a perfect square; eps = 1 (outside the root), eta = 1
    grads = [[3, -4], [4, 3], [12, -12]]
    # G1 = [9, 16]    sqrt + 1 = [4, 5]    step = [3/4, -4/5]
    # G2 = [25, 25]   sqrt + 1 = [6, 6]    step = [4/6, 3/6]
    # G3 = [169, 169] sqrt + 1 = [14, 14]  step = [12/14, -12/14]
    expected = [
        [1 - 0.75, -2 + 0.8],  # [0.25, -1.2]
        [0.25 - 2 / 3, -1.2 - 0.5],  # [-0.41667, -1.7]
        [0.25 - 2 / 3 - 6 / 7, -1.7 + 6 / 7],
    ]
    assert_steps(run("adagrad", grads, 1.0, eps=1.0), expected)


def test_rmsprop_first_three_steps_match_hand_arithmetic():
    # rho = 0.75, eps = 1, eta = 0.3
    grads = [[2, -4], [1, 2], [-1, -2]]
    # E1 = 0.25 * [4, 16] = [1, 4]                         sqrt + 1 = [2, 3]
    # E2 = 0.75 * [1, 4] + 0.25 * [1, 4] = [1, 4]          sqrt + 1 = [2, 3]
    # E3 = [1, 4] likewise
    # steps: 0.3 * [2/2, -4/3] = [0.3, -0.4]; 0.3 * [1/2, 2/3] = [0.15, 0.2];
    #        0.3 * [-1/2, -2/3] = [-0.15, -0.2]
    expected = [
        [1 - 0.3, -2 + 0.4],  # [0.7, -1.6]
        [0.7 - 0.15, -1.6 - 0.2],  # [0.55, -1.8]
        [0.55 + 0.15, -1.8 + 0.2],  # [0.7, -1.6]
    ]
    assert_steps(run("rmsprop", grads, 0.3, rho=0.75, eps=1.0), expected)


def test_adadelta_first_three_steps_match_hand_arithmetic():
    # rho = 0.5, eps = 1 (inside the roots), eta = 1
    grads = [[4, -24], [2, 0], [-1, 1]]
    # step 1: Eg = 0.5 * [16, 576] = [8, 288]; sqrt(Eg + 1) = [3, 17]; sqrt(Edx + 1) = [1, 1]
    #         dx = -[4/3, -24/17];  Edx = 0.5 * dx^2 = [8/9, 288/289]
    # step 2: Eg = [4 + 2, 144 + 0] = [6, 144]; sqrt(Eg + 1) = [sqrt 7, sqrt 145]
    #         sqrt(Edx + 1) = [sqrt(17/9), .]; dx = [-sqrt(17/9) / sqrt(7) * 2, 0]
    #         = [-2 sqrt(17/63), 0];  Edx = [4/9 + 0.5 * 68/63, 144/289] = [62/63, 144/289]
    # step 3: Eg = [3 + 0.5, 72 + 0.5] = [3.5, 72.5]; sqrt(Eg + 1) = [sqrt 4.5, sqrt 73.5]
    #         sqrt(Edx + 1) = [sqrt(125/63), sqrt(433/289)]
    #         dx = [+sqrt(125/63) / sqrt(4.5), -sqrt(433/289) / sqrt(73.5)]
    s = np.sqrt
    expected = [
        [1 - 4 / 3, -2 + 24 / 17],
        [1 - 4 / 3 - 2 * s(17 / 63), -2 + 24 / 17],
        [1 - 4 / 3 - 2 * s(17 / 63) + s(125 / 63) / s(4.5), -2 + 24 / 17 - s(433 / 289) / s(73.5)],
    ]
    assert_steps(run("adadelta", grads, 1.0, rho=0.5, eps=1.0), expected)


def test_adam_first_three_steps_match_hand_arithmetic():
    # beta1 = 0.5, beta2 = 0.75, eps = 1 (outside the root), eta = 0.1
    grads = [[3, -1], [3, 1], [-3, -1]]
    # t=1: m = [1.5, -0.5], v = [2.25, 0.25]; c1 = 0.5, c2 = 0.25
    #      mhat = [3, -1], vhat = [9, 1]; step = 0.1 * [3/(3+1), -1/(1+1)] = [0.075, -0.05]
    # t=2: m = [0.75 + 1.5, -0.25 + 0.5] = [2.25, 0.25]; v = [1.6875 + 2.25, 0.1875 + 0.25]
    #      = [3.9375, 0.4375]; c1 = 0.75, c2 = 0.4375; mhat = [3, 1/3], vhat = [9, 1]
    #      step = 0.1 * [3/4, (1/3)/2] = [0.075, 1/60]
    # t=3: m = [1.125 - 1.5, 0.125 - 0.5] = [-0.375, -0.375]; v = [2.953125 + 2.25,
    #      0.328125 + 0.25] = [5.203125, 0.578125]; c1 = 0.875, c2 = 0.578125
    #      mhat = [-3/7, -3/7], vhat = [9, 1]; step = 0.1 * [(-3/7)/4, (-3/7)/2]
    #      = [-3/280, -3/140]
    expected = [
        [1 - 0.075, -2 + 0.05],  # [0.925, -1.95]
        [0.925 - 0.075, -1.95 - 1 / 60],
        [0.85 + 3 / 280, -1.95 - 1 / 60 + 3 / 140],
    ]
    assert_steps(run("adam", grads, 0.1, beta1=0.5, beta2=0.75, eps=1.0), expected)


# --- in place, float32 ----------------------------------------------------------------------
@pytest.mark.parametrize("name", GRADIENT_OPTIMISERS)
def test_float32_steps_update_theta_in_place_and_stay_float32(name):
    rng = np.random.default_rng(1)
    theta = rng.standard_normal(50).astype(np.float32)
    before = theta.copy()
    pointer = theta.ctypes.data
    opt = make_optimiser(name, theta.size, np.float32, np.random.default_rng(0))
    lr = 1.0 if name == "adadelta" else 0.01  # a Python float, as schedules give
    for _ in range(5):
        grad = rng.standard_normal(50).astype(np.float32)
        result = opt.step(theta, grad, lr)
        assert result is None
    assert theta.dtype == np.float32
    assert theta.ctypes.data == pointer
    assert not np.array_equal(theta, before)
    assert np.all(np.isfinite(theta))
    for key, value in opt.state_dict().items():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32, key


# --- known properties -----------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e4])
def test_adam_first_step_has_size_eta_whatever_the_gradient_scale(scale):
    grad = np.array([1.0, -3.0, 0.5, 7.0]) * scale
    theta = np.zeros(4)
    make_optimiser("adam", 4, np.float64, np.random.default_rng(0)).step(theta, grad, 0.01)
    np.testing.assert_allclose(np.abs(theta), 0.01, rtol=1e-4)
    np.testing.assert_array_equal(np.sign(theta), -np.sign(grad))


def test_adagrad_effective_rate_falls_as_one_over_sqrt_t():
    theta = np.zeros(1)
    opt = make_optimiser("adagrad", 1, np.float64, np.random.default_rng(0), eps=1e-12)
    steps = []
    for _ in range(100):
        before = theta[0]
        opt.step(theta, np.array([2.0]), 0.5)
        steps.append(before - theta[0])
    # constant g: G_t = t g^2, so step_t = eta g / sqrt(t g^2) = eta / sqrt(t)
    for t in (1, 4, 16, 100):
        assert steps[t - 1] == pytest.approx(0.5 / t**0.5, rel=1e-9)


def test_momentum_with_zero_mu_is_sgd_bit_for_bit():
    rng = np.random.default_rng(3)
    grads = rng.standard_normal((20, 7))
    a = run("momentum", grads, 0.05, theta0=np.ones(7), mu=0.0)
    b = run("sgd", grads, 0.05, theta0=np.ones(7))
    np.testing.assert_array_equal(a[-1], b[-1])


def test_nesterov_looks_ahead_further_than_momentum_under_a_steady_gradient():
    grads = [[1.0], [1.0], [1.0]]
    # mu = 0.5, eta = 0.1, g = 1: velocities v1 = -0.1, v2 = -0.15, v3 = -0.175
    # momentum: theta += v                  -> -0.1, -0.25, -0.425
    # nesterov: theta += mu * v - eta * g   -> -0.15, -0.325 (-0.15 - 0.175), -0.5125
    mom = run("momentum", grads, 0.1, theta0=[0.0], mu=0.5)
    nes = run("nesterov", grads, 0.1, theta0=[0.0], mu=0.5)
    assert_steps(mom, [[-0.1], [-0.25], [-0.425]])
    assert_steps(nes, [[-0.15], [-0.325], [-0.5125]])
    assert nes[1][0] < mom[1][0]  # further downhill after step 2


def test_nesterov_brakes_earlier_than_momentum_when_the_gradient_reverses():
    grads = [[1.0], [1.0], [-4.0]]
    # mu = 0.5, eta = 0.1: v1 = -0.1, v2 = -0.15, v3 = 0.5 * -0.15 + 0.4 = 0.325
    # momentum step 3: +0.325; nesterov step 3: 0.5 * 0.325 + 0.4 = +0.5625
    mom = run("momentum", grads, 0.1, theta0=[0.0], mu=0.5)
    nes = run("nesterov", grads, 0.1, theta0=[0.0], mu=0.5)
    assert mom[2][0] - mom[1][0] == pytest.approx(0.325, abs=1e-15)
    assert nes[2][0] - nes[1][0] == pytest.approx(0.5625, abs=1e-15)


# --- checkpoint and resume ------------------------------------------------------------------
@pytest.mark.parametrize("name", GRADIENT_OPTIMISERS)
def test_state_dict_resumes_exactly_through_npz(name, tmp_path):
    rng = np.random.default_rng(5)
    grads = rng.standard_normal((10, 6))
    lr = 0.05
    a_theta = np.ones(6)
    a = make_optimiser(name, 6, np.float64, np.random.default_rng(0))
    for g in grads[:5]:
        a.step(a_theta, g, lr)
    np.savez(tmp_path / "opt.npz", **a.state_dict())
    b = make_optimiser(name, 6, np.float64, np.random.default_rng(0))
    with np.load(tmp_path / "opt.npz") as saved:
        b.load_state_dict(dict(saved))
    b_theta = a_theta.copy()
    for g in grads[5:]:
        a.step(a_theta, g, lr)
        b.step(b_theta, g, lr)
    np.testing.assert_array_equal(a_theta, b_theta)
    assert b.t == 10


def test_state_dict_returns_copies_and_rejects_a_foreign_checkpoint():
    opt = make_optimiser("adam", 3, np.float64, np.random.default_rng(0))
    opt.step(np.zeros(3), np.ones(3), 0.1)
    state = opt.state_dict()
    state["m"][:] = 99.0
    assert not np.any(opt.m == 99.0)
    with pytest.raises(ConfigError, match="expected"):
        opt.load_state_dict({"t": 1, "v": np.zeros(3)})
    other = make_optimiser("adam", 4, np.float64, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="shape"):
        other.load_state_dict(opt.state_dict())


# --- registry and errors ---------------------------------------------------------------------
def test_registry_holds_every_gradient_and_stochastic_regime():
    assert set(OPTIMISERS) == set(GRADIENT_OPTIMISERS) | {"boltzmann", "cauchy", "cauchy_backprop"}
    for name in GRADIENT_OPTIMISERS:
        assert OPTIMISERS[name].needs_grad
        assert not OPTIMISERS[name].needs_loss


def test_every_configured_regime_builds_its_optimiser():
    for entry in OPTIMISERS.items():
        name, schema = entry.name, entry.schema
        assert schema is not None and schema().name == name
        params = optimiser_params(schema())
        assert set(params) <= set(hyperparameters(OPTIMISERS[name])), name
        make_optimiser(name, 4, np.float32, np.random.default_rng(0), **params)


def test_unknown_optimiser_name_is_a_one_line_config_error():
    with pytest.raises(ConfigError) as info:
        make_optimiser("nosuch", 3, np.float64, np.random.default_rng(0))
    message = str(info.value)
    assert "'nosuch'" in message and "adam" in message and "sgd" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "hyper", "fragment"),
    [
        ("momentum", {"mu": 1.0}, "mu=1.0 is not allowed: must be in [0, 1)"),
        ("nesterov", {"mu": -0.1}, "mu=-0.1"),
        ("adagrad", {"eps": 0.0}, "eps=0.0 is not allowed: must be > 0"),
        ("rmsprop", {"rho": 1.5}, "rho=1.5"),
        ("adadelta", {"eps": -1e-6}, "eps=-1e-06"),
        ("adam", {"beta2": 1.0}, "beta2=1.0 is not allowed: must be in [0, 1)"),
        ("adam", {"beta1": "big"}, "beta1='big' must be a number"),
        (
            "adam",
            {"lr": 0.1},
            "unknown setting 'lr' for regime 'adam'; choose from: beta1, beta2, eps",
        ),
        ("sgd", {"mu": 0.9}, "unknown setting 'mu' for regime 'sgd'; choose from: (none)"),
    ],
)
def test_bad_hyperparameters_are_one_line_config_errors(name, hyper, fragment):
    with pytest.raises(ConfigError) as info:
        make_optimiser(name, 3, np.float64, np.random.default_rng(0), **hyper)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_size_or_dtype_is_a_config_error():
    with pytest.raises(ConfigError, match="n_params"):
        make_optimiser("sgd", 0, np.float64, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="float32 or float64"):
        make_optimiser("sgd", 3, np.int32, np.random.default_rng(0))
