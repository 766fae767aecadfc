"""The ``study:`` group of a search (``kind: search``): its fields, defaults and ranges, checked
once when the config is validated (one-line errors, prefixed ``study.`` by the config layer).

What a trial can be scored on is the inner kind's business: the metrics of the ``train`` kind,
or of the ``evolve`` kind when each trial is an evolution (``inner``), found by name in
:data:`research.registry.KINDS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from research.registry import KINDS
from research.schema import StudyConfig, one_of, require
from research.schema import seed as check_seed
from research.search.samplers import PRUNERS, SAMPLERS

DIRECTIONS = ("maximize", "minimize")


@dataclass
class SearchStudy(StudyConfig):
    """A Bayesian (or random, grid, ...) hyperparameter search driven by Optuna.

    ``params`` maps config keys to sweeps in Hydra's grammar; ``objectives`` maps metric names
    to ``maximize``/``minimize`` (several entries: multi-objective, Pareto front).
    """

    kind: str = "search"
    sampler: str = "tpe"
    pruner: str = "median"
    n_trials: int = 30
    workers: int = 1
    # empty: val/acc (maximize), or fitness for an inner evolution. (A non-empty default would
    # be merged with, not replaced by, a study file's objectives.)
    objectives: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    # "key=value" -> params searched only when a choice() key of params took that value
    when: dict[str, Any] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)  # shared by every trial
    storage: str | None = None
    seed: int | None = None  # of the sampler; defaults to the root seed
    n_startup_trials: int = 10
    prune_after_trials: int = 5  # the pruner compares with this many finished trials first
    prune_after_epochs: int = 3  # and never stops a trial before this epoch
    allow_space_change: bool = False
    retry_crashed: int = 1
    inner: str | None = None  # an evolve study option: each trial is then an evolution
    # a completed trial is trained at this many seeds (own validation split and initialisation
    # each) and scored by the mean: less validation noise, for that many times its cost
    seeds_per_trial: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        one_of("sampler", self.sampler, SAMPLERS)
        one_of("pruner", self.pruner, PRUNERS)
        require(self.n_trials >= 1, "n_trials", self.n_trials, "must be >= 1")
        require(1 <= self.workers <= 64, "workers", self.workers, "must be in 1..64")
        require(self.n_startup_trials >= 0, "n_startup_trials", self.n_startup_trials, ">= 0")
        require(self.prune_after_trials >= 0, "prune_after_trials", self.prune_after_trials, ">= 0")
        require(self.prune_after_epochs >= 0, "prune_after_epochs", self.prune_after_epochs, ">= 0")
        require(self.retry_crashed >= 0, "retry_crashed", self.retry_crashed, "must be >= 0")
        check_seed("seed", self.seed, allow_none=True)
        require(
            1 <= self.seeds_per_trial <= 100,
            "seeds_per_trial",
            self.seeds_per_trial,
            "must be in 1..100",
        )
        require(
            not (self.inner and self.seeds_per_trial > 1),
            "seeds_per_trial",
            self.seeds_per_trial,
            "a trial that is an evolution (study.inner) is scored at its own seed only: use 1",
        )
        if not self.objectives:
            self.objectives = {"fitness" if self.inner else "val/acc": "maximize"}
        metrics = KINDS.get("evolve" if self.inner else "train").metrics
        for metric, direction in self.objectives.items():
            one_of("objectives", metric, metrics)
            one_of(f"objectives.{metric}", direction, DIRECTIONS)
