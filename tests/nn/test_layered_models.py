"""model=cnn|lstm|gru|maxout: built from config for the data they are given, trained by the
same fit loop and regimes, and bad shapes refused in one line before any run."""

from __future__ import annotations

import numpy as np
import pytest

from research.config import compose, validate
from research.run import main as run_main
from research.train.fit import fit_model
from research.train.prepare import prepare
from tests.nn.gradcheck import check_network
from tests.test_bad_inputs import snapshot


def _built(*overrides, seed=0):
    cfg = compose(list(overrides))
    groups = validate(cfg)
    return prepare(groups["data"], groups["model"], seed), groups


@pytest.mark.parametrize(
    ("overrides", "in_shape"),
    [
        (["model=cnn"], (40, 1)),
        (["model=cnn", "model.dims=2", "data=digits"], (8, 8, 1)),
        (["model=gru"], (40, 1)),
        (["model=lstm", "model.peepholes=true", "model.bidirectional=true"], (40, 1)),
        (["model=maxout", "data=digits"], (64,)),
    ],
    ids=["cnn-1d", "cnn-2d", "gru", "lstm-peep-bi", "maxout"],
)
def test_models_read_the_data_in_their_own_shape(overrides, in_shape):
    (data, net), _ = _built(*overrides, "model.dtype=float64")
    assert net.in_shape == in_shape
    probs = net.predict(data.x_val[:7])
    assert probs.shape == (7, data.n_classes)
    np.testing.assert_allclose(probs.sum(1), 1.0)


def test_paper_cnn_has_the_papers_read_out():
    """Three stride-2 'same' convolutions take 40 steps to 5, times 25 channels = 125."""
    (_, net), _ = _built("model=cnn")
    assert net.layers[-1].n_in == 125
    assert net.dtype == np.float32


@pytest.mark.parametrize(
    "overrides",
    [
        [
            "model=cnn",
            "model.channels=[3,4]",
            "model.kernel=3",
            "model.stride=1",
            "model.pool=max",
            "model.hidden=[5]",
        ],
        [
            "model=cnn",
            "model.channels=[3]",
            "model.kernel=3",
            "model.batch_norm=true",
            "model.global_pool=true",
        ],
        ["model=gru", "model.hidden=[3]", "model.readout=mean", "model.dense=[4]"],
        ["model=lstm", "model.hidden=[3]", "model.peepholes=true"],
    ],
    ids=["cnn-pool-dense", "cnn-bn-gap", "gru-mean", "lstm-peep"],
)
def test_built_models_match_finite_differences(overrides):
    """The whole network of a config, float64, against central differences."""
    cfg = compose([*overrides, "model.dtype=float64", "data=parity", "data.n_bits=6"])
    groups = validate(cfg)
    data, net = prepare(groups["data"], groups["model"], 0)
    x = data.x_train[:4] + 0.01 * np.random.default_rng(0).standard_normal(data.x_train[:4].shape)
    check_network(net, x, data.targets(data.y_train[:4], net.dtype))


@pytest.mark.parametrize("model", ["cnn", "gru", "maxout"])
def test_models_learn_with_the_fit_loop(model):
    """A few epochs of Adam beat chance on MNIST-1D's validation split by a margin."""
    overrides = [f"model={model}", "regime=adam", "regime.epochs=3", "regime.lr=0.01"]
    if model == "gru":
        overrides += ["model.hidden=[16]", "regime.clip_norm=1.0"]
    (data, net), groups = _built(*overrides)
    result = fit_model(net, groups["regime"], data, seed=0)
    assert result.metrics["val/acc"] > 0.2, result.metrics


BAD = [
    (["model=cnn", "model.kernel=[5,3]"], "kernel"),
    (["model=cnn", "model.padding=valid", "model.kernel=50"], "kernel"),
    (["model=cnn", "model.dims=2"], "model.dims=1"),
    (["model=cnn", "model.padding=narrowest"], "model.padding"),
    (["model=cnn", "model.stride=[2,2]"], "model.stride"),
    (["model=gru", "model.peepholes=true"], "peepholes"),
    (["model=maxout", "model.pieces=1"], "model.pieces"),
    (["model=lstm", "model.input_shape=[7,3]"], "model.input_shape"),
]


@pytest.mark.parametrize(("args", "named"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_a_bad_shape_is_one_line_and_nothing_runs(isolated, capsys, args, named):
    before = snapshot(isolated)
    assert run_main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and named in err[0], err
    assert not (isolated / "mlruns").exists()
    assert snapshot(isolated) == before


def test_an_autoencoder_run_logs_its_reconstructions(isolated, capsys):
    """The run's artifacts show input / corrupted / reconstruction of validation examples."""
    args = ["model=autoencoder", "model.code=8", "model.noise=0.25", "data=digits"]
    assert run_main([*args, "regime=adam", "regime.epochs=2"]) == 0
    assert "val/recon" in capsys.readouterr().out
    figures = list((isolated / "mlruns").rglob("reconstructions.png"))
    assert len(figures) == 1 and figures[0].stat().st_size > 10_000


def test_a_gan_run_logs_its_samples_and_refuses_regression_data(isolated, capsys):
    args = ["model=gan", "data=ring8", "data.n_train=500", "regime=adam", "regime.epochs=2"]
    assert run_main(args) == 0
    assert "val/modes" in capsys.readouterr().out
    figures = list((isolated / "mlruns").rglob("samples.png"))
    assert len(figures) == 1 and figures[0].stat().st_size > 10_000
    assert run_main(["model=gan", "data=sine"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: a GAN needs class labels to condition on: data=sine is a regression data set"
    ]
