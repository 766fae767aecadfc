"""Cart-pole physics: the design's cross-check values, an independent RK4 step, symmetries,
batch invariance, Gruau's damping fitness and the generalisation grid."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from research.nn import MLP, ElmanNet
from research.tasks import make_task, pole
from research.tasks.balance import NetController, markov_inputs, velocity_free_inputs
from research.tasks.pole import PoleParams, single_pole

DOUBLE_AFTER_10 = [
    -1.054579200586e-03,
    -1.113169322452e-02,
    9.324129864272e-02,
    2.445180368609e-01,
    2.482794284508e-02,
    3.668826351992e-01,
]
SINGLE_AFTER_10 = [
    -1.052762240728e-03,
    -1.106143376377e-02,
    9.323865211246e-02,
    2.444131699305e-01,
]
#: stabilising linear controllers (discrete LQR on the linearised plant), weights on the
#: scaled Markov inputs incl. the bias input; force = 10 tanh(w . inputs)
LQR_DOUBLE = [-0.3278, -0.3468, -2.39, -2.4356, 2.0081, 0.6479, 0.0]
#: the same for the velocity-free double pole, as a linear Elman net that keeps last step's
#: inputs in its hidden state and reads finite-difference velocities from them
LQR_NV_OUT = [-41.93922, -34.05294, 10.43109, 41.61142, 31.66298, -8.42304]


def constant_net(n_in: int, bias_weight: float) -> tuple[MLP, np.ndarray]:
    """A bias-free linear net whose output is bias_weight * 0.5 whatever the state."""
    net = MLP([n_in, 1], [], "linear", "quadratic", dtype="float64", bias=False)
    theta = np.zeros((1, net.n_params))
    theta[0, n_in - 1] = bias_weight  # W0[bias input, 0]
    return net, theta


def run(net, thetas, params, max_steps, force="tanh", start=None):
    start = pole.standard_start(len(thetas), params) if start is None else start
    ctrl = NetController(net, thetas, force)
    return pole.simulate(ctrl, start, params, max_steps, markov_inputs)


def nv_elman(perturb: np.ndarray | None = None) -> tuple[ElmanNet, np.ndarray]:
    net = ElmanNet(4, 6, 1, activation="linear", output="linear", bias=False, dtype="float64")
    p = net.layout.params
    net.theta[:] = 0
    for j in range(3):
        p["Wx"][j, j] = 1.0
        p["Wh"][j, 3 + j] = 1.0
    p["Wo"][:, 0] = LQR_NV_OUT
    thetas = np.tile(net.theta, (1 if perturb is None else len(perturb), 1))
    if perturb is not None:
        thetas[:, -6:] *= np.exp(perturb)
    return net, thetas


# ---------------------------------------------------------------- reference cross-checks
def test_double_pole_with_zero_output_matches_the_reference_values():
    net, theta = constant_net(7, 0.0)  # output 0 -> F = 10 tanh(0) = 0
    after_10 = run(net, theta, PoleParams(), 10)
    assert after_10.steps[0] == 10
    np.testing.assert_allclose(after_10.final[0], DOUBLE_AFTER_10, rtol=0, atol=1e-9)
    result = make_task("pole_double", max_steps=100).evaluate(net, theta)
    assert result.info["steps"][0] == 22  # fails at action 23
    assert result.fitness[0] == 22.0 and not result.solved[0] and result.evals == 1


def test_sigmoid_force_at_one_half_is_zero_force_too():
    net, theta = constant_net(7, 1.0)  # output 0.5 -> F = (0.5 - 0.5) 20 = 0
    result = make_task("pole_double", max_steps=100, force="sigmoid").evaluate(net, theta)
    assert result.info["steps"][0] == 22


@pytest.mark.parametrize(("force", "weight"), [("tanh", 1000.0), ("sigmoid", 2.0)])
def test_constant_push_of_ten_newtons_fails_at_action_five(force, weight):
    net, theta = constant_net(7, weight)  # tanh(500) == 1; sigmoid output 1.0
    assert NetController(net, theta, force).forces(np.zeros((1, 7)) + 0.5)[0] == 10.0
    result = make_task("pole_double", max_steps=100, force=force).evaluate(net, theta)
    assert result.info["steps"][0] == 4


def test_single_pole_with_zero_output_matches_the_reference_values():
    net, theta = constant_net(5, 0.0)
    after_10 = run(net, theta, single_pole(), 10)
    np.testing.assert_allclose(after_10.final[0], SINGLE_AFTER_10, rtol=0, atol=1e-9)
    result = make_task("pole_single", max_steps=100).evaluate(net, theta)
    assert result.info["steps"][0] == 22


# ---------------------------------------------------------------- the integrator
def scalar_derivs(s, F, lengths, masses, mc=1.0, mup=2e-6, g=9.8):
    """Wieland's equations, written out independently with Python floats."""
    n = len(lengths)
    th, thd = [s[2 + 2 * i] for i in range(n)], [s[3 + 2 * i] for i in range(n)]
    eff_force, eff_mass = [], []
    for i in range(n):
        l, m = lengths[i], masses[i]
        eff_force.append(
            m * l * thd[i] ** 2 * math.sin(th[i])
            + 0.75 * m * math.cos(th[i]) * (mup * thd[i] / (m * l) - g * math.sin(th[i]))
        )
        eff_mass.append(m * (1 - 0.75 * math.cos(th[i]) ** 2))
    xdd = (F + sum(eff_force)) / (mc + sum(eff_mass))
    out = [s[1], xdd]
    for i in range(n):
        l, m = lengths[i], masses[i]
        thdd = -0.75 * (xdd * math.cos(th[i]) - g * math.sin(th[i]) + mup * thd[i] / (m * l)) / l
        out += [thd[i], thdd]
    return out


def scalar_rk4(s, F, h, **kw):
    k1 = scalar_derivs(s, F, **kw)
    k2 = scalar_derivs([a + h / 2 * b for a, b in zip(s, k1)], F, **kw)
    k3 = scalar_derivs([a + h / 2 * b for a, b in zip(s, k2)], F, **kw)
    k4 = scalar_derivs([a + h * b for a, b in zip(s, k3)], F, **kw)
    return [a + h / 6 * (p + 2 * q + 2 * r + t) for a, p, q, r, t in zip(s, k1, k2, k3, k4)]


@pytest.mark.parametrize(
    ("params", "lengths", "masses"),
    [(PoleParams(), (0.5, 0.05), (0.1, 0.01)), (single_pole(), (0.5,), (0.1,))],
)
def test_one_rk4_step_matches_a_hand_written_integrator(params, lengths, masses):
    rng = np.random.default_rng(0)
    states = rng.uniform(-0.5, 0.5, (5, params.n_state))
    forces = rng.uniform(-10, 10, 5)
    ours = pole.rk4_step(states, forces, params)
    for s, F, got in zip(states, forces, ours):
        kw = {"lengths": lengths, "masses": masses}
        np.testing.assert_allclose(got, scalar_rk4(list(s), F, 0.01, **kw), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(
            pole.derivatives(s, F, params)[0], scalar_derivs(list(s), F, **kw), rtol=1e-13
        )
    two = pole.rk4_step(pole.rk4_step(states, forces, params), forces, params)
    assert np.array_equal(pole.act(states, forces, params), two)


def test_upright_poles_at_rest_with_zero_force_stay_exactly_put():
    for params in (PoleParams(), single_pole()):
        s = np.zeros((3, params.n_state))
        for _ in range(200):
            s = pole.act(s, 0.0, params)
        assert np.array_equal(s, np.zeros_like(s))


def test_mirrored_states_and_forces_give_mirrored_trajectories():
    rng = np.random.default_rng(1)
    params = PoleParams()
    s = rng.uniform(-0.2, 0.2, (4, 6))
    m = -s
    for _ in range(60):
        F = rng.uniform(-10, 10, 4)
        s, m = pole.act(s, F, params), pole.act(m, -F, params)
        assert np.array_equal(m, -s)


# ---------------------------------------------------------------- batch invariance
def test_an_individual_scores_bit_identically_alone_or_in_a_population_of_fifty():
    rng = np.random.default_rng(2)
    net = MLP([7, 5, 1], ["tanh"], "linear", "quadratic", dtype="float64", rng=rng)
    base = np.zeros(net.n_params)
    net.layout.view(base, "W0")[:, 0] = 0.1 * np.array(LQR_DOUBLE)  # near-linear unit
    net.layout.view(base, "W1")[0, 0] = 10.0
    thetas = base * np.exp(0.3 * rng.standard_normal((50, net.n_params)))
    thetas += 0.01 * rng.standard_normal(thetas.shape)
    params = PoleParams()
    whole = run(net, thetas, params, 600)
    assert len(np.unique(whole.steps)) > 10 and (whole.steps == 600).sum() >= 3  # varied
    order = rng.permutation(50)
    shuffled = run(net, thetas[order], params, 600)
    assert np.array_equal(shuffled.steps, whole.steps[order])
    assert np.array_equal(shuffled.final, whole.final[order])
    longest = np.argsort(whole.steps)[-3:]
    for k in [*longest, int(np.argmin(whole.steps)), int(np.argsort(whole.steps)[25])]:
        alone = run(net, thetas[k : k + 1], params, 600)
        assert alone.steps[0] == whole.steps[k]
        assert np.array_equal(alone.final[0], whole.final[k])
    task = make_task("pole_double", max_steps=600)
    result = task.evaluate(net, thetas)
    k = int(longest[0])
    assert np.array_equal(task.evaluate(net, thetas[k : k + 1]).fitness, result.fitness[[k]])


def test_elman_damping_scores_are_bit_identical_alone_or_in_a_population():
    rng = np.random.default_rng(3)
    perturb = 0.1 * rng.standard_normal((12, 6))
    perturb[:3] *= 0.1
    net, thetas = nv_elman(perturb)
    task = make_task("pole_double_nv", max_steps=1200, generalisation_steps=60, test="all")
    whole = task.evaluate(net, thetas)
    assert len(np.unique(whole.info["steps"])) > 3 and whole.info["generalisation"].max() > 0
    for k in (int(np.argmax(whole.fitness)), int(np.argmin(whole.fitness)), 5):
        alone = task.evaluate(net, thetas[k : k + 1])
        assert alone.fitness[0] == whole.fitness[k]
        for key in ("steps", "long_steps", "generalisation"):
            assert alone.info[key][0] == whole.info[key][k]


# ---------------------------------------------------------------- damping and generalisation
def test_damping_fitness_follows_gruaus_formula_on_a_hand_made_trajectory():
    rng = np.random.default_rng(4)
    trajectory = rng.uniform(-1, 1, (300, 6))
    J = 0.0
    for s in trajectory[-100:]:
        J += abs(s[0]) + abs(s[1]) + abs(s[2]) + abs(s[3])
    jig = pole.jiggle(trajectory)
    assert jig[5] == abs(trajectory[5, 0]) + abs(trajectory[5, 1]) + abs(trajectory[5, 2]) + abs(
        trajectory[5, 3]
    )
    f = pole.damping_fitness([300, 100, 50], [jig[-100:].sum(), 7.0, 7.0])
    assert f[0] == pytest.approx(0.1 * 300 / 1000 + 0.9 * 0.75 / J, rel=1e-14)
    assert f[1] == pytest.approx(0.1 * 100 / 1000)  # t <= 100: no damping term
    assert f[2] == pytest.approx(0.1 * 50 / 1000)


def test_damping_episode_sums_the_jiggle_of_the_last_hundred_steps_balanced():
    net, theta = nv_elman(np.array([[0.08, 0.08, 0.01, -0.14, -0.01, -0.08]]))
    params = PoleParams()
    ctrl = NetController(net, theta, "tanh")
    s, history = pole.standard_start(1, params), []
    while not pole.failed(s, params)[0] and len(history) < 1000:
        s = pole.act(s, ctrl.forces(velocity_free_inputs(s.T)), params)
        if not pole.failed(s, params)[0]:
            history.append(s[0])
    t = len(history)
    assert 100 < t < 1000  # the perturbed controller fails part-way
    J = sum(abs(h[0]) + abs(h[1]) + abs(h[2]) + abs(h[3]) for h in history[-100:])
    result = make_task("pole_double_nv").evaluate(net, theta)
    assert result.info["steps"][0] == t
    assert result.fitness[0] == pytest.approx(0.1 * t / 1000 + 0.9 * 0.75 / J, rel=1e-12)
    assert result.info["long_steps"][0] == 0 and not result.solved[0]


def test_generalisation_grid_is_the_625_specified_starts():
    grid = pole.generalisation_starts()
    assert grid.shape == (625, 6)
    fractions = (0.05, 0.25, 0.5, 0.75, 0.95)
    halves = (2.16, 1.35, 3.6 * math.pi / 180, 8.6 * math.pi / 180)
    expected = [
        [-h + f * (2 * h) for f, h in zip(fs, halves)] + [0.0, 0.0]
        for fs in itertools.product(fractions, repeat=4)
    ]
    np.testing.assert_allclose(grid, expected, rtol=1e-15, atol=0)
    assert set(np.round(grid[:, 0], 12)) == {-1.944, -1.08, 0.0, 1.08, 1.944}
    assert set(np.round(np.rad2deg(grid[:, 3]), 9)) == {-7.74, -4.3, 0.0, 4.3, 7.74}
    assert len({tuple(r) for r in grid}) == 625


def test_velocity_free_controller_is_solved_only_after_both_uncounted_tests():
    net, good = nv_elman()
    zero = np.zeros_like(good)
    task = make_task("pole_double_nv", max_steps=2000, test="all")
    result = task.evaluate(net, np.concatenate([good, zero]))
    assert result.evals == 2
    assert list(result.info["steps"]) == [1000, 22]
    assert list(result.info["long_steps"]) == [2000, 0]  # the zero net is not tested further
    assert result.info["generalisation"][0] >= 200 and result.info["generalisation"][1] == 0
    assert list(result.solved) == [True, False]
    assert result.fitness[0] > 1 and result.fitness[1] == pytest.approx(0.1 * 22 / 1000)
    strict = make_task("pole_double_nv", max_steps=2000, generalisation_min=625, test="all")
    assert not strict.evaluate(net, good).solved[0]


def test_by_default_only_the_champion_takes_the_long_tests_with_the_same_outcome():
    """The literature's protocol: ``evaluate`` scores the episode only; the evolution then
    tests the generation's fittest through ``test_champion``, which agrees with testing
    everyone for that network."""
    net, good = nv_elman()
    zero = np.zeros_like(good)
    thetas = np.concatenate([zero, good])
    task = make_task("pole_double_nv", max_steps=2000)
    scored = task.evaluate(net, thetas)
    assert task.tests_champion and not scored.solved.any()
    assert not scored.info["long_steps"].any() and not scored.info["generalisation"].any()
    everyone = make_task("pole_double_nv", max_steps=2000, test="all").evaluate(net, thetas)
    assert np.array_equal(scored.fitness, everyone.fitness)
    for k in (0, 1):
        assert task.test_champion(net, thetas[k]) == (
            everyone.info["long_steps"][k],
            everyone.info["generalisation"][k],
            everyone.solved[k],
        )
    assert task.test_champion(net, good[0])[2] and task.test_champion(net, zero[0]) == (0, 0, False)
