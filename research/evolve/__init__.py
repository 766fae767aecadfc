"""Search engines (ask/tell over float64 genomes), genome encodings and selection schemes,
found by name.

    engine = make_engine("cmaes", n_genes, np.random.default_rng(seed), sigma0=0.5)
    encoding = make_encoding("cppn", net, hidden=8)
    select = make_selection("tournament", {"tournsize": 3})   # select(individuals, k)

Engines: ``ga``, ``cmaes`` (IPOP), ``nsga2``, ``nsga3``, ``cascade`` (multi-objective: tell
(P, M), every column maximised), ``esp`` (needs ``groups=neuron_groups(net)``), ``cosyne``.
An unknown name or setting, or a setting out of range, raises :class:`ConfigError` with one
line naming the value and what is allowed. A user's engine (a subclass of :class:`Engine`),
encoding or selection is named by import path or registered by an entry point
(``research.engines``, ``research.encodings``, ``research.selections``).

The engines are pure algorithms (no tracking, files or configs); :mod:`research.evolve.driver`
runs them as a study.
"""

from __future__ import annotations

import numpy as np

from research.errors import ConfigError
from research.evolve.cmaes import CMAES
from research.evolve.coevolution import ESP, CoSyNE, neuron_groups
from research.evolve.encodings import CPPN, ENCODINGS, Direct
from research.evolve.engine import Engine
from research.evolve.ga import GA
from research.evolve.moo import NSGA2, NSGA3, Cascade, hypervolume
from research.evolve.selection import SELECTIONS, make_selection
from research.registry import Registry

#: ask/tell engines by name: ``factory(n_genes, rng, **settings)``
ENGINES: Registry = Registry("algorithm", group="research.engines")
for _name, _cls in {
    "ga": GA,
    "cmaes": CMAES,
    "nsga2": NSGA2,
    "nsga3": NSGA3,
    "cascade": Cascade,
    "esp": ESP,
    "cosyne": CoSyNE,
}.items():
    ENGINES.register(_name, _cls)


def make_engine(name: str, n_genes: int, rng: np.random.Generator, **settings) -> Engine:
    """The engine ``name`` over ``n_genes`` genes, its randomness drawn from ``rng``."""
    ENGINES.get(name)  # an unknown name first
    if int(n_genes) < 1:
        raise ConfigError(f"n_genes={n_genes!r} is not allowed: must be >= 1")
    return ENGINES.build(name, int(n_genes), rng, **settings)


def make_encoding(name: str, net, **settings):
    """The encoding ``name`` for the template ``net``: ``n_genes`` and ``decode``."""
    return ENCODINGS.build(name, net, **settings)


__all__ = [
    "CMAES",
    "CPPN",
    "ENCODINGS",
    "ENGINES",
    "ESP",
    "GA",
    "NSGA2",
    "NSGA3",
    "SELECTIONS",
    "Cascade",
    "CoSyNE",
    "Direct",
    "Engine",
    "hypervolume",
    "make_encoding",
    "make_engine",
    "make_selection",
    "neuron_groups",
]
