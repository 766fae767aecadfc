"""Data sets: one :class:`Dataset` type, loaders found by name in :data:`DATASETS`.

Each loader is registered with the schema of its ``data`` group (:mod:`research.data.schema`).
A user's data set is an entry point in ``research.datasets`` or an import path in
``data.name``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any

from research.data import loaders, mixtures, sequences
from research.data import schema as D
from research.data.checks import check_splits
from research.data.dataset import Dataset
from research.registry import Registry

#: config name -> loader(seed=, dtype=, **settings), with the data group's schema
DATASETS: Registry[Callable[..., Dataset]] = Registry("data set", group="research.datasets")
for _schema in (
    D.Mnist1dData,
    D.DigitsData,
    D.MnistData,
    D.XorData,
    D.ParityData,
    D.SpiralsData,
    D.LogisticMapData,
    D.SineData,
):
    DATASETS.register(_schema.name, getattr(loaders, _schema.name), schema=_schema)
DATASETS.register("recall", sequences.recall, schema=D.RecallData)
DATASETS.register("ring8", mixtures.ring8, schema=D.Ring8Data)

#: data sets with continuous targets (scored by rmse); the others are classification
REGRESSION = frozenset({"logistic_map", "sine"})


def load_dataset(name: str, *, seed: int, dtype: str = "float32", **params) -> Dataset:
    """Load data set ``name``, its schema's defaults under ``params`` (the loaders take every
    keyword: the defaults live in the schema only); unknown names and parameters are
    one-line errors, bad values the loader's."""
    DATASETS.check_keywords(name, params)
    schema = DATASETS.schema(name)
    return DATASETS.get(name)(seed=seed, dtype=dtype, **{**defaults(schema), **params})


def defaults(schema: type | None) -> dict[str, Any]:
    """A data schema's field defaults, ``name`` aside (nothing is checked: the loader does)."""
    if schema is None:
        return {}
    out = {}
    for f in fields(schema):
        if f.name != "name" and f.default is not MISSING:
            out[f.name] = f.default
        elif f.name != "name" and f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
    return out


__all__ = ["DATASETS", "REGRESSION", "Dataset", "check_splits", "load_dataset"]
