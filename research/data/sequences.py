"""Generated sequence tasks with long-range dependencies: what separates gated recurrent nets
(LSTM, GRU) from an Elman net, whose error signal vanishes over many steps (Hochreiter 1991;
Bengio, Simard & Frasconi 1994)."""

from __future__ import annotations

import numpy as np

from research.data.checks import check_splits
from research.data.dataset import Dataset
from research.errors import ConfigError


def recall(
    *,
    seed: int,
    dtype: str,
    length: int,
    n_symbols: int,
    n_train: int,
    n_val: int,
    n_test: int,
) -> Dataset:
    """ "Recall the first symbol": a sequence of ``length`` random symbols (one-hot, shape
    (length, n_symbols)); the label is the first one. Everything after step 0 is noise, so a
    net must carry one step's information across ``length - 1`` steps. Chance: 1/n_symbols."""
    if length < 2 or n_symbols < 2:
        raise ConfigError(
            f"data.length={length}, data.n_symbols={n_symbols} are not allowed: both must be >= 2"
        )
    check_splits("recall", {"n_train": n_train, "n_val": n_val, "n_test": n_test})
    n = n_train + n_val + n_test
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    symbols = rng.integers(0, n_symbols, (n, length))
    x = np.eye(n_symbols, dtype=dtype)[symbols]
    y = symbols[:, 0].astype(np.int64)
    a, b = n_train, n_train + n_val
    meta = {"source": "generated: recall the first symbol", "length": length}
    return Dataset(
        "recall", "classification", x[:a], y[:a], x[a:b], y[a:b], x[b:], y[b:], n_symbols, meta
    )
