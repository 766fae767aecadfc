"""Optuna samplers and pruners by config name.

Samplers are built afresh for every ``ask`` with a seed derived from the study seed and the
trial count, so a resumed study samples exactly what an uninterrupted one would: the
sampler's only state is the trial history in the storage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.util import find_spec

import optuna
from optuna.pruners import (
    BasePruner,
    HyperbandPruner,
    MedianPruner,
    NopPruner,
    PercentilePruner,
    SuccessiveHalvingPruner,
)
from optuna.samplers import BaseSampler

from research.errors import ConfigError, unknown_name
from research.search.space import Dimension


def _grid(seed: int, space: Mapping[str, Dimension], n_objectives: int) -> BaseSampler:
    grid = {}
    for key, dim in space.items():
        dist = dim.distribution
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            grid[key] = list(dist.choices)
        elif isinstance(dist, optuna.distributions.IntDistribution):
            grid[key] = list(range(dist.low, dist.high + 1, dist.step))
        elif dist.step is not None:
            n = round((dist.high - dist.low) / dist.step)
            grid[key] = [dist.low + i * dist.step for i in range(n + 1)]
        else:
            raise ConfigError(
                f"sampler 'grid' cannot enumerate study.params.{key}={dim.text!r}: "
                "use choice(...) or range(...) for every key"
            )
    return optuna.samplers.GridSampler(grid, seed=seed)


def _needs(module: str, extra: str, sampler: str) -> None:
    if find_spec(module) is None:
        raise ConfigError(
            f"sampler {sampler!r} needs the optional package {module!r}: "
            f"pip install 'research[{extra}]'"
        )


def _cmaes(seed: int, space, n_objectives: int) -> BaseSampler:
    _needs("cmaes", "cmaes", "cmaes")
    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)


def _gp(seed: int, space, n_objectives: int) -> BaseSampler:
    _needs("torch", "gp", "gp")
    return optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False)


SAMPLERS: dict[str, Callable[[int, Mapping[str, Dimension], int], BaseSampler]] = {
    "tpe": lambda seed, space, n: optuna.samplers.TPESampler(
        seed=seed, multivariate=True, warn_independent_sampling=False
    ),
    "random": lambda seed, space, n: optuna.samplers.RandomSampler(seed=seed),
    "qmc": lambda seed, space, n: optuna.samplers.QMCSampler(
        seed=seed, warn_independent_sampling=False
    ),
    "grid": _grid,
    "nsga2": lambda seed, space, n: optuna.samplers.NSGAIISampler(seed=seed),
    "cmaes": _cmaes,
    "gp": _gp,
}

PRUNERS: dict[str, Callable[[], BasePruner]] = {
    "median": lambda: MedianPruner(n_startup_trials=5, n_warmup_steps=3),
    "percentile": lambda: PercentilePruner(25.0, n_startup_trials=5, n_warmup_steps=3),
    "halving": lambda: SuccessiveHalvingPruner(),
    "hyperband": lambda: HyperbandPruner(),
    "none": NopPruner,
}


def check_names(sampler: str, pruner: str, n_objectives: int) -> None:
    """Fail before the study starts on an unknown or unusable sampler/pruner."""
    if sampler not in SAMPLERS:
        raise unknown_name("sampler", sampler, SAMPLERS)
    if pruner not in PRUNERS:
        raise unknown_name("pruner", pruner, PRUNERS)
    if sampler == "cmaes":
        _needs("cmaes", "cmaes", "cmaes")
    if sampler == "gp":
        _needs("torch", "gp", "gp")
    if n_objectives > 1 and pruner != "none":
        raise ConfigError(
            f"study.pruner={pruner!r} is not allowed with {n_objectives} objectives: "
            "Optuna prunes single-objective studies only; use study.pruner=none"
        )


def make_sampler(name: str, seed: int, space: Mapping[str, Dimension], n_objectives: int):
    return SAMPLERS[name](seed, space, n_objectives)


def make_pruner(name: str) -> BasePruner:
    return PRUNERS[name]()
