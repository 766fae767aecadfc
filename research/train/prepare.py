"""One way to prepare a run: the data set and the initialised network of a data and model
group. Used by the train kind for a run and, through its ``run_in_trial``, by search trials."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from research.data import load_dataset
from research.data.dataset import Dataset
from research.nn.build import build_model
from research.train.fit import stream


def prepare(data: Any, model: Any, seed: int) -> tuple[Dataset, Any]:
    """Load the data set ``data`` (a data group: its ``name`` and the loader's keywords) at
    the model's dtype and build the network ``model`` describes, initialised from ``seed``."""
    params = asdict(data)
    name = params.pop("name")
    dataset = load_dataset(name, seed=seed, dtype=model.dtype, **params)
    return dataset, build_model(model, dataset, stream(seed, "init"))
