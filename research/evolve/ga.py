"""Genetic algorithm on DEAP's operators, driven one generation at a time (ask/tell).

Generation 0 asks for ``pop`` random genomes, N(0, init_std^2) per gene. Afterwards, with
mu = ``pop`` parents and E = ``elite`` hall-of-fame members:

- ``mu_plus_lambda``:  ask ``lambda_`` offspring by DEAP's ``varOr`` (each child from
  crossover with prob cxpb, mutation with prob mutpb, else a copy); survivors =
  E elites + select(parents + offspring, mu - E).
- ``mu_comma_lambda``: as above, survivors = E elites + select(offspring, mu - E).
- ``simple`` (eaSimple): ask mu - E offspring = ``varAnd``(select(parents, mu - E))
  (pairwise crossover with prob cxpb, then mutation with prob mutpb);
  survivors = E elites + offspring.

The elites are the best genomes ever evaluated (a ``HallOfFame`` compared with
``numpy.array_equal``), so the best fitness never decreases. Mutation adds, to each gene with
probability indpb, Gaussian noise (``mutGaussian``, N(0, sigma^2)) or Cauchy noise (scale
sigma, drawn from the engine's Generator); crossover is BLX-alpha (``cxBlend``) or copying
two-point. ``select`` is the scheme ``selection`` names in :data:`SELECTIONS` (tournament of
``tournsize`` by default; ``selection_settings`` configure others).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from deap import algorithms, base, tools

from research.evolve.engine import Engine, require
from research.evolve.individuals import genomes_of, individuals, values_of
from research.evolve.operators import cx_two_point, mut_cauchy
from research.evolve.selection import make_selection

STRATEGIES = ("mu_plus_lambda", "mu_comma_lambda", "simple")
MUTATIONS = ("gaussian", "cauchy")
CROSSOVERS = ("blend", "two_point")


class GA(Engine):
    def __init__(
        self,
        n_genes: int,
        rng: np.random.Generator,
        *,
        pop: int = 50,
        lambda_: int | None = None,
        strategy: str = "mu_plus_lambda",
        cxpb: float = 0.5,
        mutpb: float = 0.4,
        sigma: float = 0.3,
        indpb: float = 0.2,
        mutation: str = "gaussian",
        crossover: str = "blend",
        alpha: float = 0.3,
        selection: str = "tournament",
        selection_settings: dict[str, Any] | None = None,
        tournsize: int = 3,
        elite: int = 1,
        init_std: float = 1.0,
    ) -> None:
        _check(strategy, mutation, crossover, pop, lambda_, cxpb, mutpb, sigma, indpb, elite)
        require(init_std >= 0, "init_std", init_std, "must be >= 0")
        select = _selection(selection, selection_settings, tournsize)
        super().__init__(n_genes, rng, hof_size=max(1, int(elite)))
        self.mu, self.strategy = int(pop), strategy
        self.lambda_ = int(pop if lambda_ is None else lambda_)
        self.cxpb, self.mutpb, self.elite = float(cxpb), float(mutpb), int(elite)
        self.init_std = float(init_std)
        tb = base.Toolbox()
        if crossover == "blend":
            tb.register("mate", tools.cxBlend, alpha=float(alpha))
        else:
            tb.register("mate", cx_two_point)
        indpb = float(indpb)
        if mutation == "gaussian":
            tb.register("mutate", tools.mutGaussian, mu=0.0, sigma=float(sigma), indpb=indpb)
        else:
            tb.register("mutate", partial(mut_cauchy, gen=self.rng.gen), scale=sigma, indpb=indpb)
        tb.register("select", select)
        self.toolbox = tb
        self.parents = np.zeros((0, self.n_genes))  # current population (mu, n)
        self.parent_fitness = np.zeros(0)

    # -- propose / update ------------------------------------------------------------------
    def propose(self) -> np.ndarray:
        if self.generation == 0:
            return self.init_std * self.rng.gen.standard_normal((self.mu, self.n_genes))
        parents = individuals(self.parents, self.parent_fitness)
        tb = self.toolbox
        with self.rng.deap():
            if self.strategy == "simple":
                chosen = tb.select(parents, self.mu - self.elite)
                offspring = algorithms.varAnd(chosen, tb, self.cxpb, self.mutpb)
            else:
                offspring = algorithms.varOr(parents, tb, self.lambda_, self.cxpb, self.mutpb)
        return genomes_of(offspring)

    def update(self, genomes: np.ndarray, f: np.ndarray) -> None:
        offspring = individuals(genomes, f)
        self.hof.update(offspring)
        if self.generation == 0:
            survivors = offspring
        else:
            if self.strategy == "mu_plus_lambda":
                pool = individuals(self.parents, self.parent_fitness) + offspring
            else:
                pool = offspring
            if self.strategy == "simple":
                chosen = pool
            else:
                with self.rng.deap():
                    chosen = self.toolbox.select(pool, self.mu - self.elite)
            survivors = list(self.hof.items[: self.elite]) + chosen
        self.parents = genomes_of(survivors)
        self.parent_fitness = values_of(survivors)[:, 0]

    # -- reporting and state ---------------------------------------------------------------
    def own_stats(self) -> dict[str, float]:
        if self.last is None:
            return {}
        return {"diversity": float(self.parents.std(axis=0).mean())}

    def own_state(self) -> dict[str, Any]:
        return {"parents": self.parents.copy(), "parent_fitness": self.parent_fitness.copy()}

    def load_own_state(self, state: dict[str, Any]) -> None:
        self.parents = np.array(state["parents"], dtype=np.float64)
        self.parent_fitness = np.array(state["parent_fitness"], dtype=np.float64)


def _check(strategy, mutation, crossover, pop, lambda_, cxpb, mutpb, sigma, indpb, elite) -> None:
    require(strategy in STRATEGIES, "strategy", strategy, f"choose one of: {STRATEGIES}")
    require(mutation in MUTATIONS, "mutation", mutation, f"choose one of: {MUTATIONS}")
    require(crossover in CROSSOVERS, "crossover", crossover, f"choose one of: {CROSSOVERS}")
    require(int(pop) >= 2, "pop", pop, "must be >= 2")
    lambda_ = int(pop if lambda_ is None else lambda_)
    require(lambda_ >= 1, "lambda_", lambda_, "must be >= 1")
    if strategy == "mu_comma_lambda":
        require(lambda_ >= pop, "lambda_", lambda_, f"must be >= pop ({pop}) for mu,lambda")
    require(0 <= cxpb <= 1 and 0 <= mutpb <= 1, "cxpb/mutpb", (cxpb, mutpb), "in [0, 1]")
    if strategy != "simple":
        require(cxpb + mutpb <= 1, "cxpb+mutpb", cxpb + mutpb, "must be <= 1 for varOr")
    require(sigma > 0, "sigma", sigma, "must be > 0")
    require(0 < float(indpb) <= 1, "indpb", float(indpb), "must be in (0, 1]")
    require(0 <= int(elite) < int(pop), "elite", elite, f"must be in [0, pop={pop})")


def _selection(name: str, settings: dict[str, Any] | None, tournsize: int):
    """The ``select(individuals, k)`` of the scheme ``name``; ``tournsize`` is the
    tournament's size unless ``settings`` give one."""
    settings = dict(settings or {})
    if name == "tournament":
        settings.setdefault("tournsize", tournsize)
        size = settings["tournsize"]
        require(int(size) >= 1, "tournsize", size, "must be >= 1")
        settings["tournsize"] = int(size)
    return make_selection(name, settings)
