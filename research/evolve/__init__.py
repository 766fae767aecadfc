"""Search engines (ask/tell over float64 genomes) and genome encodings, found by name.

    engine = make_engine("cmaes", n_genes, np.random.default_rng(seed), sigma0=0.5)
    encoding = make_encoding("cppn", net, hidden=8)

Engines: ``ga``, ``cmaes`` (IPOP), ``nsga2``, ``nsga3``, ``cascade`` (multi-objective: tell
(P, M), every column maximised), ``esp`` (needs ``groups=neuron_groups(net)``), ``cosyne``.
An unknown name or setting, or a setting out of range, raises :class:`ConfigError` with one
line naming the value and what is allowed. Pure algorithms: no tracking, files or configs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from research.errors import ConfigError, unknown_name
from research.evolve.cmaes import CMAES
from research.evolve.coevolution import ESP, CoSyNE, neuron_groups
from research.evolve.encodings import CPPN, ENCODINGS, Direct
from research.evolve.engine import Engine
from research.evolve.ga import GA
from research.evolve.moo import NSGA2, NSGA3, Cascade, hypervolume

ENGINES: dict[str, Callable[..., Engine]] = {
    "ga": GA,
    "cmaes": CMAES,
    "nsga2": NSGA2,
    "nsga3": NSGA3,
    "cascade": Cascade,
    "esp": ESP,
    "cosyne": CoSyNE,
}


def settings_of(cls: type) -> list[str]:
    """Keyword settings a class accepts, following ``**settings`` up its bases."""
    names: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names += [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name not in names]
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return names


def _build(kind: str, name: str, cls: type, args: tuple, settings: dict[str, Any]):
    allowed = settings_of(cls)
    for key in settings:
        if key not in allowed:
            raise ConfigError(
                f"unknown setting {key!r} for {kind} {name!r}; choose from: "
                + ", ".join(sorted(allowed))
            )
    try:
        return cls(*args, **settings)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad setting for {kind} {name!r}: {exc}") from exc


def make_engine(name: str, n_genes: int, rng: np.random.Generator, **settings) -> Engine:
    """The engine ``name`` over ``n_genes`` genes, its randomness drawn from ``rng``."""
    if name not in ENGINES:
        raise unknown_name("algorithm", name, ENGINES)
    if int(n_genes) < 1:
        raise ConfigError(f"n_genes={n_genes!r} is not allowed: must be >= 1")
    return _build("algorithm", name, ENGINES[name], (int(n_genes), rng), settings)


def make_encoding(name: str, net, **settings):
    """The encoding ``name`` for the template ``net``: ``n_genes`` and ``decode``."""
    if name not in ENCODINGS:
        raise unknown_name("encoding", name, ENCODINGS)
    return _build("encoding", name, ENCODINGS[name], (net,), settings)


__all__ = [
    "CMAES",
    "CPPN",
    "ENCODINGS",
    "ENGINES",
    "ESP",
    "GA",
    "NSGA2",
    "NSGA3",
    "Cascade",
    "CoSyNE",
    "Direct",
    "Engine",
    "hypervolume",
    "make_encoding",
    "make_engine",
    "neuron_groups",
    "settings_of",
]
