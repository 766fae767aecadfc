"""The task registry and the data tasks (xor, classify, regress), pole tasks end to end, and
population forward passes of bias-free nets."""

from __future__ import annotations

import numpy as np
import pytest

from research.errors import ConfigError
from research.nn import MLP, ElmanNet, mlp_forward_population
from research.tasks import TASKS, TaskResult, make_task, pole
from research.tasks.balance import NetController, markov_inputs

LQR_SINGLE = [0.4354, 0.422, 1.5801, 1.5511, 0.0]
LQR_DOUBLE = [-0.3278, -0.3468, -2.39, -2.4356, 2.0081, 0.6479, 0.0]


def linear_net(n_in: int) -> MLP:
    return MLP([n_in, 1], [], "linear", "quadratic", dtype="float64", bias=False)


# ---------------------------------------------------------------- registry and errors
def test_registry_holds_the_seven_tasks_with_their_input_sizes():
    assert set(TASKS) == {
        "classify",
        "compete",
        "xor",
        "regress",
        "pole_single",
        "pole_double",
        "pole_double_nv",
    }
    sizes = {name: make_task(name).n_inputs for name in TASKS}
    assert sizes["pole_single"] == 5 and sizes["pole_double"] == 7
    assert sizes["pole_double_nv"] == 4 and sizes["xor"] == 3 and sizes["compete"] == 2
    assert all(make_task(n).n_outputs == 1 for n in ("xor", "pole_single", "pole_double"))
    bias_free = {n: make_task(n, bias_input=None).n_inputs for n in TASKS if n.startswith("pole")}
    assert bias_free == {"pole_single": 4, "pole_double": 6, "pole_double_nv": 3}


def test_without_a_bias_input_a_bias_free_net_is_an_odd_controller():
    """The reference set-up of the design (bias-free tanh nets, no bias input): a mirrored
    cart state gets exactly the mirrored force, for MLPs and for Elman nets."""
    rng = np.random.default_rng(3)
    states = rng.uniform(-0.2, 0.2, size=(6, 8))
    for name, net in [
        (
            "pole_double",
            MLP([6, 5, 1], ["tanh"], "linear", "quadratic", dtype="float64", bias=False),
        ),
        ("pole_double_nv", ElmanNet(3, 3, 1, "tanh", "linear", bias=False, dtype="float64")),
    ]:
        task = make_task(name, bias_input=None)
        theta = rng.standard_normal((1, net.n_params))
        plus = NetController(net, theta, "tanh")
        minus = NetController(net, theta, "tanh")
        for y in states.T:  # several actions: an Elman net's hidden state is mirrored too
            a = plus.forces(task.inputs(y[:, None]))
            b = minus.forces(task.inputs(-y[:, None]))
            assert a[0] != 0 and b[0] == -a[0]
        with_bias = make_task(name)
        assert task.n_inputs + 1 == with_bias.n_inputs


def test_unknown_task_lists_the_choices():
    with pytest.raises(ConfigError, match="unknown task 'nosuch'; choose one of: classify"):
        make_task("nosuch")


@pytest.mark.parametrize(
    ("name", "params", "fragment"),
    [
        ("pole_single", {"short_length": 0.1}, "has no parameter 'short_length'"),
        ("pole_double", {"max_steps": 0}, "task.max_steps=0 is not allowed: must be an integer"),
        ("pole_double", {"max_steps": 1.5}, "task.max_steps=1.5 is not allowed"),
        ("pole_double", {"force": "nosuch"}, "task.force='nosuch' is not allowed: choose one"),
        ("pole_double", {"short_length": -0.1}, "task.short_length=-0.1 is not allowed"),
        ("pole_double_nv", {"short_mass": 0}, "task.short_mass=0 is not allowed"),
        ("pole_double_nv", {"episode_steps": 50}, "task.episode_steps=50 is not allowed"),
        ("pole_double_nv", {"generalisation_min": 626}, "must be at most 625"),
        ("xor", {"bias_input": "one"}, "task.bias_input='one' is not allowed"),
        ("pole_double_nv", {"bias_input": True}, "task.bias_input=True is not allowed"),
        ("pole_double_nv", {"test": "best"}, "task.test='best' is not allowed: choose one"),
        ("pole_single", {"bias_input": "none"}, "task.bias_input='none' is not allowed"),
        ("classify", {"split": "dev"}, "task.split='dev' is not allowed: choose one of: train"),
        ("classify", {"fitness": "f1"}, "task.fitness='f1' is not allowed"),
        ("classify", {"target": 1.5}, "task.target=1.5 is not allowed"),
        ("classify", {"chunk": 0}, "task.chunk=0 is not allowed"),
        ("classify", {"data": "sine"}, "needs classification data; 'sine' is regression"),
        ("classify", {"data": "nosuch"}, "unknown data set 'nosuch'"),
        (
            "classify",
            {"data": "parity", "data_params": {"bits": 3}},
            "unknown setting 'bits' for data set 'parity'",
        ),
        ("regress", {"data": "xor"}, "use task=classify"),
        ("regress", {"target": -1}, "task.target=-1 is not allowed"),
    ],
)
def test_bad_parameters_are_one_line_errors_naming_the_value(name, params, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        make_task(name, **params)
    assert "\n" not in str(info.value)


def test_a_network_of_the_wrong_shape_is_a_config_error():
    task = make_task("pole_double", max_steps=10)
    with pytest.raises(ConfigError, match="the network has 5 inputs; task 'pole_double' feeds 7"):
        task.evaluate(linear_net(5), np.zeros((2, 5)))
    with pytest.raises(ConfigError, match=r"need \(P, 7\)"):
        task.evaluate(linear_net(7), np.zeros((2, 6)))


# ---------------------------------------------------------------- pole tasks end to end
@pytest.mark.parametrize(
    ("name", "weights"), [("pole_single", LQR_SINGLE), ("pole_double", LQR_DOUBLE)]
)
def test_a_stabilising_controller_solves_markov_balancing_and_random_nets_do_not(name, weights):
    rng = np.random.default_rng(0)
    net = linear_net(len(weights))
    thetas = np.vstack([weights, rng.standard_normal((5, len(weights)))])
    result = make_task(name, max_steps=3000).evaluate(net, thetas)
    assert isinstance(result, TaskResult) and result.evals == 6
    assert result.solved[0] and result.fitness[0] == 3000.0
    assert not result.solved[1:].any()
    assert np.array_equal(result.fitness, result.info["steps"].astype(np.float64))
    assert result.fitness.dtype == np.float64 and result.solved.dtype == bool


def test_elman_controller_carries_its_hidden_state_from_action_to_action():
    rng = np.random.default_rng(5)
    net = ElmanNet(7, 4, 1, "tanh", "linear", bias=False, dtype="float64")
    theta = np.zeros(net.n_params)
    net.layout.view(theta, "Wx")[:, 0] = 0.1 * np.array(LQR_DOUBLE)
    net.layout.view(theta, "Wh")[...] = 0.3 * rng.standard_normal((4, 4))
    net.layout.view(theta, "Wo")[0, 0] = 10.0
    Wx, Wh, Wo = (net.layout.view(theta, k) for k in ("Wx", "Wh", "Wo"))
    params = pole.PoleParams()
    s, h = pole.standard_start(1, params)[0], np.zeros(4)
    for _ in range(50):  # the recurrence written out: h_t = tanh(x_t Wx + h_{t-1} Wh)
        x = markov_inputs(s[:, None])[0]
        h = np.tanh(x @ Wx + h @ Wh)
        s = pole.act(s, 10 * np.tanh(h @ Wo[:, 0]), params)[0]
    ctrl = NetController(net, theta[None, :], "tanh")
    episode = pole.simulate(ctrl, pole.standard_start(1, params), params, 50, markov_inputs)
    assert episode.steps[0] == 50
    np.testing.assert_allclose(episode.final[0], s, rtol=1e-9, atol=1e-12)
    stateless = theta.copy()
    net.layout.view(stateless, "Wh")[...] = 0
    ctrl = NetController(net, stateless[None, :], "tanh")
    other = pole.simulate(ctrl, pole.standard_start(1, params), params, 50, markov_inputs)
    assert not np.allclose(other.final[0], s, rtol=1e-6)


def test_staging_parameters_lengthen_the_short_pole():
    net = linear_net(7)
    zero = np.zeros((1, 7))  # zero force: the longer short pole falls more slowly
    goal = make_task("pole_double", max_steps=100)
    stage = make_task("pole_double", max_steps=100, short_length=0.1, short_mass=0.02)
    assert stage.params.short_length == 0.1 and stage.params.short_mass == 0.02
    assert goal.evaluate(net, zero).info["steps"][0] == 22
    assert stage.evaluate(net, zero).info["steps"][0] == 31
    nv = make_task("pole_double_nv", short_length=0.1, short_mass=0.02)
    assert nv.evaluate(linear_net(4), np.zeros((1, 4))).info["steps"][0] == 31


# ---------------------------------------------------------------- xor
def xor_solver() -> tuple[MLP, np.ndarray]:
    """OR and AND units (and one always on, as the output's bias), out = OR and not AND."""
    net = MLP([3, 3, 1], ["sigmoid"], "sigmoid", "quadratic", dtype="float64", bias=False)
    theta = np.zeros(net.n_params)
    net.layout.view(theta, "W0")[...] = [[20, 20, 0], [20, 20, 0], [-10, -30, 30]]
    net.layout.view(theta, "W1")[...] = [[20], [-20], [-10]]
    return net, theta


def test_xor_is_solved_by_a_hand_made_net_with_neat_fitness():
    net, theta = xor_solver()
    result = make_task("xor").evaluate(net, np.vstack([theta, np.zeros_like(theta)]))
    assert result.solved.tolist() == [True, False]
    err = np.abs(result.info["outputs"][0] - [0, 1, 1, 0]).sum()
    assert result.fitness[0] == pytest.approx((4 - err) ** 2) and result.fitness[0] > 15.99
    assert result.fitness[1] == pytest.approx(4.0)  # every output 0.5: error 2


def test_xor_without_bias_input_feeds_two_inputs():
    task = make_task("xor", bias_input=None)
    assert task.n_inputs == 2
    net = MLP([2, 3, 1], ["tanh"], "sigmoid", "quadratic", dtype="float64")
    result = task.evaluate(net, np.random.default_rng(0).standard_normal((4, net.n_params)))
    assert result.fitness.shape == (4,) and (result.fitness <= 16).all()


# ---------------------------------------------------------------- classify and regress
def per_individual(net, thetas, x):
    outs = []
    for theta in thetas:
        net.theta[:] = theta
        outs.append(net.forward(x))
    return np.array(outs)


def test_classify_scores_match_one_net_at_a_time_whatever_the_chunk_size():
    rng = np.random.default_rng(1)
    net = MLP([2, 6, 2], ["tanh"], "softmax", "log_likelihood", dtype="float64", rng=rng)
    thetas = rng.standard_normal((11, net.n_params))
    tasks = [make_task("classify", data="spirals", chunk=c) for c in (1, 4, None)]
    results = [t.evaluate(net, thetas) for t in tasks]
    for r in results[1:]:
        assert np.array_equal(r.fitness, results[0].fitness)
        assert np.array_equal(r.info["loss"], results[0].info["loss"])
    data = tasks[0].data
    out = per_individual(net, thetas, data.x_train)
    np.testing.assert_allclose(
        results[0].fitness, (out.argmax(2) == data.y_train).mean(1), rtol=0, atol=1e-12
    )
    Y = data.targets(data.y_train, np.float64)
    losses = [net.cost.value(o, Y) for o in out]
    np.testing.assert_allclose(results[0].info["loss"], losses, rtol=1e-10)
    neg = make_task("classify", data="spirals", fitness="neg_loss").evaluate(net, thetas)
    np.testing.assert_allclose(neg.fitness, -np.array(losses), rtol=1e-10)


def test_classify_is_solved_at_the_target_accuracy():
    net2 = MLP([2, 2, 2], ["sigmoid"], "softmax", "log_likelihood", dtype="float64")
    t2 = np.zeros(net2.n_params)
    net2.layout.view(t2, "W0")[...] = [[20, 20], [20, 20]]
    net2.layout.view(t2, "b0")[...] = [-10, -30]
    net2.layout.view(t2, "W1")[...] = [[-20, 20], [20, -20]]
    net2.layout.view(t2, "b1")[...] = [10, -10]
    result = make_task("classify").evaluate(net2, np.vstack([t2, np.zeros_like(t2)]))
    assert result.solved.tolist() == [True, False]
    assert result.fitness.tolist() == [1.0, 0.5]
    half = make_task("classify", target=0.5).evaluate(net2, np.vstack([t2, np.zeros_like(t2)]))
    assert half.solved.all()


def test_classify_runs_elman_nets_over_a_series_step_by_step():
    rng = np.random.default_rng(2)
    task = make_task("classify", data="parity", data_params={"n_bits": 3})
    net = ElmanNet(1, 4, 2, "tanh", "softmax", "log_likelihood", dtype="float64", rng=rng)
    thetas = rng.standard_normal((3, net.n_params))
    result = task.evaluate(net, thetas)
    out = per_individual(net, thetas, task.data.x_train)
    np.testing.assert_allclose(
        result.info["accuracy"], (out.argmax(2) == task.data.y_train).mean(1)
    )


def test_regress_fitness_is_minus_the_mse_and_solved_by_rmse():
    rng = np.random.default_rng(3)
    net = MLP([1, 8, 1], ["tanh"], "linear", "quadratic", dtype="float64", rng=rng)
    thetas = rng.standard_normal((5, net.n_params))
    task = make_task("regress", data="sine", chunk=2)
    result = task.evaluate(net, thetas)
    out = per_individual(net, thetas, task.data.x_train)
    mse = ((out - task.data.y_train) ** 2).mean(axis=(1, 2))
    np.testing.assert_allclose(result.fitness, -mse, rtol=1e-12)
    np.testing.assert_allclose(result.info["rmse"], np.sqrt(mse), rtol=1e-12)
    loose = make_task("regress", data="sine", target=float(np.sqrt(mse).max()) + 1e-9)
    assert loose.evaluate(net, thetas).solved.all() and not result.solved.any()


def test_bias_free_mlp_population_forward_matches_the_model():
    rng = np.random.default_rng(4)
    net = MLP([3, 4, 2], ["tanh"], "linear", "quadratic", dtype="float64", bias=False, rng=rng)
    thetas = rng.standard_normal((6, net.n_params))
    x = rng.standard_normal((5, 3))
    np.testing.assert_allclose(
        mlp_forward_population(net, thetas, x), per_individual(net, thetas, x), rtol=1e-12
    )
