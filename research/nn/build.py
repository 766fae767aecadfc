"""Build a network from its config group (``model=mlp|perceptron|rbf|elman|cnn|rnn|lstm|
gru|maxout|autoencoder|gan``).

:data:`MODELS` maps a model group's ``name`` to a builder ``(group, n_inputs, n_outputs,
rng) -> network`` and to the group's schema. A builder marked with :func:`reads_shape` gets
the shape of one example (``(40,)``, ``(784,)``, ``(T, C)``) instead of ``n_inputs``: layered
networks decide how to read it. A user's model is an entry point in ``research.models`` or
an import path in ``model.name``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from research.data.dataset import Dataset
from research.nn.autoencoder import AutoencoderModel, build_autoencoder
from research.nn.cnn import CNNModel, build_cnn
from research.nn.elman import ElmanModel, ElmanNet
from research.nn.gan import GANModel, build_gan
from research.nn.maxout import MaxoutModel, build_maxout
from research.nn.mlp import MLP, MLPModel
from research.nn.rbf import RBFModel, RBFNet
from research.nn.rnn import RecurrentModel, build_recurrent
from research.registry import Registry

#: config name -> builder(model group, n_inputs, n_outputs, rng), with the group's schema
MODELS: Registry[Callable] = Registry("model", group="research.models")


@MODELS.register("mlp", schema=MLPModel)
@MODELS.register("perceptron", schema=MLPModel)
def _mlp(cfg: MLPModel, n_in: int, n_out: int, rng: np.random.Generator) -> MLP:
    hidden = list(cfg.hidden)
    activations = list(cfg.activations) if cfg.activations else [cfg.activation] * len(hidden)
    settings = _settings(cfg, "init", "dropout", "batch_norm", "bias")
    return MLP([n_in, *hidden, n_out], activations, **settings, rng=rng)


@MODELS.register("rbf", schema=RBFModel)
def _rbf(cfg: RBFModel, n_in: int, n_out: int, rng: np.random.Generator) -> RBFNet:
    keys = ("normalised", "centres", "beta", "solver", "passes", "mu", "bias", "finetune")
    return RBFNet(n_in, cfg.n_centres, n_out, **_settings(cfg, *keys), rng=rng)


@MODELS.register("elman", schema=ElmanModel)
def _elman(cfg: ElmanModel, n_in: int, n_out: int, rng: np.random.Generator) -> ElmanNet:
    settings = _settings(cfg, "activation", "init", "bias")
    return ElmanNet(n_in, cfg.hidden[0], n_out, **settings, rng=rng)


def reads_shape(builder: Callable) -> Callable:
    """Mark ``builder`` as taking one example's shape rather than its flat size."""
    builder.reads_shape = True
    return builder


MODELS.register("cnn", schema=CNNModel)(reads_shape(build_cnn))
MODELS.register("lstm", schema=RecurrentModel)(reads_shape(build_recurrent))
MODELS.register("gru", schema=RecurrentModel)(reads_shape(build_recurrent))
MODELS.register("rnn", schema=RecurrentModel)(reads_shape(build_recurrent))
MODELS.register("maxout", schema=MaxoutModel)(reads_shape(build_maxout))
MODELS.register("autoencoder", schema=AutoencoderModel)(reads_shape(build_autoencoder))
MODELS.register("gan", schema=GANModel)(build_gan)


def _settings(cfg, *keys: str) -> dict:
    """The group's values of ``keys`` plus what every network takes (output, cost, dtype)."""
    shared = [k for k in ("output", "cost", "dtype") if hasattr(cfg, k)]
    return {k: getattr(cfg, k) for k in (*keys, *shared)}


def build_model(cfg, data: Dataset, rng: np.random.Generator):
    """The network ``cfg`` describes, sized for ``data`` (inputs, and outputs = classes or
    regression targets). Elman nets read 2-D inputs (n, T) as T steps of one input."""
    builder = MODELS.get(cfg.name)
    if getattr(builder, "reads_data", False):  # a GAN checks the data's kind (it needs labels)
        return builder(cfg, data, rng)
    if getattr(builder, "reads_shape", False):
        return builder(cfg, data.x_train.shape[1:], data.n_outputs, rng)
    n_in = data.n_inputs
    if builder is _elman and data.x_train.ndim == 2:
        n_in = 1
    return builder(cfg, n_in, data.n_outputs, rng)
