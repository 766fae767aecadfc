"""CMA-ES (DEAP's ``cma.Strategy``) with IPOP restarts (Auger & Hansen 2005).

Sampling: DEAP's ``Strategy.generate`` draws from the global ``numpy.random``; here
:class:`SeededStrategy` draws the same thing from the engine's Generator,
x_k = m + sigma * B D z_k, z_k ~ N(0, I), so runs are reproducible and independent.
The update (evolution paths, rank-1 + rank-mu covariance update, step-size control) is
DEAP's, unchanged.

Restart rules, checked after every update (Hansen 2009, "Benchmarking a BI-population CMA-ES
on the BBOB-2009 function testbed", as in DEAP's BIPOP example); the run restarts when any
holds:

- tol_x:      sigma * max(D) < tol_x * sigma0 (no axis of the search ellipsoid is wider than
  tol_x of the initial step);
- condition:  cond(C) = max(D^2) / min(D^2) > 1e14;
- tol_fun:    the best fitness of each of the last 10 + ceil(30 n / lambda) generations lies
  within tol_fun (TolHistFun: a flat run);
- tol_up_sigma: sigma / sigma0 > 1e20 * max(D) (the step keeps growing: a diverging run);
- stagnation: over a history of the last max(0.2 t, ``stagnation``) generations of this run
  (t of them so far; ``stagnation`` defaults to 120 + ceil(30 n / lambda)), neither the
  median of the per-generation best nor that of the per-generation median fitness is better
  in the most recent 30 % than in the first 30 %.

A restart multiplies lambda by ``ipop`` (2 = IPOP's doubling; mu = lambda / 2 follows),
resets sigma to sigma0 and C to I, and draws a new centroid m ~ N(0, sigma0^2 I) (the first
run starts at m ~ N(0, init_std^2 I), the origin by default). At most ``restarts`` restarts;
after that the last run simply continues. The champion is kept across restarts.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
from deap import cma

from research.evolve.engine import Engine, require
from research.evolve.individuals import individuals

MAX_COND = 1e14
TOL_UP_SIGMA = 1e20
MAX_HISTORY = 20_000


class SeededStrategy(cma.Strategy):
    """``cma.Strategy`` whose samples come from a given numpy Generator."""

    def sample(self, gen: np.random.Generator) -> np.ndarray:
        arz = gen.standard_normal((self.lambda_, self.dim))
        return self.centroid + self.sigma * np.dot(arz, self.BD.T)

    def generate(self, ind_init):  # pragma: no cover - the engine calls sample()
        raise RuntimeError("SeededStrategy: use sample(gen), not the global numpy RNG")


class CMAES(Engine):
    def __init__(
        self,
        n_genes: int,
        rng: np.random.Generator,
        *,
        sigma0: float = 0.5,
        lambda_: int | None = None,
        restarts: int = 9,
        ipop: float = 2.0,
        init_std: float = 0.0,
        tol_x: float = 1e-12,
        tol_fun: float = 1e-12,
        stagnation: int | None = None,
        weights: str = "superlinear",
    ) -> None:
        require(sigma0 > 0, "sigma0", sigma0, "must be > 0")
        require(lambda_ is None or int(lambda_) >= 2, "lambda_", lambda_, "None or >= 2")
        require(int(restarts) >= 0, "restarts", restarts, "must be >= 0")
        require(ipop >= 1, "ipop", ipop, "must be >= 1 (2 doubles lambda on restart)")
        require(init_std >= 0, "init_std", init_std, "must be >= 0")
        require(stagnation is None or int(stagnation) >= 1, "stagnation", stagnation, ">= 1")
        choices = ("superlinear", "linear", "equal")
        require(weights in choices, "weights", weights, f"choose one of: {choices}")
        super().__init__(n_genes, rng)
        self.sigma0, self.max_restarts, self.ipop = float(sigma0), int(restarts), float(ipop)
        self.tol_x, self.tol_fun = float(tol_x), float(tol_fun)
        self.stagnation_setting = None if stagnation is None else int(stagnation)
        self.weights = weights
        default = int(4 + 3 * math.log(self.n_genes))
        self.lambda0 = default if lambda_ is None else int(lambda_)
        self.restart = 0
        self.history: list[tuple[float, float]] = []  # this run's (best, median) per generation
        self.last_reason = ""
        centroid = init_std * self.rng.gen.standard_normal(self.n_genes)
        self.strategy = self._new_strategy(centroid, self.lambda0)

    def _new_strategy(self, centroid: np.ndarray, lambda_: int) -> SeededStrategy:
        return SeededStrategy(centroid, self.sigma0, lambda_=lambda_, weights=self.weights)

    @property
    def flat_window(self) -> int:
        """TolHistFun's window: 10 + ceil(30 n / lambda) generations."""
        return 10 + math.ceil(30 * self.n_genes / self.strategy.lambda_)

    @property
    def stagnation(self) -> int:
        """The shortest history the stagnation rule looks at."""
        if self.stagnation_setting is not None:
            return self.stagnation_setting
        return 120 + math.ceil(30 * self.n_genes / self.strategy.lambda_)

    # -- propose / update ------------------------------------------------------------------
    def propose(self) -> np.ndarray:
        return self.strategy.sample(self.rng.gen)

    def update(self, genomes: np.ndarray, f: np.ndarray) -> None:
        pop = individuals(genomes, f)
        self.hof.update(pop)
        self.strategy.update(pop)
        self.history.append((float(f.max()), float(np.median(f))))
        del self.history[:-MAX_HISTORY]
        reason = self._restart_reason()
        if reason and self.restart < self.max_restarts:
            self._restart(reason)

    def _restart_reason(self) -> str:
        s = self.strategy
        max_d = float(np.max(s.diagD))
        if s.sigma * max_d < self.tol_x * self.sigma0:
            return "tol_x"
        if s.cond > MAX_COND:  # DEAP's cond is max/min eigenvalue of C
            return "condition"
        bests = [b for b, _ in self.history[-self.flat_window :]]
        if len(self.history) >= self.flat_window and max(bests) - min(bests) <= self.tol_fun:
            return "tol_fun"
        if s.sigma / self.sigma0 > TOL_UP_SIGMA * max_d:
            return "tol_up_sigma"
        if self._stagnated():
            return "stagnation"
        return ""

    def _stagnated(self) -> bool:
        t = len(self.history)
        window = max(math.ceil(0.2 * t), self.stagnation)
        if t < window:
            return False
        recent = self.history[-window:]
        k = max(1, math.ceil(0.3 * window))
        for column in (0, 1):  # per-generation best, per-generation median
            old = np.median([h[column] for h in recent[:k]])
            new = np.median([h[column] for h in recent[-k:]])
            if new > old:
                return False
        return True

    def _restart(self, reason: str) -> None:
        lambda_ = int(round(self.strategy.lambda_ * self.ipop))
        centroid = self.sigma0 * self.rng.gen.standard_normal(self.n_genes)
        self.strategy = self._new_strategy(centroid, lambda_)
        self.restart += 1
        self.history = []
        self.last_reason = reason

    # -- reporting and state ---------------------------------------------------------------
    def own_stats(self) -> dict[str, float]:
        return {
            "sigma": float(self.strategy.sigma),
            "restart": float(self.restart),
            "lambda": float(self.strategy.lambda_),
            "cond": float(self.strategy.cond),
        }

    def own_state(self) -> dict[str, Any]:
        return {
            "strategy": copy.deepcopy(vars(self.strategy)),
            "restart": self.restart,
            "history": list(self.history),
            "last_reason": self.last_reason,
        }

    def load_own_state(self, state: dict[str, Any]) -> None:
        strategy = SeededStrategy.__new__(SeededStrategy)
        strategy.__dict__.update(copy.deepcopy(state["strategy"]))
        self.strategy = strategy
        self.restart = int(state["restart"])
        self.history = [tuple(h) for h in state["history"]]
        self.last_reason = state["last_reason"]
