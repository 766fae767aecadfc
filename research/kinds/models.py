"""Our networks as MLflow models (:mod:`research.track.models`): what MLflow's loader calls to
rebuild one (:func:`load_network`), what it is told (:func:`network_spec`), and an
evolution's champion as a registered model.
"""

from __future__ import annotations

import sys
from dataclasses import asdict

import numpy as np

from research.nn.build import MODELS
from research.track.models import LoggedNetwork, log_network

LOADER = "research.kinds.models:load_network"


def _sizes(net) -> tuple[int | list[int], int] | None:
    """(inputs, outputs) the network was built for (inputs: one example's shape for a layered
    network); None for a network we cannot rebuild."""
    if hasattr(net, "in_shape") and hasattr(net, "out_shape"):
        return [int(s) for s in net.in_shape], int(net.out_shape[-1])
    if hasattr(net, "sizes"):
        return int(net.sizes[0]), int(net.sizes[-1])
    if hasattr(net, "n_inputs") and hasattr(net, "n_outputs"):
        return int(net.n_inputs), int(net.n_outputs)
    return None


def network_spec(model_cfg, net) -> dict | None:
    """``network.json``: the loader, the model group's settings and the network's sizes."""
    sizes = _sizes(net)
    if sizes is None or model_cfg.name not in MODELS:
        return None
    return {
        "loader": LOADER,
        "network": type(net).__name__,
        "model": asdict(model_cfg),
        "n_inputs": sizes[0],
        "n_outputs": sizes[1],
    }


def load_network(spec: dict, state: dict[str, np.ndarray]):
    """The network ``spec`` describes, with the weights ``state`` (MLflow's loader)."""
    settings = dict(spec["model"])
    schema = MODELS.schema(settings["name"])
    cfg = schema(**settings) if schema is not None else settings
    build = MODELS.get(settings["name"])
    net = build(cfg, spec["n_inputs"], spec["n_outputs"], np.random.default_rng(0))
    net.load_state_dict(state)
    return net


def example_input(net, n_inputs: int) -> np.ndarray:
    """Two zero inputs in the shape ``predict`` takes: (batch, steps, inputs) for a recurrent
    network, else (batch, inputs)."""
    if hasattr(net, "in_shape"):
        return np.zeros((2, *net.in_shape), dtype=net.dtype)
    shape = (2, 1, n_inputs) if hasattr(net, "n_hidden") else (2, n_inputs)
    return np.zeros(shape, dtype=net.dtype)


def log_champion(run, model_cfg, net, name: str) -> LoggedNetwork | None:
    """The evolution's champion (``net`` holds its weights) as run ``run``'s model, registered
    as ``name``; None when the network cannot be rebuilt by name."""
    spec = network_spec(model_cfg, net)
    if spec is None:
        return None
    example = example_input(net, spec["n_inputs"])
    try:
        return log_network(run, net.state_dict(), spec, example, register=name)
    except Exception as exc:  # noqa: BLE001 - the evolution is done; its model is extra
        print(f"warning: the champion was not logged as an MLflow model: {exc}", file=sys.stderr)
        return None
