"""bench/gan_mnist1d.py: one tiny run end to end (a real CNN judge, a real GAN fit, the
figure), the judge scoring real test rows above chance, and the diversity ratio showing a
collapsed class."""

from __future__ import annotations

import numpy as np
import pytest

from tests.bench.conftest import load_bench

TINY = ["--n-train", "600", "--samples", "100", "--cnn-epochs", "2", "--epochs", "2"]


@pytest.fixture(scope="module")
def bench():
    return load_bench("gan_mnist1d")


def test_tiny_run_prints_a_row_per_seed_and_writes_the_figure(bench, tmp_path, capsys):
    png = tmp_path / "samples.png"
    argv = ["--seeds", "0", *TINY, "--g-hidden", "32", "--d-hidden", "32", "--figure", str(png)]
    out = bench.main(argv)
    assert [r["seed"] for r in out["rows"]] == [0]
    for key in ("real_acc", "gen_acc", "worst_cls"):
        assert 0.0 <= out["rows"][0][key] <= 1.0
        assert out["median"][key] == out["rows"][0][key]
    assert out["rows"][0]["worst_cls"] <= out["rows"][0]["gen_acc"]
    assert out["median"]["div_mean"] > 0 and out["median"]["div_min"] <= out["median"]["div_mean"]
    assert out["median"]["nn_ratio"] > 0
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"
    text = capsys.readouterr().out
    assert text.startswith("$ python bench/gan_mnist1d.py --seeds 0 --n-train 600")
    assert "median" in text and "gen acc" in text


def test_the_judge_scores_real_test_rows_above_chance(bench):
    _, acc = bench.train_judge(seed=0, epochs=2, n_train=600)
    assert acc > 0.3  # chance is 0.1 over 10 balanced classes


def test_diversity_ratio_is_near_one_for_real_rows_and_zero_for_a_collapsed_class(bench):
    data = bench.load(0, 600)
    wanted = np.repeat(np.arange(10), 40)
    real = np.concatenate([data.x_train[data.y_train == c][:40] for c in range(10)])
    ratios = bench.diversity(real, wanted, data)
    assert np.all((ratios > 0.7) & (ratios < 1.3))
    collapsed = real.copy()
    collapsed[wanted == 3] = real[wanted == 3][0]
    ratios = bench.diversity(collapsed, wanted, data)
    assert ratios[3] == pytest.approx(0.0, abs=1e-6) and ratios.min() == ratios[3]


def test_balanced_labels_are_equal_per_class(bench):
    labels = bench.balanced_labels(1000, 10)
    assert np.bincount(labels).tolist() == [100] * 10
    assert np.all(np.diff(labels) >= 0)
