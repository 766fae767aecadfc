"""Will the config fit in this machine's memory? An estimate by part, checked upfront.

A data set's size comes from its schema's ``shape()`` (:mod:`research.data.schema`), a
network's from its schema's ``size()`` (:mod:`research.nn.schema`). The evolution's
population sizing reads the study's engine settings by name.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from research.data import DATASETS
from research.data.schema import DataConfig
from research.errors import ConfigError
from research.nn.elman import ElmanModel
from research.nn.rbf import RBFModel
from research.nn.schema import ModelConfig

#: pole, xor tasks: (inputs, outputs) at most; classify/regress/compete read their data set
TASK_SHAPES = {
    "pole_single": (5, 1),
    "pole_double": (7, 1),
    "pole_double_nv": (4, 1),
    "xor": (3, 1),
}
#: activations of a batch, evaluation chunks: rows at most (research.train.fit.EVAL_CHUNK)
EVAL_ROWS = 4096
#: training keeps weights, gradients, two optimiser moments and the best weights
TRAIN_COPIES = 5
GIB = 2**30

#: what a part of the estimate is: (bytes, the key that sizes it, its value, what it is for)
Part = tuple[float, str, Any, str]


def machine_memory() -> int | None:
    """Bytes of RAM this process may use: the machine's, or its cgroup's limit if lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            total = min(total, int(limit))
    except OSError:
        pass
    return total if total > 0 else None


def _number(value: Any, default: float) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return float(value) if ok else float(default)


def _data_shape(data: Any) -> tuple[int, int, float, str | None]:
    return data.shape() if isinstance(data, DataConfig) else (1, 1, 1.0, None)


def _net_size(model: Any, n_in: int, n_out: int) -> tuple[float, float, str, Any]:
    if isinstance(model, ModelConfig):
        return model.size(n_in, n_out)
    return ModelConfig.size(model, n_in, n_out)


def _task_shape(task: Any) -> tuple[int, int]:
    """(inputs, outputs) of an evolution's task: its own, or its data set's."""
    name = task.get("name") if isinstance(task, DictConfig) else None
    if name in TASK_SHAPES:
        return TASK_SHAPES[name]
    data = task.get("data") if isinstance(task, DictConfig) else None
    if isinstance(data, str) and data in DATASETS and DATASETS.schema(data) is not None:
        n_in, n_out, _, _ = _data_shape(DATASETS.schema(data)())
        return n_in, n_out
    return 1, 1


def _population(study, n_genes: float) -> tuple[float, str | None, Any]:
    """(genomes an engine holds and evaluates at once, the setting that sizes it, its value)."""
    settings = dict(study.settings or {})
    algorithm = study.algorithm
    if algorithm == "cmaes":
        key = "lambda_"
        size = _number(settings.get(key), 4 + 3 * math.log(max(n_genes, 1.0)))
    elif algorithm == "esp":
        key = "subpop"
        size = _number(settings.get(key), 20) * _number(settings.get("trials"), 10)
    elif algorithm == "ga":
        pop = _number(settings.get("pop"), 50)
        offspring = _number(settings.get("lambda_"), pop)  # lambda_ defaults to pop
        key = "lambda_" if offspring > pop else "pop"
        size = pop + offspring
    else:  # nsga2, nsga3, cascade, cosyne: parents and offspring
        key = "pop"
        size = 2 * _number(settings.get(key), 100)
    shown = settings.get(key)
    return size, (f"study.settings.{key}" if shown is not None else None), shown


def _evolution(cfg, model, study, width: int) -> list[Part]:
    """An evolution's genomes (and CMA-ES's matrices), sized by the task's inputs/outputs."""
    n_in, n_out = _task_shape(cfg.get("task") or {})
    if isinstance(model, ElmanModel):
        n_in = 1
    n_genes, units, key, value = _net_size(model, n_in, n_out)
    size, pop_key, pop_value = _population(study, n_genes)
    genomes = size * (n_genes * (8 + 2 * width) + units * 8)  # genome, weights, forward
    parts: list[Part] = []
    if pop_key is not None and size > n_genes:
        parts.append((genomes, pop_key, pop_value, f"for {size:,.0f} genomes"))
    else:
        what = f"for {size:,.0f} genomes of {n_genes:,.0f} genes"
        parts.append((genomes, key, value, what))
    if study.algorithm == "cmaes":  # covariance, its eigenvectors and their product
        parts.append((3 * n_genes**2 * 8, key, value, "for CMA-ES's covariance matrices"))
    return parts


def estimate_memory(cfg, objects: dict[str, Any]) -> list[Part]:
    """What the config will hold in memory at once, by part: (bytes, the key that sizes the
    part, its value, what it is). Lower bounds: inputs and outputs as the data or task has
    them at least, no interpreter or library overhead."""
    model, data = objects["model"], objects["data"]
    study = objects.get("study")
    width = 8 if getattr(model, "dtype", "float32") == "float64" else 4
    n_in, n_out, n_examples, data_key = _data_shape(data)
    parts: list[Part] = []
    if data_key is not None:
        value = getattr(data, data_key)
        parts.append(
            (n_examples * (n_in + n_out) * 8, f"data.{data_key}", value, "for its examples")
        )
    if study is not None and study.kind == "evolve":
        return parts + _evolution(cfg, model, study, width)
    steps = 1
    if isinstance(model, ElmanModel) and n_in > 1:  # a sequence of n_in scalars, one per step
        steps, n_in = n_in, 1
    params, units, key, value = _net_size(model, n_in, n_out)
    batch = min(float(objects["regime"].batch_size), max(n_examples, 1.0))
    chunk = min(float(EVAL_ROWS), max(n_examples, 1.0))
    activations = max(3 * batch, 2 * chunk) * steps * units * width
    need = params * width * TRAIN_COPIES + activations
    if isinstance(model, RBFModel):  # the design matrix and its pseudo-inverse, k-means
        need += 4 * n_examples * float(model.n_centres) * 8
    parts.append((need, key, value, "to train (weights, optimiser state, activations)"))
    return parts


def _gib(n: float) -> str:
    gib = n / GIB
    return f"{gib:,.0f}" if gib < 1e9 else f"{gib:.2g}"


def check_memory(cfg, objects: dict[str, Any]) -> None:
    """Refuse a config that cannot fit in this machine's memory, naming the key that sizes
    the biggest part: a failed allocation would otherwise come mid-run, or swap for hours."""
    total = machine_memory()
    if total is None:
        return
    parts = estimate_memory(cfg, objects)
    need = sum(p[0] for p in parts)
    if need <= total:
        return
    size, key, value, what = max(parts, key=lambda p: p[0])
    raise ConfigError(
        f"{key}={value!r} needs about {_gib(need)} GiB {what}; this machine has {_gib(total)} GiB"
    )
