"""What a search study is, checked in full before any trial or run exists.

A :class:`SearchSpec` is built from the composed root config and the command-line overrides:
the search space, the overrides every trial shares, the objectives and where the study lives.
:func:`preflight` composes a trial config at every probe value of the space (each group
choice, each interval's ends), so an unknown key or a value a schema refuses is one line
before the study starts, not a study full of failed trials.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.study import StudyDirection

from research.data import REGRESSION
from research.errors import ConfigError
from research.search.samplers import check_names, n_trials_for
from research.search.space import Dimension, parse_space, parse_when

#: ``configure(overrides)`` -> (cfg, groups), and ``validate(cfg, groups)``: see TrialBody
Configure = Callable[[Sequence[str]], tuple[Any, dict[str, Any]]]
Validate = Callable[[Any, dict[str, Any]], None]


@dataclass(frozen=True)
class SearchSpec:
    """A search study, resolved: everything a worker process needs to run its trials."""

    name: str
    study: Any  # research.search.schema.SearchStudy
    space: dict[str, Dimension]
    base_overrides: tuple[str, ...]  # study.overrides + the user's, shared by every trial
    seed: int  # the sampler's
    root: Path
    tracking: Any  # research.config.TrackingConfig

    @property
    def n_trials(self) -> int:
        """``study.n_trials``, capped at the grid's size for the grid sampler."""
        return n_trials_for(self.study.sampler, self.space, self.study.n_trials)

    @property
    def metrics(self) -> list[str]:
        return list(self.study.objectives)

    @property
    def directions(self) -> list[StudyDirection]:
        return [
            StudyDirection.MAXIMIZE if d == "maximize" else StudyDirection.MINIMIZE
            for d in self.study.objectives.values()
        ]

    @property
    def multi_objective(self) -> bool:
        return len(self.study.objectives) > 1

    @property
    def distributions(self) -> dict[str, Any]:
        """What every trial samples (a conditional key is suggested once its condition is
        known: :meth:`conditional`)."""
        return {name: dim.distribution for name, dim in self.space.items() if dim.when is None}

    def conditional(self, params: dict[str, Any]) -> dict[str, Any]:
        """The conditional keys a trial with sampled ``params`` searches too."""
        return {
            name: dim.distribution
            for name, dim in self.space.items()
            if dim.when is not None and dim.applies(params)
        }

    def trial_overrides(self, params: dict[str, Any]) -> list[str]:
        """The Hydra overrides of a trial: the inner evolve study if any, the shared ones,
        then its sampled values."""
        inner = [f"+study={self.study.inner}"] if self.study.inner else []
        return [*inner, *self.base_overrides, *self.sampled_overrides(params)]

    def sampled_overrides(self, params: dict[str, Any]) -> list[str]:
        """A trial's own overrides: its sampled values."""
        return [dim.override(params[name]) for name, dim in self.space.items() if name in params]

    def retrain_overrides(self, params: dict[str, Any]) -> list[str]:
        """The overrides of the command that retrains a trial: :meth:`trial_overrides` with
        each key once (the study's ``regime.epochs=40`` and the user's ``regime.epochs=8``
        read ``regime.epochs=8``), which Hydra composes to the same config."""
        return without_repeats(self.trial_overrides(params))

    def signature(self) -> dict[str, Any]:
        """What may not change when a study is resumed (stored in the study's user attrs)."""
        signature = {
            "space": {k: d.text for k, d in self.space.items()},
            "objectives": dict(self.study.objectives),
            "overrides": [o for o in self.base_overrides if not _is_where(o)],
        }
        if self.study.seeds_per_trial > 1:  # absent at 1: studies stored before it still match
            signature["seeds_per_trial"] = self.study.seeds_per_trial
        return signature

    def signature_json(self) -> str:
        return json.dumps(self.signature(), sort_keys=True)


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def without_repeats(overrides: Sequence[str]) -> list[str]:
    """``overrides`` with each ``key=value`` key once: a later value replaces an earlier one
    where the later stands (as Hydra applies them: the last wins), the rest in order. An
    earlier ``+key=`` (or ``++key=``) keeps its prefix, which adds a key the config lacks;
    deletions (``~key``) and arguments without ``=`` are kept as they are."""

    def key(override: str) -> str | None:
        return None if "=" not in override or override.startswith("~") else _key(override)

    last = {key(o): i for i, o in enumerate(overrides) if key(o) is not None}
    prefix: dict[str, str] = {}
    out = []
    for i, override in enumerate(overrides):
        k = key(override)
        if k is None:
            out.append(override)
            continue
        mark = override[: len(override) - len(override.lstrip("+"))]
        prefix.setdefault(k, mark)  # the first one's: it decides whether the key is added
        if last[k] == i:
            out.append(prefix[k] + override.lstrip("+") if not mark else override)
    return out


def _is_where(override: str) -> bool:
    """Overrides that say where things live (config search path, tracking store) or how they
    run (BLAS threads), not what the study is: they may differ between hosts and resumes."""
    key = _key(override)
    return key.startswith(("hydra.", "tracking.")) or key in ("tracking", "blas_threads")


def is_study_override(override: str) -> bool:
    key = _key(override)
    return key == "study" or key.startswith("study.")


def build_spec(cfg, groups: dict[str, Any], args: Sequence[str], root: Path) -> SearchSpec:
    """The spec of ``cfg``'s study; ``args`` are the user's command-line overrides."""
    study = groups["study"]
    name = study.name or _selected_study(args)
    params = OmegaConf.to_container(cfg.study.params, resolve=True) or {}
    space = parse_space(params)
    when = OmegaConf.to_container(cfg.study.when, resolve=True) or {}
    space.update(parse_when(when, space))
    check_names(study.sampler, study.pruner, len(study.objectives))
    if study.sampler == "grid":
        if when:
            raise ConfigError(
                "study.sampler='grid' cannot search a conditional space (study.when): use tpe "
                "or tpe_group"
            )
        n_trials_for("grid", space, 1)  # refuses continuous intervals now, not mid-study
    if study.workers > 1 and (study.storage or "").startswith("sqlite"):
        raise ConfigError(
            f"study.storage={study.storage!r} is not allowed with study.workers="
            f"{study.workers}: SQLite locks under parallel writers; leave study.storage empty "
            "(journal file) or use postgresql://..."
        )
    user = [a for a in args if not is_study_override(a)]
    for override in user:
        if _key(override) in space:
            raise ConfigError(
                f"{override!r} sets a key the study searches (study.params.{_key(override)}): "
                "remove one of them"
            )
    base = tuple([*(str(o) for o in study.overrides), *user])
    seed = int(cfg.seed if study.seed is None else study.seed)
    return SearchSpec(name, study, space, base, seed, root, groups["tracking"])


def _selected_study(args: Sequence[str]) -> str:
    """``bayes`` for ``+study=bayes``: a study's name defaults to its config option."""
    for arg in args:
        if _key(arg) == "study" and "=" in arg:
            return arg.split("=", 1)[1]
    return "study"


def _probes(dim: Dimension) -> list[Any]:
    dist = dim.distribution
    if isinstance(dist, CategoricalDistribution):
        return list(dist.choices)
    if isinstance(dist, IntDistribution):
        return [dist.low, dist.high]
    return [dist.low, dist.high]


def preflight(spec: SearchSpec, configure: Configure, check: Validate) -> None:
    """Compose and validate a trial config at every probe value of every searched key (one
    key at a time, so an error names its key; ``check`` builds what it describes), and check
    the objectives exist for the data: bad spaces fail here, in one line."""
    kind = None
    inner = [f"+study={spec.study.inner}"] if spec.study.inner else []
    for dim in spec.space.values():
        condition = [] if dim.when is None else [spec.space[dim.when[0]].override(dim.when[1])]
        where = "study.params" if dim.when is None else f"study.when.{dim.when[0]}={dim.when[1]}"
        for value in _probes(dim):
            try:
                overrides = [*inner, *spec.base_overrides, *condition, dim.override(value)]
                cfg, groups = configure(overrides)
                check(cfg, groups)
            except ConfigError as exc:
                raise ConfigError(f"{where}.{dim.key}={dim.text!r}: {exc}") from None
            if cfg.get("study") is not None and not spec.study.inner:
                raise ConfigError("study.overrides may not select another study")
            kind = kind or _data_kind(groups["data"].name)
    if spec.study.inner:
        return
    for metric in spec.metrics:
        if metric.endswith("/acc") and kind == "regression":
            raise ConfigError(
                f"study.objectives: {metric!r} is not measured on regression data; "
                f"use {metric.replace('/acc', '/rmse')!r} or {metric.replace('/acc', '/loss')!r}"
            )
        if metric.endswith("/rmse") and kind == "classification":
            raise ConfigError(
                f"study.objectives: {metric!r} is not measured on classification data; "
                f"use {metric.replace('/rmse', '/acc')!r} or {metric.replace('/rmse', '/loss')!r}"
            )


def _data_kind(name: str) -> str:
    return "regression" if name in REGRESSION else "classification"


#: the key that sets how many steps a trial has, by what a step is (TrialBody.step_name)
STEPS_KEY = {"epoch": "regime.epochs", "generation": "study.generations"}


def pruning_warning(spec: SearchSpec, configure: Configure, step_name: str) -> str | None:
    """``warning: ...`` when the pruner can never stop a trial: every trial ends before
    ``study.prune_after_epochs`` steps (Optuna's pruners wait that many steps). None when
    pruning can act, or there is no pruner."""
    key = STEPS_KEY.get(step_name)
    after = spec.study.prune_after_epochs
    if key is None or spec.study.pruner == "none" or spec.multi_objective:
        return None
    if key in spec.space:  # searched: the longest trial decides
        steps = max((v for v in _probes(spec.space[key]) if isinstance(v, int)), default=None)
    else:
        inner = [f"+study={spec.study.inner}"] if spec.study.inner else []
        try:
            cfg, _ = configure([*inner, *spec.base_overrides])
        except ConfigError:  # the shared overrides alone need a searched key: no claim
            return None
        steps = OmegaConf.select(cfg, key)
    if not isinstance(steps, int) or steps >= after:
        return None
    return (
        f"warning: pruning cannot act: {key}={steps} < study.prune_after_epochs={after} (the "
        f"pruner never stops a trial before that {step_name}); lower study.prune_after_epochs, "
        f"raise {key}, or set study.pruner=none"
    )


#: samplers that count only COMPLETE trials towards their start-up trials (Optuna's GP and
#: CMA-ES; TPE counts pruned ones too)
COUNT_COMPLETE_ONLY = {"gp", "cmaes"}


def sampler_warning(spec: SearchSpec) -> str | None:
    """``warning: ...`` when a pruner may keep the sampler at random: GP and CMA-ES leave
    their start-up (random) sampling only after that many *completed* trials, and a pruner
    stops most trials (bench/search_efficiency.py saw GP draw random search's exact trials
    for all 80 trials of 3 of 6 MNIST-1D studies under the median pruner)."""
    if spec.study.sampler not in COUNT_COMPLETE_ONLY or spec.study.pruner == "none":
        return None
    return (
        f"warning: sampler {spec.study.sampler!r} counts only completed trials towards "
        f"study.n_startup_trials={spec.study.n_startup_trials}; with pruner "
        f"{spec.study.pruner!r} stopping most trials it may sample at random for much of the "
        "study: lower study.n_startup_trials or set study.pruner=none"
    )
