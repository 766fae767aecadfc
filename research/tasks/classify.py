"""Classification as a fitness task: score every individual on one split of a data set."""

from __future__ import annotations

import numpy as np

from research.data import load_dataset
from research.data.dataset import Dataset
from research.errors import ConfigError
from research.nn.elman import ElmanNet
from research.tasks.base import (
    TaskResult,
    check_choice,
    check_int,
    check_population,
    chunked,
    not_allowed,
)

SPLITS = ("train", "val", "test")
FITNESSES = ("accuracy", "neg_loss")
#: activations held at once when the chunk size is automatic (float64: 32 MB)
CHUNK_BUDGET = 1 << 22


def split_arrays(data: Dataset, split: str) -> tuple[np.ndarray, np.ndarray]:
    return getattr(data, f"x_{split}"), getattr(data, f"y_{split}")


def auto_chunk(net, n_examples: int, chunk: int | None) -> int:
    """Individuals per forward call: ``chunk``, or as many as keep the widest layer's
    activations (chunk x examples x width) within :data:`CHUNK_BUDGET` numbers."""
    if chunk is not None:
        return chunk
    width = net.n_hidden if isinstance(net, ElmanNet) else max(net.sizes)
    return max(1, CHUNK_BUDGET // max(1, n_examples * width))


def expected_inputs(net, data: Dataset, x: np.ndarray) -> int:
    """Inputs the net must have: the flattened example, or one per step for an Elman net
    reading a 2-D series (n, T) step by step."""
    if isinstance(net, ElmanNet) and x.ndim == 2 and net.n_inputs == 1:
        return 1
    return data.n_inputs


def load(task: str, data: str, data_params, seed, dtype, kind: str) -> Dataset:
    if data_params is not None and not isinstance(data_params, dict):
        raise not_allowed("data_params", data_params, "give a mapping of data set parameters")
    ds = load_dataset(data, seed=seed, dtype=dtype, **dict(data_params or {}))
    if ds.kind != kind:
        other = "classify" if ds.kind == "classification" else "regress"
        raise ConfigError(
            f"task {task!r} needs {kind} data; {data!r} is {ds.kind}: use task={other}"
        )
    return ds


class Classify:
    """Fitness = accuracy (or minus the network's cost) on ``split``; solved when the
    accuracy reaches ``target``. ``info``: "accuracy" and "loss" per individual."""

    name = "classify"

    def __init__(self, data: Dataset, split: str, fitness: str, target: float, chunk) -> None:
        self.data, self.split, self.fitness, self.target, self.chunk = (
            data,
            split,
            fitness,
            target,
            chunk,
        )
        self.x, self.y = split_arrays(data, split)
        self.n_inputs = data.n_inputs
        self.n_outputs = data.n_outputs

    def evaluate(self, net, thetas: np.ndarray) -> TaskResult:
        thetas = check_population(self, net, thetas, expected_inputs(net, self.data, self.x))
        Y = self.data.targets(self.y, np.float64)

        def score(out):
            acc = np.mean(np.argmax(out, axis=2) == self.y, axis=1)
            loss = np.array([net.cost.value(o.astype(np.float64), Y) for o in out])
            return acc, loss

        chunk = auto_chunk(net, len(self.x), self.chunk)
        acc, loss = chunked(net, thetas, self.x, chunk, score)
        fitness = acc if self.fitness == "accuracy" else -loss
        return TaskResult(
            fitness.astype(np.float64),
            len(thetas),
            acc >= self.target,
            {"accuracy": acc, "loss": loss},
        )


def classify(
    *,
    data: str = "xor",
    data_params: dict | None = None,
    split: str = "train",
    fitness: str = "accuracy",
    target: float = 1.0,
    chunk: int | None = None,
    seed: int = 0,
    dtype: str = "float32",
) -> Classify:
    """Classify data set ``data`` (loaded with ``data_params``, e.g. {"n_bits": 4} for
    parity); ``chunk`` individuals per forward call (None: sized to the data)."""
    split = check_choice("split", split, SPLITS)
    fitness = check_choice("fitness", fitness, FITNESSES)
    if isinstance(target, bool) or not isinstance(target, int | float) or not 0 < target <= 1:
        raise not_allowed("target", target, "an accuracy in (0, 1]")
    if chunk is not None:
        chunk = check_int("chunk", chunk, 1)
    ds = load("classify", data, data_params, check_int("seed", seed, 0), dtype, "classification")
    return Classify(ds, split, fitness, float(target), chunk)
