"""Build a network from its config group (``model=mlp|perceptron|rbf|elman``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from research.data.dataset import Dataset
from research.errors import unknown_name
from research.nn.elman import ElmanNet
from research.nn.mlp import MLP
from research.nn.rbf import RBFNet


def _mlp(cfg, n_in: int, n_out: int, rng: np.random.Generator) -> MLP:
    hidden = list(cfg.hidden)
    activations = list(cfg.activations) if cfg.activations else [cfg.activation] * len(hidden)
    return MLP(
        [n_in, *hidden, n_out],
        activations,
        output=cfg.output,
        cost=cfg.cost,
        init=cfg.init,
        dropout=cfg.dropout,
        batch_norm=cfg.batch_norm,
        bias=cfg.bias,
        dtype=cfg.dtype,
        rng=rng,
    )


def _rbf(cfg, n_in: int, n_out: int, rng: np.random.Generator) -> RBFNet:
    return RBFNet(
        n_in,
        cfg.n_centres,
        n_out,
        normalised=cfg.normalised,
        centres=cfg.centres,
        beta=cfg.beta,
        solver=cfg.solver,
        passes=cfg.passes,
        mu=cfg.mu,
        bias=cfg.bias,
        finetune=cfg.finetune,
        dtype=cfg.dtype,
        rng=rng,
    )


def _elman(cfg, n_in: int, n_out: int, rng: np.random.Generator) -> ElmanNet:
    return ElmanNet(
        n_in,
        cfg.hidden[0],
        n_out,
        activation=cfg.activation,
        output=cfg.output,
        cost=cfg.cost,
        init=cfg.init,
        bias=cfg.bias,
        dtype=cfg.dtype,
        rng=rng,
    )


#: config name -> builder(model config, n_inputs, n_outputs, rng)
MODELS: dict[str, Callable] = {"mlp": _mlp, "perceptron": _mlp, "rbf": _rbf, "elman": _elman}


def build_model(cfg, data: Dataset, rng: np.random.Generator):
    """The network ``cfg`` describes, sized for ``data`` (inputs, and outputs = classes or
    regression targets). Elman nets read 2-D inputs (n, T) as T steps of one input."""
    try:
        builder = MODELS[cfg.name]
    except KeyError:
        raise unknown_name("model", cfg.name, MODELS) from None
    n_in = data.n_inputs
    if builder is _elman and data.x_train.ndim == 2:
        n_in = 1
    return builder(cfg, n_in, data.n_outputs, rng)
