"""The fit loop end to end on real configs: learning, stopping, divergence, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from research.config import compose, validate
from research.train import fit as fit_plain
from research.train import prepare
from research.train.fit import DIVERGED, EARLY_STOPPED, FINISHED, STOPPED


def setup(*overrides: str):
    """(the model and regime groups and the seed, the data set) of a composed config."""
    cfg = compose(list(overrides))
    groups = validate(cfg)
    data, _ = prepare(groups["data"], groups["model"], cfg.seed)
    return (groups["model"], groups["regime"], cfg.seed), data


def fit(run, data, reporter=None):
    model, regime, seed = run
    return fit_plain(model, regime, data, reporter, seed=seed)


class Recorder:
    def __init__(self, stop_at: int | None = None):
        self.steps: list[int] = []
        self.metrics: list[dict] = []
        self.stop_at = stop_at

    def epoch(self, step, metrics):
        self.steps.append(step)
        self.metrics.append(dict(metrics))
        return self.stop_at is not None and step >= self.stop_at


def test_xor_is_learned_by_a_small_sigmoid_mlp():
    cfg, data = setup(
        "data=xor",
        "model.hidden=[4]",
        "model.activation=tanh",
        "model.output=sigmoid",
        "model.cost=cross_entropy",
        "regime.lr=0.5",
        "regime.epochs=1000",
        "regime.batch_size=4",
        "seed=1",
    )
    result = fit(cfg, data)
    assert result.status == FINISHED
    assert result.metrics["test/acc"] == 1.0
    assert result.metrics["test/loss"] < 0.1


def test_four_bit_parity_is_learned():
    cfg, data = setup(
        "data=parity",
        "model.hidden=[16]",
        "model.activation=tanh",
        "regime=adam",
        "regime.lr=0.02",
        "regime.epochs=600",
        "regime.batch_size=16",
        "seed=0",
    )
    result = fit(cfg, data)
    assert result.metrics["test/acc"] == 1.0


def test_reporter_sees_every_epoch_and_can_stop_training():
    cfg, data = setup("data=spirals", "model.hidden=[8]", "regime.epochs=10")
    recorder = Recorder(stop_at=3)
    result = fit(cfg, data, recorder)
    assert recorder.steps == [0, 1, 2, 3]
    assert result.status == STOPPED and result.epochs == 3
    assert {"train/loss", "train/acc", "val/loss", "val/acc", "lr", "time/epoch"} <= set(
        recorder.metrics[1]
    )


def test_a_diverging_regime_ends_as_diverged_with_the_reason():
    cfg, data = setup(
        "data=sine",
        "model.hidden=[16]",
        "model.activation=relu",
        "model.output=linear",
        "model.cost=quadratic",
        "regime.lr=1e6",
        "regime.epochs=20",
    )
    result = fit(cfg, data)
    assert result.status == DIVERGED
    assert "became" in result.reason and ("nan" in result.reason or "inf" in result.reason)


def test_early_stopping_stops_and_restores_the_best_weights():
    cfg, data = setup(
        "data=spirals",
        "model.hidden=[64,64]",
        "regime=adam",
        "regime.lr=0.05",
        "regime.epochs=300",
        "regime.early_stopping.patience=5",
    )
    recorder = Recorder()
    result = fit(cfg, data, recorder)
    assert result.status == EARLY_STOPPED
    assert result.epochs == result.best_epoch + 5
    best_val = min(m["val/loss"] for m in recorder.metrics[1:])
    assert result.metrics["val/loss"] == pytest.approx(best_val, rel=1e-5)


def test_same_seed_gives_identical_metrics_and_other_seed_differs():
    args = ("data=spirals", "model.hidden=[16]", "regime.epochs=5", "model.dropout=0.2")
    a = fit(*setup(*args, "seed=3"))
    b = fit(*setup(*args, "seed=3"))
    c = fit(*setup(*args, "seed=4"))
    assert _curves(a) == _curves(b)
    assert a.metrics == b.metrics
    assert a.metrics != c.metrics


def _curves(result) -> list[dict]:
    return [{k: v for k, v in h.items() if k != "time/epoch"} for h in result.history]


@pytest.mark.parametrize("regime", ["boltzmann", "cauchy", "cauchy_backprop"])
def test_stochastic_regimes_reduce_the_loss(regime):
    cfg, data = setup(
        "data=sine",
        "model.hidden=[8]",
        "model.activation=tanh",
        "model.output=linear",
        "model.cost=quadratic",
        f"regime={regime}",
        "regime.epochs=200",
        "regime.batch_size=50",
        "seed=2",
        "regime.k=0.01",
    )
    recorder = Recorder()
    fit(cfg, data, recorder)
    first, last = recorder.metrics[0]["train/loss"], recorder.metrics[-1]["train/loss"]
    assert last < 0.5 * first, (first, last)


@pytest.mark.parametrize(
    "regime", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam"]
)
def test_every_gradient_regime_learns_digits(regime):
    cfg, data = setup("data=digits", "model.hidden=[32]", f"regime={regime}", "regime.epochs=20")
    result = fit(cfg, data)
    assert result.metrics["val/acc"] > 0.85, result.metrics  # chance is 0.1


def test_rbf_on_the_logistic_map_fits_without_gradient_epochs():
    cfg, data = setup("data=logistic_map", "model=rbf", "model.n_centres=10")
    recorder = Recorder()
    result = fit(cfg, data, recorder)
    assert recorder.steps == [0]
    assert result.metrics["test/rmse"] < 0.1


def test_rbf_finetuning_improves_on_its_closed_form_start():
    cfg, data = setup(
        "data=sine",
        "model=rbf",
        "model.n_centres=4",
        "model.finetune=true",
        "regime=adam",
        "regime.lr=0.01",
        "regime.epochs=200",
        "regime.batch_size=32",
    )
    recorder = Recorder()
    fit(cfg, data, recorder)
    assert recorder.metrics[-1]["train/loss"] < recorder.metrics[0]["train/loss"]


def test_elman_learns_parity_of_a_bit_sequence():
    cfg, data = setup(
        "data=parity",
        "data.n_bits=3",
        "model=elman",
        "model.hidden=[8]",
        "regime=adam",
        "regime.lr=0.03",
        "regime.epochs=800",
        "regime.batch_size=8",
        "seed=0",
    )
    result = fit(cfg, data)
    assert result.metrics["test/acc"] == 1.0


def test_l2_shrinks_the_weights():
    args = ("data=spirals", "model.hidden=[32]", "regime.epochs=20")
    plain = fit(*setup(*args))
    decayed = fit(*setup(*args, "regime.l2=50"))
    w = lambda r: float(np.sum(r.model.theta[r.model.decay_mask > 0] ** 2))  # noqa: E731
    assert w(decayed) < 0.5 * w(plain)
