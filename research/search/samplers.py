"""Optuna samplers and pruners by config name: the registries :data:`SAMPLERS` and
:data:`PRUNERS` (:class:`research.registry.Registry`).

Samplers are built afresh for every ``ask`` with a seed derived from the study seed and the
number of trials so far (:func:`trial_seed`), so a resumed study samples exactly what an
uninterrupted one would: the sampler's only state is the trial history in the storage.

Your own sampler or pruner needs no edit here: name its factory by import path
(``study.sampler: mypkg.mod:my_sampler``) or register it as an entry point in the group
``research.samplers`` / ``research.pruners``. A sampler factory is called as
``factory(seed, space, n_startup_trials)`` (``space``: key -> :class:`Dimension`) and returns
an ``optuna.samplers.BaseSampler``; a pruner factory as ``factory(startup, warmup)`` (finished
trials before pruning starts, steps before a trial can be pruned) and returns an
``optuna.pruners.BasePruner``. A class whose ``__init__`` takes those arguments is a factory.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from importlib.util import find_spec

import numpy as np
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
from research.registry import Registry
from research.search.space import Dimension

#: name -> factory(seed, space, n_startup_trials) -> BaseSampler
SAMPLERS: Registry = Registry("sampler", group="research.samplers")
#: name -> factory(finished trials before pruning starts, steps before a trial can be pruned)
PRUNERS: Registry = Registry("pruner", group="research.pruners")


def _grid_values(space: Mapping[str, Dimension]) -> dict[str, list]:
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
    return grid


@SAMPLERS.register("grid")
def _grid(seed: int, space: Mapping[str, Dimension], n_startup: int) -> BaseSampler:
    return _GridSampler(_grid_values(space), seed=seed)


class _GridSampler(optuna.samplers.GridSampler):
    """Optuna's grid without its ``study.stop()`` call (which needs ``study.optimize``): the
    driver caps the study at the grid's size instead (:func:`n_trials_for`)."""

    def after_trial(self, study, trial, state, values) -> None:  # noqa: ARG002
        return None


def n_trials_for(sampler: str, space: Mapping[str, Dimension], n_trials: int) -> int:
    """``n_trials``, or the grid's size when a grid has fewer points."""
    if sampler != "grid":
        return n_trials
    size = 1
    for values in _grid_values(space).values():
        size *= len(values)
    return min(n_trials, size)


def _needs(module: str, extra: str, sampler: str) -> None:
    if find_spec(module) is None:
        raise ConfigError(
            f"sampler {sampler!r} needs the optional package {module!r}: "
            f"pip install 'research[{extra}]'"
        )


@SAMPLERS.register("tpe")
def _tpe(seed: int, space, n_startup: int) -> BaseSampler:
    # multivariate TPE models the keys jointly (lr and batch size interact); constant_liar keeps
    # parallel workers from proposing the same point while a trial runs (with two workers on
    # MNIST-1D it did not pay: tpe_noliar, docs/reports/search-efficiency).
    return optuna.samplers.TPESampler(
        seed=seed,
        n_startup_trials=n_startup,
        multivariate=True,
        constant_liar=True,
    )


@SAMPLERS.register("tpe_noliar")
def _tpe_noliar(seed: int, space, n_startup: int) -> BaseSampler:
    # ``tpe`` without the constant liar: a worker's model ignores the trials other workers
    # are still running. With one worker the same as ``tpe``; kept to measure the liar
    # (bench/search_efficiency.py, variants *-w2).
    return optuna.samplers.TPESampler(
        seed=seed, n_startup_trials=n_startup, multivariate=True, constant_liar=False
    )  # Optuna 5 turns the liar on by default


@SAMPLERS.register("tpe_group")
def _tpe_group(seed: int, space, n_startup: int) -> BaseSampler:
    # for conditional spaces: keys that appear together in trials are modelled as one group.
    # Optuna calls ``group`` experimental and would warn on every study; chosen knowingly here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=n_startup, multivariate=True, group=True, constant_liar=True
        )


@SAMPLERS.register("tpe_univariate")
def _tpe_univariate(seed: int, space, n_startup: int) -> BaseSampler:
    # Bergstra et al.'s original TPE: one independent density per key
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup, constant_liar=True)


@SAMPLERS.register("random")
def _random(seed: int, space, n_startup: int) -> BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


@SAMPLERS.register("qmc")
def _qmc(seed: int, space, n_startup: int) -> BaseSampler:
    return optuna.samplers.QMCSampler(seed=seed)


@SAMPLERS.register("nsga2")
def _nsga2(seed: int, space, n_startup: int) -> BaseSampler:
    # a generation is n_startup trials: small studies then still see several generations
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(2, n_startup))


@SAMPLERS.register("cmaes")
def _cmaes(seed: int, space, n_startup: int) -> BaseSampler:
    _needs("cmaes", "cmaes", "cmaes")
    return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=n_startup)


@SAMPLERS.register("gp")
def _gp(seed: int, space, n_startup: int) -> BaseSampler:
    _needs("torch", "gp", "gp")
    return optuna.samplers.GPSampler(seed=seed, n_startup_trials=n_startup)


MULTI_OBJECTIVE = {
    "tpe",
    "tpe_group",
    "tpe_univariate",
    "tpe_noliar",
    "random",
    "qmc",
    "grid",
    "nsga2",
    "gp",
}
#: built-in samplers that optimise one objective only (a user's sampler is trusted)
SINGLE_OBJECTIVE = {"cmaes"}
#: samplers whose sequence depends on one seed for the whole study (QMC's scrambling, the
#: grid's order); the others take a fresh seed per trial, derived from the study seed
STUDY_SEEDED = {"qmc", "grid"}


def trial_seed(sampler: str, study_seed: int, n_existing: int) -> int:
    """The sampler seed for the next trial: a pure function of the study seed and the number of
    trials already in the storage, so a resumed study proposes what an uninterrupted one would."""
    if sampler in STUDY_SEEDED:
        return study_seed
    return int(np.random.SeedSequence([study_seed, n_existing]).generate_state(1)[0])


@PRUNERS.register("median")
def _median(startup: int, warmup: int) -> BasePruner:
    return MedianPruner(n_startup_trials=startup, n_warmup_steps=warmup)


@PRUNERS.register("percentile")
def _percentile(startup: int, warmup: int) -> BasePruner:
    return PercentilePruner(25.0, n_startup_trials=startup, n_warmup_steps=warmup)


@PRUNERS.register("halving")
def _halving(startup: int, warmup: int) -> BasePruner:
    return SuccessiveHalvingPruner(min_resource=max(1, warmup))


@PRUNERS.register("hyperband")
def _hyperband(startup: int, warmup: int) -> BasePruner:
    return HyperbandPruner(min_resource=max(1, warmup))


@PRUNERS.register("none")
def _none(startup: int, warmup: int) -> BasePruner:
    return NopPruner()


def check_names(sampler: str, pruner: str, n_objectives: int) -> None:
    """Fail before the study starts on an unknown or unusable sampler/pruner."""
    if sampler not in SAMPLERS:
        raise unknown_name("sampler", sampler, SAMPLERS)
    if pruner not in PRUNERS:
        raise unknown_name("pruner", pruner, PRUNERS)
    SAMPLERS.entry(sampler)  # an import path that does not import is one line, now
    PRUNERS.entry(pruner)
    if n_objectives > 1 and sampler in SINGLE_OBJECTIVE:
        raise ConfigError(
            f"study.sampler={sampler!r} is not allowed with {n_objectives} objectives: "
            "choose one of: " + ", ".join(sorted(MULTI_OBJECTIVE))
        )
    if sampler == "cmaes":
        _needs("cmaes", "cmaes", "cmaes")
    if sampler == "gp":
        _needs("torch", "gp", "gp")
    if n_objectives > 1 and pruner != "none":
        raise ConfigError(
            f"study.pruner={pruner!r} is not allowed with {n_objectives} objectives: "
            "Optuna prunes single-objective studies only; use study.pruner=none"
        )


def make_sampler(
    name: str, seed: int, space: Mapping[str, Dimension], n_startup_trials: int
) -> BaseSampler:
    return SAMPLERS.get(name)(seed, space, n_startup_trials)


def make_pruner(name: str, startup: int = 5, warmup: int = 3) -> BasePruner:
    return PRUNERS.get(name)(startup, warmup)
