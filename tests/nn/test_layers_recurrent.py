"""Recurrent layers: finite-difference gradient checks (float64), forward steps computed by
hand, the LSTM's forget-gate bias, the bidirectional wrapper's reversal, grad_norms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from research.errors import ConfigError
from research.nn.layers import Dense, Flatten
from research.nn.layers.recurrent import GRU, LSTM, Bidirectional, LastStep, SimpleRNN
from research.nn.sequential import Sequential
from tests.nn.gradcheck import check_input_grad, check_network

T, C, H = 5, 2, 3


def _net(layers, in_shape=(T, C), dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    return Sequential(layers, in_shape, "softmax", "log_likelihood", "fan_in", dtype, rng)


def _data(n=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, T, C)), np.eye(k)[rng.integers(0, k, n)]


def _randomise_peepholes(layer, seed=3):
    """Peepholes start at 0; give them values so their paths are checked too."""
    for cell in (layer.fw, layer.bw) if isinstance(layer, Bidirectional) else (layer,):
        if getattr(cell, "peepholes", False):
            cell.p["peep"][...] = np.random.default_rng(seed).standard_normal((3, cell.units))


LAYERS = {
    "elman": lambda: SimpleRNN(H),
    "lstm": lambda: LSTM(H),
    "lstm-peepholes": lambda: LSTM(H, peepholes=True),
    "gru": lambda: GRU(H),
    "bi-lstm": lambda: Bidirectional(LSTM(H, peepholes=True)),
    "bi-gru": lambda: Bidirectional(lambda: GRU(H)),
}


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_sequence_to_one_matches_finite_differences(make):
    net = _net([make(), LastStep(), Dense(3)])
    _randomise_peepholes(net.layers[0])
    check_network(net, *_data())


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_input_gradient_matches_finite_differences(make):
    net = _net([make(), LastStep(), Dense(3)])  # binds the layer's parameters
    _randomise_peepholes(net.layers[0])
    check_input_grad(net.layers[0], _data()[0])


@pytest.mark.parametrize(
    "make",
    [lambda: GRU(H), lambda: Bidirectional(LSTM(H), GRU(2)), lambda: SimpleRNN(H, "relu")],
    ids=["gru", "bi-lstm-gru", "elman-relu"],
)
def test_sequence_to_sequence_matches_finite_differences(make):
    """A dense layer on every step, then flatten: every h_t receives a direct gradient."""
    check_network(_net([make(), Dense(2), Flatten(), Dense(3)]), *_data())


@pytest.mark.parametrize(
    "make", [lambda: LSTM(H, peepholes=True), lambda: GRU(H)], ids=["lstm", "gru"]
)
def test_one_channel_input_matches_finite_differences(make):
    """One input channel (MNIST-1D) takes the broadcast outer-product path."""
    x, y = _data()
    net = _net([make(), LastStep(), Dense(3)], in_shape=(T, 1))
    _randomise_peepholes(net.layers[0])
    check_network(net, x[..., :1], y)
    check_input_grad(net.layers[0], x[..., :1])


def test_stacked_recurrent_layers_match_finite_differences():
    check_network(_net([GRU(H), LSTM(2), LastStep(), Dense(3)]), *_data(n=3))


def _two_steps(layer, step):
    """The layer's output for one example of two steps, and the same computed by ``step``
    (h, c = step(x_t, h, c)) from its parameter views."""
    net = _net([layer, LastStep(), Dense(3)], in_shape=(2, C))
    _randomise_peepholes(layer)
    x = np.random.default_rng(5).standard_normal((1, 2, C))
    y, _ = layer.forward(x, False, None)
    h = c = np.zeros(layer.units)
    expected = []
    for t in range(2):
        h, c = step(x[0, t], h, c, layer.p)
        expected.append(h)
    assert net.layers[0] is layer
    return y[0], np.array(expected)


def test_lstm_steps_by_hand():
    def step(x, h, c, p):
        a = x @ p["W"] + h @ p["U"] + p["b"]
        a_o, a_i, a_f, a_g = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
        p_i, p_f, p_o = p["peep"]
        i, f = expit(a_i + p_i * c), expit(a_f + p_f * c)
        c_new = f * c + i * np.tanh(a_g)
        o = expit(a_o + p_o * c_new)
        return o * np.tanh(c_new), c_new

    got, expected = _two_steps(LSTM(H, peepholes=True), step)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_gru_steps_by_hand():
    def step(x, h, c, p):
        wz, wr, wn = np.split(p["W"], 3, axis=1)
        uz, ur, un = np.split(p["U"], 3, axis=1)
        bz, br, bn = np.split(p["b"], 3)
        z, r = expit(x @ wz + h @ uz + bz), expit(x @ wr + h @ ur + br)
        n = np.tanh(x @ wn + r * (h @ un) + bn)
        return (1 - z) * n + z * h, None

    got, expected = _two_steps(GRU(H), step)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_lstm_forget_bias_starts_at_one_and_recurrent_blocks_are_orthogonal():
    net = _net([LSTM(4, peepholes=True), LastStep(), Dense(3)])
    layer = net.layers[0]
    np.testing.assert_array_equal(layer.p["b"][8:12], 1.0)  # gates o, i, f, g
    np.testing.assert_array_equal(layer.p["peep"], 0.0)
    for block in np.split(layer.p["U"], 4, axis=1):
        np.testing.assert_allclose(block @ block.T, np.eye(4), atol=1e-12)
    decays = dict((n, d) for n, _, d in layer.blocks())
    assert decays == {"W": True, "U": True, "b": False, "peep": False}
    again = _net([LSTM(4, peepholes=True), LastStep(), Dense(3)])
    np.testing.assert_array_equal(again.theta, net.theta)  # deterministic from rng


def test_gru_update_bias_sets_the_z_block_only():
    plain = _net([GRU(4), LastStep(), Dense(3)]).layers[0].p["b"]
    carry = _net([GRU(4, update_bias=2.0), LastStep(), Dense(3)]).layers[0].p["b"]
    np.testing.assert_array_equal(carry[:4], 2.0)
    np.testing.assert_array_equal(carry[4:], plain[4:])


def test_bidirectional_runs_backward_copy_on_reversed_input():
    bi = _net([Bidirectional(SimpleRNN(H)), LastStep(), Dense(3)]).layers[0]
    assert {n for n, _, _ in bi.blocks()} == {f"{d}.{k}" for d in ("fw", "bw") for k in "WUb"}
    assert not np.array_equal(bi.fw.p["U"], bi.bw.p["U"])  # own parameters
    x = _data()[0]
    y, _ = bi.forward(x, False, None)
    assert y.shape == (4, T, 2 * H)
    np.testing.assert_allclose(y[..., :H], bi.fw.forward(x, False, None)[0])
    np.testing.assert_allclose(y[..., H:], bi.bw.forward(x[:, ::-1], False, None)[0][:, ::-1])


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_float32_in_float32_out_and_grad_norms(make):
    net = _net([make(), LastStep(), Dense(3)], dtype="float32")
    x, y = _data()
    net.loss_and_grad(x.astype(np.float32), y.astype(np.float32))
    layer = net.layers[0]
    y_eval = layer.forward(x.astype(np.float32), False, None)[0]
    assert y_eval.dtype == np.float32
    np.testing.assert_array_equal(y_eval, layer.forward(x.astype(np.float32), True, None)[0])
    assert net.grad.dtype == np.float32 and np.all(np.isfinite(net.grad))
    assert layer.grad_norms.shape == (T,) and np.all(np.isfinite(layer.grad_norms))
    assert np.all(layer.grad_norms > 0)


def test_grad_norms_are_the_mean_norm_of_dloss_dh():
    """With only the last step read, dLoss/dh_T is what LastStep passes back."""
    net = _net([SimpleRNN(H), LastStep(), Dense(3)])
    x, y = _data()
    net.loss_and_grad(x, y)
    z = net._logits(x, False, None, None)
    dh_last = net.cost.delta(z, net.out.f(z), y, net.out) @ net.layers[2].p["W"].T
    np.testing.assert_allclose(net.layers[0].grad_norms[-1], np.linalg.norm(dh_last, axis=1).mean())


def test_example_network_from_the_brief():
    rng = np.random.default_rng(0)
    layers = [LSTM(16, peepholes=True), LastStep(), Dense(10)]
    net = Sequential(layers, (40, 1), "softmax", "log_likelihood", "fan_in", "float64", rng)
    out = net.predict(np.random.default_rng(1).standard_normal((3, 40)))
    assert out.shape == (3, 10)
    np.testing.assert_allclose(out.sum(1), 1)


@pytest.mark.parametrize("layer", [lambda: LSTM(3), lambda: LastStep()])
def test_non_sequence_input_is_one_line(layer):
    with pytest.raises(ConfigError, match=r"needs sequences \(T, .\); got input shape \(6,\)"):
        _net([layer(), Dense(3)], in_shape=(6,))
