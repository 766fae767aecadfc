"""Nielsen, Neural Networks and Deep Learning, ch. 1: [784, 30, 10] sigmoid network,
quadratic cost, N(0, 1) init, 30 epochs of mini-batch 10 at eta 3.0 on MNIST (first 50k
training images), judged on the 10k test set after every epoch as in the book (95.42%)."""

from __future__ import annotations

import dataclasses

import pytest

from research.config import compose, validate
from research.data import load_dataset
from research.nn.build import build_model
from research.train import fit_model, stream
from tests.conftest import SHARED_MNIST

pytestmark = pytest.mark.skipif(
    not SHARED_MNIST.exists(), reason="../shared/data/mnist.npz not present (tests only)"
)


def nielsen_ch1(hidden: int, seed: int):
    cfg = compose(
        [
            "data=mnist",
            f"data.path={SHARED_MNIST}",
            f"model.hidden=[{hidden}]",
            "model.activation=sigmoid",
            "model.output=sigmoid",
            "model.cost=quadratic",
            "model.init=normal",
            "regime=sgd",
            "regime.lr=3.0",
            "regime.batch_size=10",
            "regime.epochs=30",
            "regime.eval_train=false",
            f"seed={seed}",
        ]
    )
    groups = validate(cfg)
    data = load_dataset("mnist", seed=seed, path=str(SHARED_MNIST))
    data = dataclasses.replace(data, x_val=data.x_test, y_val=data.y_test)  # the book's view
    model = build_model(groups["model"], data, stream(seed, "init"))
    result = fit_model(model, groups["regime"], data, seed=seed)
    accs = [h["val/acc"] for h in result.history[1:]]
    return accs[-1], max(accs)


def test_nielsen_chapter1_30_hidden_reaches_the_books_accuracy():
    final, peak = nielsen_ch1(30, seed=0)
    print(f"[784,30,10] seed 0: final {final:.4f} peak {peak:.4f} (book 0.9542)")
    assert final >= 0.943 and peak >= 0.948, (final, peak)


@pytest.mark.slow
def test_nielsen_chapter1_100_hidden_best_of_three_seeds():
    peaks = [nielsen_ch1(100, seed)[1] for seed in range(3)]
    print(f"[784,100,10] peaks over seeds 0-2: {peaks} (book 0.9659)")
    assert max(peaks) >= 0.96, peaks
