"""model=autoencoder: the reconstruction objective, its denoising, contractive and sparsity
terms against finite differences (float64), and training through the fit loop."""

from __future__ import annotations

import numpy as np
import pytest

from research.config import compose, validate
from research.errors import ConfigError
from research.nn.autoencoder import Autoencoder, AutoencoderModel, build_autoencoder
from research.nn.build import MODELS
from research.train.fit import fit_model
from research.train.prepare import prepare
from tests.nn.gradcheck import check_network, numeric_grad


@pytest.fixture(scope="module")
def registered():
    """``model=autoencoder`` composes: registered here unless research.nn.build does it."""
    added = "autoencoder" not in MODELS.names()
    if added:
        MODELS.register("autoencoder", schema=AutoencoderModel)(build_autoencoder)
    yield
    if added:
        MODELS._entries.pop("autoencoder", None)


def _net(n_in=7, code=3, **settings) -> Autoencoder:
    return Autoencoder(n_in, code, dtype="float64", rng=np.random.default_rng(1), **settings)


def _inputs(n=6, d=7, seed=3) -> np.ndarray:
    return np.random.default_rng(seed).random((n, d))


@pytest.mark.parametrize(
    "settings",
    [
        {"cost": "quadratic", "output": "linear"},
        {},
        {"hidden": [5, 4], "cost": "quadratic"},
        {"hidden": [5], "activation": "tanh", "noise": 0.3},
        {"contractive": 0.3},
        {"contractive": 0.3, "activation": "tanh", "cost": "quadratic"},
        {"sparsity_weight": 0.5, "sparsity": 0.1},
        {"sparsity_weight": 0.5, "hidden": [5]},
        {"contractive": 0.2, "sparsity_weight": 0.5, "noise": 0.3},
        {"contractive": 0.2, "noise": 0.2, "noise_kind": "gaussian"},
    ],
    ids=[
        "quadratic",
        "cross-entropy",
        "hidden",
        "denoising-hidden",
        "contractive",
        "contractive-tanh",
        "sparse",
        "sparse-hidden",
        "contractive-sparse-masked",
        "contractive-gaussian",
    ],
)
def test_objective_gradients_match_finite_differences(settings):
    """The gradient of cost + penalties, with the same corruption for every evaluation."""
    x = _inputs()
    check_network(_net(**settings), x, x)


def test_training_corrupts_the_input_and_eval_does_not():
    net = _net(noise=0.5)
    x = _inputs()
    masked = net.corrupt(x, np.random.default_rng(0))
    assert 0 < np.mean(masked == 0) < 1 and np.all((masked == 0) | (masked == x))
    np.testing.assert_array_equal(net.forward(x), net.forward(x))
    assert not np.allclose(net.forward(x), net.forward(x, train=True, rng=np.random.default_rng(0)))
    assert net.loss(x, x) == _net().loss(x, x)  # eval mode: noise plays no part


@pytest.mark.parametrize(
    ("hidden", "act"), [([], "sigmoid"), ([], "tanh"), ([5, 4], "sigmoid"), ([4], "relu")]
)
def test_jacobian_norm_matches_finite_differences(hidden, act):
    """The closed form (one layer) and the chain rule (deeper) against a numeric Jacobian."""
    net = _net(hidden=hidden, activation=act, cost="quadratic")
    x = _inputs(n=2)
    fd = []
    for row in x:
        jac = np.stack(
            [numeric_grad(lambda k=k, row=row: net.encode(row[None])[0, k], row) for k in range(3)]
        )
        fd.append(np.sum(jac**2))
    assert net.jacobian_norm(x) == pytest.approx(np.mean(fd), rel=1e-7)


def test_contractive_penalty_is_the_jacobian_norm_times_its_weight():
    x = _inputs()
    plain, contractive = _net(cost="quadratic"), _net(cost="quadratic", contractive=0.7)
    extra = contractive.loss(x, x) - plain.loss(x, x)
    assert extra == pytest.approx(0.7 * plain.jacobian_norm(x), rel=1e-12)


def test_fit_loop_trains_a_denoising_autoencoder_on_digits(registered):
    """A few epochs of Adam: the clean-input reconstruction error falls; metrics are the
    autoencoder's own (no accuracy on a model that ignores the labels)."""
    overrides = [
        "model=autoencoder",
        "model.code=16",
        "model.noise=0.2",
        "data=digits",
        "regime=adam",
        "regime.epochs=4",
        "regime.lr=0.01",
        "regime.batch_size=32",
    ]
    groups = validate(compose(overrides))
    data, net = prepare(groups["data"], groups["model"], 0)
    assert isinstance(net, Autoencoder) and net.sizes == [64, 16, 64]
    result = fit_model(net, groups["regime"], data, seed=0)
    first, last = result.history[0], result.history[-1]
    assert set(result.metrics) == {"val/loss", "val/recon", "test/loss", "test/recon"}
    assert {"train/loss", "val/loss", "val/recon"} <= set(last)
    assert last["val/recon"] < 0.6 * first["val/recon"], (first, last)


@pytest.mark.parametrize(
    ("override", "must_contain"),
    [
        ("model.code=0", "model.code=0 is not allowed: must be >= 1"),
        ("model.hidden=[8]", "model.contractive=0.1 is not allowed: the penalty needs a one-layer"),
        ("model.activation=relu", "model.activation='relu' is not allowed: sparsity_weight=0.5"),
    ],
)
def test_bad_settings_are_one_line(registered, override, must_contain):
    extra = {"model.hidden=[8]": "model.contractive=0.1"}.get(override, "model.sparsity_weight=0.5")
    with pytest.raises(ConfigError) as caught:
        validate(compose(["model=autoencoder", override, extra]))
    message = str(caught.value)
    assert must_contain in message and "\n" not in message, message


def test_size_counts_a_reconstruction_of_the_inputs():
    params, units, key, value = AutoencoderModel(code=4, hidden=[6]).size(10, 3)
    assert params == (10 + 1) * 6 + (6 + 1) * 4 + (4 + 1) * 6 + (6 + 1) * 10
    assert (units, key, value) == (10 + 6 + 4 + 6 + 10, "model.code", 4)
    assert _net(hidden=[6], code=4, n_in=10).n_params == params
    net = build_autoencoder(AutoencoderModel(code=4, hidden=[6]), (5, 2), 3, None)
    assert net.sizes == [10, 6, 4, 6, 10] and net.n_params == params  # a shape reads flat
