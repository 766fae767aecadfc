"""Stochastic regimes: they train a quadratic bowl, are seed-deterministic, apply the
Metropolis rule at the documented temperature, and checkpoint their random stream."""

from __future__ import annotations

import math

import numpy as np
import pytest

from research.errors import ConfigError
from research.train.optimisers import OPTIMISERS, make_optimiser
from research.train.stochastic import metropolis

CURVATURE = np.linspace(1.0, 4.0, 8)

#: (name, eta, hyperparameters) that anneal the bowl below
SETTINGS = [
    ("boltzmann", 0.2, {"t0": 1.0}),
    ("cauchy", 0.5, {"t0": 1.0}),
    ("cauchy_backprop", 0.1, {"t0": 1.0, "mix": 0.5}),
]


def bowl_loss(w: np.ndarray) -> float:
    """E(w) = 1/2 sum a_i w_i^2, an ill-conditioned (1:4) bowl in 8 dimensions."""
    return 0.5 * float(np.dot(CURVATURE * w, w))


def anneal(name, lr, hyper, seed, steps, dtype=np.float64):
    theta = (np.random.default_rng(100).standard_normal(8) * 2).astype(dtype)
    opt = make_optimiser(name, theta.size, dtype, np.random.default_rng(seed), **hyper)
    pointer = theta.ctypes.data
    for _ in range(steps):
        grad = CURVATURE.astype(dtype) * theta if opt.needs_grad else None
        opt.step(theta, grad, lr, bowl_loss)
    assert theta.ctypes.data == pointer
    return theta, opt


@pytest.mark.parametrize(("name", "lr", "hyper"), SETTINGS)
def test_each_regime_anneals_a_quadratic_bowl(name, lr, hyper):
    start = bowl_loss(np.random.default_rng(100).standard_normal(8) * 2)  # about 26
    theta, opt = anneal(name, lr, hyper, seed=0, steps=3000)
    assert bowl_loss(theta) < 0.1 * start
    assert 0 < opt.accepted < opt.t == 3000


@pytest.mark.parametrize(("name", "lr", "hyper"), SETTINGS)
def test_each_regime_is_deterministic_for_a_seed(name, lr, hyper):
    a, _ = anneal(name, lr, hyper, seed=7, steps=200)
    b, _ = anneal(name, lr, hyper, seed=7, steps=200)
    c, _ = anneal(name, lr, hyper, seed=8, steps=200)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(("name", "lr", "hyper"), SETTINGS)
def test_float32_runs_stay_float32_in_place(name, lr, hyper):
    theta, opt = anneal(name, lr, hyper, seed=0, steps=50, dtype=np.float32)
    assert theta.dtype == np.float32
    assert opt._noise.dtype == np.float32 and opt._backup.dtype == np.float32


def test_registry_flags():
    assert not OPTIMISERS["boltzmann"].needs_grad and OPTIMISERS["boltzmann"].needs_loss
    assert not OPTIMISERS["cauchy"].needs_grad and OPTIMISERS["cauchy"].needs_loss
    assert OPTIMISERS["cauchy_backprop"].needs_grad


# --- temperature schedules -------------------------------------------------------------------
def test_temperatures_follow_the_documented_schedules():
    rng = np.random.default_rng(0)
    boltzmann = make_optimiser("boltzmann", 2, np.float64, rng, t0=2.0)
    cauchy = make_optimiser("cauchy", 2, np.float64, rng, t0=2.0)
    # t is 1-based: T(1) = t0 / ln 2 (no division by ln 1 = 0), T(t) = t0 / ln(1 + t)
    assert boltzmann.temperature(1) == pytest.approx(2.0 / 0.6931471805599453, rel=1e-15)
    assert boltzmann.temperature(99) == pytest.approx(2.0 / math.log(100), rel=1e-15)
    # Cauchy: T(t) = t0 / (1 + t)
    assert cauchy.temperature(1) == 1.0
    assert cauchy.temperature(9) == 0.2


# --- the Metropolis rule ---------------------------------------------------------------------
def test_metropolis_accepts_a_worse_candidate_with_probability_exp_minus_de_over_kt():
    rng = np.random.default_rng(0)
    n = 40_000
    for delta, kT in [(0.5, 1.0), (1.0, 0.5), (0.1, 0.05)]:
        p = math.exp(-delta / kT)
        freq = sum(metropolis(delta, kT, rng) for _ in range(n)) / n
        assert abs(freq - p) < 5 * math.sqrt(p * (1 - p) / n), (delta, kT, freq, p)


def test_metropolis_always_accepts_a_better_or_equal_candidate_and_rejects_nan():
    rng = np.random.default_rng(0)
    assert all(metropolis(-1e-9, 1e-6, rng) for _ in range(1000))
    assert all(metropolis(0.0, 1e-6, rng) for _ in range(1000))
    assert not metropolis(math.nan, 1.0, rng)
    assert not metropolis(math.inf, 1.0, rng)


def scripted_loss(current: float, candidate: float):
    """A loss_fn that returns ``current`` then ``candidate`` on alternate calls."""
    calls = []

    def loss_fn(theta):
        calls.append(theta.copy())
        return current if len(calls) % 2 else candidate

    return loss_fn, calls


@pytest.mark.parametrize("name", ["boltzmann", "cauchy", "cauchy_backprop"])
def test_a_step_keeps_a_worse_candidate_with_frequency_exp_minus_de_over_k_t1(name):
    rng = np.random.default_rng(1)
    t0, k, delta, n = 0.6, 2.0, 0.9, 6000
    temp = {"boltzmann": t0 / math.log(2), "cauchy": t0 / 2, "cauchy_backprop": t0 / 2}[name]
    p = math.exp(-delta / (k * temp))
    kept = 0
    for _ in range(n):
        opt = make_optimiser(name, 3, np.float64, rng, t0=t0, k=k)  # fresh: t = 1
        theta = np.zeros(3)
        loss_fn, calls = scripted_loss(1.0, 1.0 + delta)
        opt.step(theta, np.ones(3), 0.1, loss_fn)
        assert len(calls) == 2  # current + candidate, nothing more
        if np.any(theta != 0):
            kept += 1
            assert opt.accepted == 1
        else:
            np.testing.assert_array_equal(theta, 0.0)  # restored exactly
    assert abs(kept / n - p) < 5 * math.sqrt(p * (1 - p) / n), (kept / n, p)


@pytest.mark.parametrize("name", ["boltzmann", "cauchy", "cauchy_backprop"])
def test_a_step_always_keeps_a_better_candidate(name):
    rng = np.random.default_rng(2)
    opt = make_optimiser(name, 3, np.float64, rng, t0=1e-3)
    theta = np.zeros(3)
    for _ in range(200):
        before = theta.copy()
        loss_fn, _ = scripted_loss(1.0, 0.5)
        opt.step(theta, np.ones(3), 0.1, loss_fn)
        assert not np.array_equal(theta, before)
    assert opt.accepted == 200 and opt.acceptance_rate == 1.0


def test_boltzmann_proposal_is_gaussian_with_scale_t_times_eta():
    rng = np.random.default_rng(3)
    opt = make_optimiser("boltzmann", 200_000, np.float64, rng, t0=1.0)
    theta = np.zeros(200_000)
    opt.step(theta, None, 0.5, lambda w: 0.0)  # dE = 0: always kept
    # T(1) = 1 / ln 2 = 1.4427; scale = 0.5 * 1.4427 = 0.7213
    assert np.std(theta) == pytest.approx(0.5 / math.log(2), rel=0.01)


def test_cauchy_proposal_is_heavy_tailed_and_clipped():
    rng = np.random.default_rng(4)
    opt = make_optimiser("cauchy", 200_000, np.float64, rng, t0=1.0)
    theta = np.zeros(200_000)
    opt.step(theta, None, 2.0, lambda w: 0.0)
    # scale = eta * T(1) = 2 * 1/2 = 1: Cauchy(0, 1) quartiles are -1 and +1
    q1, q3 = np.quantile(theta, [0.25, 0.75])
    assert q1 == pytest.approx(-1.0, abs=0.02) and q3 == pytest.approx(1.0, abs=0.02)
    assert np.all(np.isfinite(theta)) and np.max(np.abs(theta)) <= 1000.0
    assert np.mean(np.abs(theta) > 100) == pytest.approx(2 / (math.pi * 100), rel=0.2)


def test_cauchy_backprop_with_mix_zero_is_plain_gradient_descent_without_loss_calls():
    opt = make_optimiser("cauchy_backprop", 2, np.float64, np.random.default_rng(0), mix=0.0)
    assert not opt.needs_loss
    theta = np.array([1.0, -2.0])
    loss_fn, calls = scripted_loss(0.0, 1e9)  # would be rejected by Metropolis
    opt.step(theta, np.array([0.5, -1.0]), 0.1, loss_fn)
    np.testing.assert_array_equal(theta, [1 - 0.05, -2 + 0.1])
    assert calls == []


def test_cauchy_backprop_with_mix_one_ignores_the_gradient():
    def bowl_loss_4(w):
        return float(np.dot(w, w))

    a = make_optimiser("cauchy_backprop", 4, np.float64, np.random.default_rng(9), mix=1.0)
    b = make_optimiser("cauchy", 4, np.float64, np.random.default_rng(9))
    ta, tb = np.zeros(4), np.zeros(4)
    for _ in range(20):
        a.step(ta, np.full(4, 100.0), 0.1, bowl_loss_4)
        b.step(tb, None, 0.1, bowl_loss_4)
    np.testing.assert_array_equal(ta, tb)


def test_stochastic_steps_need_a_loss_fn():
    opt = make_optimiser("cauchy", 2, np.float64, np.random.default_rng(0))
    with pytest.raises(TypeError, match="loss_fn"):
        opt.step(np.zeros(2), None, 0.1)


# --- checkpoint and resume -------------------------------------------------------------------
@pytest.mark.parametrize(("name", "lr", "hyper"), SETTINGS)
def test_state_dict_resumes_the_random_stream_exactly(name, lr, hyper, tmp_path):
    theta_a = np.ones(8)
    a = make_optimiser(name, 8, np.float64, np.random.default_rng(11), **hyper)

    def step(opt, theta):
        grad = CURVATURE * theta if opt.needs_grad else None
        opt.step(theta, grad, lr, bowl_loss)

    for _ in range(30):
        step(a, theta_a)
    np.savez(tmp_path / "opt.npz", **a.state_dict())
    b = make_optimiser(name, 8, np.float64, np.random.default_rng(999), **hyper)
    with np.load(tmp_path / "opt.npz") as saved:
        b.load_state_dict(dict(saved))
    theta_b = theta_a.copy()
    for _ in range(30):
        step(a, theta_a)
        step(b, theta_b)
    np.testing.assert_array_equal(theta_a, theta_b)
    assert (a.t, a.accepted) == (b.t, b.accepted)


# --- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "hyper", "fragment"),
    [
        ("boltzmann", {"t0": 0.0}, "t0=0.0 is not allowed: must be > 0"),
        ("cauchy", {"k": -1.0}, "k=-1.0 is not allowed: must be > 0"),
        ("cauchy_backprop", {"mix": 1.5}, "mix=1.5 is not allowed: must be in [0, 1]"),
        (
            "boltzmann",
            {"mix": 0.5},
            "unknown setting 'mix' for regime 'boltzmann'; choose from: k, t0",
        ),
    ],
)
def test_bad_hyperparameters_are_one_line_config_errors(name, hyper, fragment):
    with pytest.raises(ConfigError) as info:
        make_optimiser(name, 3, np.float64, np.random.default_rng(0), **hyper)
    assert fragment in str(info.value) and "\n" not in str(info.value)
