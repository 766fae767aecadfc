"""Data sets: one :class:`Dataset` type, loaders found by name in :data:`DATASETS`."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from research.data import loaders
from research.data.checks import check_splits
from research.data.dataset import Dataset
from research.errors import ConfigError, unknown_name

DATASETS: dict[str, Callable[..., Dataset]] = {
    name: getattr(loaders, name)
    for name in ("mnist1d", "digits", "mnist", "xor", "parity", "spirals", "logistic_map", "sine")
}

#: data sets with continuous targets (scored by rmse); the others are classification
REGRESSION = frozenset({"logistic_map", "sine"})


def load_dataset(name: str, *, seed: int, dtype: str = "float32", **params) -> Dataset:
    """Load data set ``name``; unknown names and parameters are one-line errors."""
    try:
        loader = DATASETS[name]
    except KeyError:
        raise unknown_name("data set", name, DATASETS) from None
    allowed = set(inspect.signature(loader).parameters) - {"seed", "dtype"}
    for key in params:
        if key not in allowed:
            raise ConfigError(
                f"data set {name!r} has no parameter {key!r}; it takes: "
                + ", ".join(sorted(allowed))
            )
    return loader(seed=seed, dtype=dtype, **params)


__all__ = ["DATASETS", "REGRESSION", "Dataset", "check_splits", "load_dataset"]
