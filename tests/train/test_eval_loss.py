"""``evaluate`` scores a plain model's loss on the predictions it already made: the numbers
must be the ones a second forward pass (``model.loss`` per chunk) gives, to the last bit."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from research.config import compose, validate
from research.train.fit import EVAL_CHUNK, evaluate
from research.train.prepare import prepare

fit_module = importlib.import_module("research.train.fit")  # the package exports fit()


def _second_pass_loss(model, x, t) -> float:
    """The loss as evaluate computed it before: a forward pass per chunk inside model.loss."""
    total = 0.0
    for start in range(0, len(x), EVAL_CHUNK):
        xb, tb = x[start : start + EVAL_CHUNK], t[start : start + EVAL_CHUNK]
        total += model.loss(xb, tb) * len(xb)
    return total / len(x)


@pytest.mark.parametrize(
    "overrides",
    [
        ["model=mlp", "model.hidden=[64,32]", "model.batch_norm=true", "model.dropout=0.2"],
        ["model=mlp", "model.hidden=[16]", "model.activation=tanh", "model.dtype=float64"],
        ["model=cnn"],
        ["model=gru"],
    ],
    ids=["mlp-bn", "mlp-f64", "cnn", "gru"],
)
def test_the_loss_from_the_predictions_is_the_second_passs_loss_exactly(overrides):
    cfg = compose(["data=mnist1d", *overrides])
    groups = validate(cfg)
    data, model = prepare(groups["data"], groups["model"], 3)
    rng = np.random.default_rng(0)
    model.theta[...] = rng.normal(0, 0.3, model.theta.shape)  # not the initial weights
    for split in ("train", "val", "test"):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        t = data.targets(y, model.dtype)
        got = evaluate(model, data, split)[f"{split}/loss"]
        assert got == _second_pass_loss(model, x, t), split


def test_several_chunks_give_the_second_passs_loss_exactly(monkeypatch):
    """More rows than one chunk: the predictions' chunks are the forward passes' chunks."""
    monkeypatch.setattr(fit_module, "EVAL_CHUNK", 300)
    cfg = compose(["data=mnist1d", "model=mlp", "model.hidden=[32]", "model.batch_norm=true"])
    groups = validate(cfg)
    data, model = prepare(groups["data"], groups["model"], 1)
    x, t = data.x_train, data.targets(data.y_train, model.dtype)
    assert len(x) > 3 * 300
    calls = []
    forward = model.forward
    monkeypatch.setattr(model, "forward", lambda *a, **k: calls.append(1) or forward(*a, **k))
    got = fit_module.evaluate(model, data, "train")["train/loss"]
    passes = len(calls)
    want = 0.0
    for start in range(0, len(x), 300):
        want += model.loss(x[start : start + 300], t[start : start + 300]) * len(
            x[start : start + 300]
        )
    assert got == want / len(x)
    assert passes == -(-len(x) // 300)  # one forward pass per chunk, not two
