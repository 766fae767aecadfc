"""Samplers and pruners are registries: built-in names, a user's factory by import path, and
the same one-line errors as before; the search schema scores trials on the inner kind's
metrics."""

from __future__ import annotations

import optuna
import pytest

from research.errors import ConfigError
from research.registry import KINDS, Registry
from research.search.samplers import PRUNERS, SAMPLERS, check_names, make_pruner, make_sampler
from research.search.schema import SearchStudy
from research.search.space import parse_space

SPACE = parse_space({"regime.lr": "interval(0.001, 0.1)"})


def my_sampler(seed, space, n_startup_trials):
    """A user's sampler factory: the arguments of the built-in ones."""
    return optuna.samplers.RandomSampler(seed=seed)


def my_pruner(startup, warmup):
    return optuna.pruners.NopPruner()


def test_the_registries_list_the_built_in_names():
    assert isinstance(SAMPLERS, Registry) and isinstance(PRUNERS, Registry)
    assert set(SAMPLERS.names()) >= {"tpe", "random", "qmc", "grid", "nsga2", "cmaes", "gp"}
    assert set(PRUNERS.names()) >= {"median", "percentile", "halving", "hyperband", "none"}
    assert isinstance(make_sampler("tpe", 1, SPACE, 3), optuna.samplers.TPESampler)
    assert isinstance(make_pruner("median", 5, 3), optuna.pruners.MedianPruner)


def test_tpe_variants_set_optunas_options():
    """tpe models the keys jointly; tpe_group also splits conditional spaces into groups;
    tpe_univariate is Bergstra et al.'s independent TPE. All keep constant_liar for workers."""
    made = {n: make_sampler(n, 1, SPACE, 3) for n in ("tpe", "tpe_group", "tpe_univariate")}
    assert {n: bool(s._multivariate) for n, s in made.items()} == {
        "tpe": True,
        "tpe_group": True,
        "tpe_univariate": False,
    }
    assert {n: bool(s._group) for n, s in made.items()} == {
        "tpe": False,
        "tpe_group": True,
        "tpe_univariate": False,
    }
    assert all(s._constant_liar for s in made.values())
    noliar = make_sampler("tpe_noliar", 1, SPACE, 3)  # the default without it, to measure it
    assert noliar._multivariate and not noliar._group and not noliar._constant_liar


def test_a_users_sampler_and_pruner_work_by_import_path():
    sampler, pruner = f"{__name__}:my_sampler", f"{__name__}:my_pruner"
    check_names(sampler, pruner, 1)
    assert isinstance(make_sampler(sampler, 1, SPACE, 3), optuna.samplers.RandomSampler)
    assert isinstance(make_pruner(pruner), optuna.pruners.NopPruner)
    study = SearchStudy(sampler=sampler, pruner=pruner)  # the schema accepts the paths too
    assert study.sampler == sampler


def test_names_that_are_not_samplers_are_one_line():
    with pytest.raises(ConfigError, match=r"^unknown sampler 'nosuch'; choose one of: cmaes, "):
        check_names("nosuch", "median", 1)
    with pytest.raises(ConfigError, match=f"module {__name__!r} has no 'missing'"):
        check_names(f"{__name__}:missing", "median", 1)
    with pytest.raises(ConfigError, match=r"^study.sampler='cmaes' is not allowed with 2"):
        check_names("cmaes", "none", 2)
    with pytest.raises(ConfigError, match=r"^study.pruner='median' is not allowed with 2"):
        check_names("tpe", "median", 2)


def test_objectives_are_the_metrics_of_the_inner_kind():
    assert SearchStudy().objectives == {"val/acc": "maximize"}
    assert SearchStudy(inner="cmaes").objectives == {"fitness": "maximize"}
    with pytest.raises(ConfigError, match=r"^objectives='fitness' is not allowed: choose one of"):
        SearchStudy(objectives={"fitness": "maximize"})
    train = ", ".join(sorted(KINDS.get("train").metrics))
    with pytest.raises(ConfigError, match=f"choose one of: {train}$"):
        SearchStudy(objectives={"fitness": "maximize"})
    with pytest.raises(ConfigError, match=r"^objectives.val/acc='up' is not allowed"):
        SearchStudy(objectives={"val/acc": "up"})
