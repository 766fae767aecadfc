"""Function fitting as a fitness task: fitness = -mse on one split of a regression set."""

from __future__ import annotations

import numpy as np

from research.data.dataset import Dataset
from research.tasks.base import (
    TaskResult,
    check_choice,
    check_int,
    check_population,
    check_positive,
    chunked,
)
from research.tasks.classify import SPLITS, auto_chunk, expected_inputs, load, split_arrays


class Regress:
    """Fitness = -mse, the mean of (out - y)^2 over examples and outputs, on ``split``;
    solved when rmse <= ``target``. ``info``: "mse" and "rmse" per individual."""

    name = "regress"

    def __init__(self, data: Dataset, split: str, target: float, chunk) -> None:
        self.data, self.split, self.target, self.chunk = data, split, target, chunk
        self.x, y = split_arrays(data, split)
        self.y = np.asarray(y, np.float64)
        self.n_inputs = data.n_inputs
        self.n_outputs = data.n_outputs

    def evaluate(self, net, thetas: np.ndarray) -> TaskResult:
        thetas = check_population(self, net, thetas, expected_inputs(net, self.data, self.x))

        def score(out):
            sq = (out.astype(np.float64) - self.y) ** 2
            return (sq.reshape(len(sq), -1).mean(axis=1),)

        (mse,) = chunked(net, thetas, self.x, auto_chunk(net, len(self.x), self.chunk), score)
        rmse = np.sqrt(mse)
        return TaskResult(-mse, len(thetas), rmse <= self.target, {"mse": mse, "rmse": rmse})


def regress(
    *,
    data: str = "sine",
    data_params: dict | None = None,
    split: str = "train",
    target: float = 0.05,
    chunk: int | None = None,
    seed: int = 0,
    dtype: str = "float32",
) -> Regress:
    """Fit regression data set ``data`` ("sine", "logistic_map") loaded with
    ``data_params``; solved when the rmse on ``split`` is at most ``target``."""
    split = check_choice("split", split, SPLITS)
    target = check_positive("target", target)
    if chunk is not None:
        chunk = check_int("chunk", chunk, 1)
    ds = load("regress", data, data_params, check_int("seed", seed, 0), dtype, "regression")
    return Regress(ds, split, target, chunk)
