"""Genetic algorithm on DEAP's operators, driven one generation at a time (ask/tell).

Generation 0 asks for ``pop`` random genomes, N(0, init_std^2) per gene. Afterwards, with
mu = ``pop`` parents and E = ``elite`` hall-of-fame members:

- ``mu_plus_lambda``:  ask ``lambda_`` offspring by DEAP's ``varOr`` (each child from
  crossover with prob cxpb, mutation with prob mutpb, else a copy); survivors =
  E elites + tournament(parents + offspring, mu - E).
- ``mu_comma_lambda``: as above, survivors = E elites + tournament(offspring, mu - E).
- ``simple`` (eaSimple): ask mu - E offspring = ``varAnd``(tournament(parents, mu - E))
  (pairwise crossover with prob cxpb, then mutation with prob mutpb);
  survivors = E elites + offspring.

The elites are the best genomes ever evaluated (a ``HallOfFame`` compared with
``numpy.array_equal``), so the best fitness never decreases. Mutation adds, to each gene with
probability indpb, Gaussian noise (``mutGaussian``, N(0, sigma^2)) or Cauchy noise (scale
sigma, drawn from the engine's Generator); crossover is BLX-alpha (``cxBlend``) or copying
two-point.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from deap import algorithms, base, tools

from research.evolve.engine import clean_fitness, population_stats, require
from research.evolve.individuals import (
    genomes_of,
    hall_of_fame,
    hof_state,
    individuals,
    load_hof,
    values_of,
)
from research.evolve.operators import cx_two_point, mut_cauchy
from research.evolve.rng import EngineRNG

STRATEGIES = ("mu_plus_lambda", "mu_comma_lambda", "simple")
MUTATIONS = ("gaussian", "cauchy")
CROSSOVERS = ("blend", "two_point")


class GA:
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
        tournsize: int = 3,
        elite: int = 1,
        init_std: float = 1.0,
    ) -> None:
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
        indpb = float(indpb)
        require(0 < indpb <= 1, "indpb", indpb, "must be in (0, 1]")
        require(int(tournsize) >= 1, "tournsize", tournsize, "must be >= 1")
        require(0 <= int(elite) < int(pop), "elite", elite, f"must be in [0, pop={pop})")
        require(init_std >= 0, "init_std", init_std, "must be >= 0")
        self.n_genes = int(n_genes)
        self.mu, self.lambda_, self.strategy = int(pop), lambda_, strategy
        self.cxpb, self.mutpb, self.elite = float(cxpb), float(mutpb), int(elite)
        self.init_std = float(init_std)
        self.rng = EngineRNG(rng)
        tb = base.Toolbox()
        if crossover == "blend":
            tb.register("mate", tools.cxBlend, alpha=float(alpha))
        else:
            tb.register("mate", cx_two_point)
        if mutation == "gaussian":
            tb.register("mutate", tools.mutGaussian, mu=0.0, sigma=float(sigma), indpb=indpb)
        else:
            tb.register("mutate", partial(mut_cauchy, gen=self.rng.gen), scale=sigma, indpb=indpb)
        tb.register("select", tools.selTournament, tournsize=int(tournsize))
        self.toolbox = tb
        self.hof = hall_of_fame(max(1, self.elite))
        self.generation = 0
        self.parents = np.zeros((0, self.n_genes))  # current population (mu, n)
        self.parent_fitness = np.zeros(0)
        self.pending: np.ndarray | None = None  # asked, not yet told
        self.last: tuple[np.ndarray, np.ndarray] | None = None  # last evaluated batch

    # -- ask / tell ------------------------------------------------------------------------
    def ask(self) -> np.ndarray:
        if self.pending is None:
            self.pending = self._propose()
        return self.pending.copy()

    def _propose(self) -> np.ndarray:
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

    def tell(self, fitness: np.ndarray) -> None:
        if self.pending is None:
            raise RuntimeError("tell() without ask()")
        genomes = self.pending
        f = clean_fitness(fitness, len(genomes))
        offspring = individuals(genomes, f)
        self.hof.update(offspring)
        self.last = (genomes, f)
        if self.generation == 0:
            survivors = offspring
        else:
            pool = {
                "mu_plus_lambda": individuals(self.parents, self.parent_fitness) + offspring,
                "mu_comma_lambda": offspring,
                "simple": offspring,
            }[self.strategy]
            if self.strategy == "simple":
                chosen = pool
            else:
                with self.rng.deap():
                    chosen = self.toolbox.select(pool, self.mu - self.elite)
            survivors = list(self.hof.items[: self.elite]) + chosen
        self.parents = genomes_of(survivors)
        self.parent_fitness = values_of(survivors)[:, 0]
        self.pending = None
        self.generation += 1

    # -- reporting -------------------------------------------------------------------------
    def best(self) -> tuple[np.ndarray, np.ndarray]:
        """The best genome ever evaluated and its fitness (zeros and -inf before any tell)."""
        if not self.hof.items:
            return np.zeros(self.n_genes), np.array([-np.inf])
        champion = self.hof.items[0]
        return np.array(champion, dtype=np.float64), np.array(champion.fitness.values)

    def stats(self) -> dict[str, float]:
        if self.last is None:
            return {}
        out = population_stats(*self.last)
        out["fitness/champion"] = float(self.hof.items[0].fitness.values[0])
        out["diversity"] = float(self.parents.std(axis=0).mean())
        return out

    # -- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "parents": self.parents.copy(),
            "parent_fitness": self.parent_fitness.copy(),
            "pending": None if self.pending is None else self.pending.copy(),
            "last": None if self.last is None else tuple(a.copy() for a in self.last),
            "hof": hof_state(self.hof),
            "rng": self.rng.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generation = int(state["generation"])
        self.parents = np.array(state["parents"], dtype=np.float64)
        self.parent_fitness = np.array(state["parent_fitness"], dtype=np.float64)
        self.pending = None if state["pending"] is None else np.array(state["pending"])
        self.last = None if state["last"] is None else tuple(np.array(a) for a in state["last"])
        load_hof(self.hof, state["hof"])
        self.rng.load_state_dict(state["rng"])
