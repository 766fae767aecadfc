"""Multi-objective engines: NSGA-II, NSGA-III and cascading elitism.

``tell`` takes (P, M) values, every column maximised (pass -cost for a cost). Genomes live in
the box [low, up]^n: generation 0 is uniform in the box, offspring come from simulated binary
crossover (``cxSimulatedBinaryBounded``, crowding eta_cx, probability cxpb per pair) and
polynomial mutation (``mutPolynomialBounded``, eta_mut, per-gene probability indpb = 1/n by
default), as in Deb's NSGA-II. mu = lambda = ``pop``; survivors come from parents + offspring:

- ``nsga2``: mates by ``selTournamentDCD`` (dominance, then crowding distance; pop % 4 == 0),
  survivors by ``selNSGA2`` (non-dominated fronts, crowding distance on the last one).
- ``nsga3``: random mates, survivors by ``selNSGA3`` on ``uniform_reference_points(M, ref_p)``
  (Das-Dennis lattice; ref_p defaults to the largest p with C(p+M-1, M-1) <= pop).
- ``cascade``: random mates, survivors by :func:`cascade_select`.

Every evaluated genome goes through a ``ParetoFront`` archive (all-time non-dominated set);
``stats()["hypervolume"]`` is its hypervolume at ``hv_ref`` (a point in the same maximised
space, worse than the front; default: the per-objective worst of generation 0 minus 1, as
DEAP's ``hypervolume`` default, then frozen), ``hypervolume/pop`` the current parents'.
"""

from __future__ import annotations

import math
import random
from types import SimpleNamespace
from typing import Any

import numpy as np
from deap import tools
from deap.benchmarks.tools import hypervolume as deap_hypervolume

from research.evolve.engine import Engine, require
from research.evolve.individuals import MAX_OBJECTIVES, genomes_of, individuals, values_of


def hypervolume(front: np.ndarray, ref) -> float:
    """Volume dominated by ``front`` (N, M), all objectives maximised, and bounded by ``ref``:
    HV = Lebesgue measure of the union of boxes [ref, y] over y in front. Computed by DEAP's
    ``benchmarks.tools.hypervolume`` (moocore underneath), which minimises -wvalues, so both
    are negated on the way in. Points not better than ``ref`` in every objective add nothing."""
    front = np.asarray(front, dtype=np.float64).reshape(-1, len(ref))
    if len(front) == 0:
        return 0.0
    stand_ins = [SimpleNamespace(fitness=SimpleNamespace(wvalues=tuple(y))) for y in front]
    return float(deap_hypervolume(stand_ins, ref=-np.asarray(ref, dtype=np.float64)))


def cascade_select(values: np.ndarray, k: int, fractions) -> np.ndarray:
    """Indices of ``k`` survivors of ``values`` (N, M) by cascading elitism.

    Formulation (after Huizinga, Mouret & Clune 2016): first the best individual of each
    objective is kept (the per-objective elites, E <= M of them). The other k - E survivors
    come from selection events run in sequence, one per objective, each on the previous
    event's winners: S_0 = everyone else, S_m = the top n_m of S_{m-1} by objective m with
    n_m = max(k - E, ceil(f_m |S_{m-1}|)) for m < M and n_M = k - E. Ties keep the earlier
    index (stable sorts), so selection is deterministic.
    """
    values = np.asarray(values, dtype=np.float64)
    N, M = values.shape
    f = np.broadcast_to(np.asarray(fractions, dtype=np.float64), (max(M - 1, 1),))
    elites: list[int] = []
    for m in range(M):
        i = int(np.argmax(values[:, m]))
        if i not in elites and len(elites) < k:
            elites.append(i)
    rest = np.setdiff1d(np.arange(N), elites)  # sorted, i.e. pool order
    need = k - len(elites)
    for m in range(M):
        size = need if m == M - 1 else max(need, math.ceil(f[m] * len(rest)))
        order = np.argsort(-values[rest, m], kind="stable")
        rest = rest[order[:size]]
    return np.concatenate([np.array(elites, dtype=np.int64), rest.astype(np.int64)])


class _MultiObjective(Engine):
    """Shared loop: ask offspring, tell values, keep parents, archive and hypervolume. The
    archive is the base's hall of fame: a ``ParetoFront``."""

    name = ""
    multi_objective = True
    reports_champion = False
    hof_key = "front"

    def __init__(
        self,
        n_genes: int,
        rng: np.random.Generator,
        *,
        pop: int = 100,
        low: float = -2.0,
        up: float = 2.0,
        eta_cx: float = 20.0,
        eta_mut: float = 20.0,
        cxpb: float = 0.9,
        indpb: float | None = None,
        hv_ref=None,
    ) -> None:
        require(int(pop) >= 4, "pop", pop, "must be >= 4")
        require(low < up, "low/up", (low, up), "need low < up")
        require(eta_cx > 0 and eta_mut > 0, "eta_cx/eta_mut", (eta_cx, eta_mut), "must be > 0")
        require(0 <= cxpb <= 1, "cxpb", cxpb, "must be in [0, 1]")
        indpb = 1.0 / n_genes if indpb is None else float(indpb)
        require(0 < indpb <= 1, "indpb", indpb, "must be in (0, 1]")
        super().__init__(n_genes, rng, hof_size=None)  # ParetoFront(similar=numpy.array_equal)
        self.mu = int(pop)
        self.low, self.up = float(low), float(up)
        self.eta_cx, self.eta_mut, self.cxpb, self.indpb = eta_cx, eta_mut, cxpb, indpb
        self.hv_ref = None if hv_ref is None else np.asarray(hv_ref, dtype=np.float64)
        self.n_objectives = 0
        self.parents = np.zeros((0, self.n_genes))
        self.parent_values = np.zeros((0, 0))
        self.hv = 0.0
        self.hv_pop = 0.0

    # -- hooks -----------------------------------------------------------------------------
    def _mates(self, parents: list) -> list:
        """Mating selection (inside the engine's DEAP random context)."""
        return random.sample(parents, len(parents))

    def _survive(self, pool: list, k: int) -> list:
        raise NotImplementedError

    def _parent_individuals(self) -> list:
        return individuals(self.parents, self.parent_values)

    # -- propose / update ------------------------------------------------------------------
    def propose(self) -> np.ndarray:
        if self.generation == 0:
            return self.rng.gen.uniform(self.low, self.up, (self.mu, self.n_genes))
        parents = self._parent_individuals()
        with self.rng.deap():
            offspring = [np.array(o, dtype=np.float64) for o in self._mates(parents)]
            for a, b in zip(offspring[::2], offspring[1::2]):
                if random.random() <= self.cxpb:
                    tools.cxSimulatedBinaryBounded(a, b, self.eta_cx, self.low, self.up)
            for o in offspring:
                tools.mutPolynomialBounded(o, self.eta_mut, self.low, self.up, self.indpb)
        return np.array(offspring, dtype=np.float64)

    def update(self, genomes: np.ndarray, values: np.ndarray) -> None:
        self._check_objectives(values)
        offspring = individuals(genomes, values)
        self.hof.update(offspring)
        pool = offspring if self.generation == 0 else self._parent_individuals() + offspring
        survivors = self._survive(pool, self.mu)
        self.parents = genomes_of(survivors)
        self.parent_values = values_of(survivors)
        self._after_survival(survivors)
        self.hv = hypervolume(values_of(self.hof.items), self.hv_ref)
        self.hv_pop = hypervolume(self.parent_values, self.hv_ref)

    def _check_objectives(self, values: np.ndarray) -> None:
        """The first tell fixes the number of objectives (and the default ``hv_ref``)."""
        M = values.shape[1]
        if self.n_objectives == 0:
            if M > MAX_OBJECTIVES:
                raise ValueError(f"at most {MAX_OBJECTIVES} objectives, got {M}")
            self.n_objectives = M
            if self.hv_ref is None:
                self.hv_ref = values.min(axis=0) - 1.0
            elif self.hv_ref.shape != (M,):
                raise ValueError(
                    f"hv_ref={self.hv_ref.tolist()} needs one value per objective ({M})"
                )
            self._first_tell(M)
        elif self.n_objectives != M:
            raise ValueError(f"expected {self.n_objectives} objectives, got {M}")

    def _first_tell(self, n_objectives: int) -> None:
        """Set-up that needs the number of objectives."""

    def _after_survival(self, survivors: list) -> None:
        """Record per-parent extras that DEAP keeps on fitness objects."""

    # -- reporting and state ---------------------------------------------------------------
    def front(self) -> tuple[np.ndarray, np.ndarray]:
        """Genomes (F, n) and values (F, M) of the all-time non-dominated archive."""
        return genomes_of(self.hof.items), values_of(self.hof.items)

    def best(self) -> tuple[np.ndarray, np.ndarray]:
        """The archived genome best on the first objective (ties: later objectives)."""
        items = self.hof.items
        if not items:
            return np.zeros(self.n_genes), np.full(max(self.n_objectives, 1), -np.inf)
        champion = max(items, key=lambda i: i.fitness.values)
        return np.array(champion, dtype=np.float64), np.array(champion.fitness.values)

    def stats(self) -> dict[str, float]:
        return super().stats() if self.last is not None else {}

    def own_stats(self) -> dict[str, float]:
        return {
            "diversity": float(self.parents.std(axis=0).mean()),
            "hypervolume": self.hv,
            "hypervolume/pop": self.hv_pop,
            "front/size": float(len(self.hof)),
        }

    def own_state(self) -> dict[str, Any]:
        return {
            "n_objectives": self.n_objectives,
            "parents": self.parents.copy(),
            "parent_values": self.parent_values.copy(),
            "hv_ref": None if self.hv_ref is None else self.hv_ref.copy(),
            "hv": (self.hv, self.hv_pop),
            "extra": self._extra_state(),
        }

    def load_own_state(self, state: dict[str, Any]) -> None:
        self.n_objectives = int(state["n_objectives"])
        self.parents = np.array(state["parents"], dtype=np.float64)
        self.parent_values = np.array(state["parent_values"], dtype=np.float64)
        self.hv_ref = None if state["hv_ref"] is None else np.array(state["hv_ref"])
        self.hv, self.hv_pop = state["hv"]
        if self.n_objectives:
            self._first_tell(self.n_objectives)
        self._load_extra(state["extra"])

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra(self, extra: dict[str, Any]) -> None:
        pass


class NSGA2(_MultiObjective):
    name = "nsga2"

    def __init__(self, n_genes: int, rng: np.random.Generator, **settings) -> None:
        super().__init__(n_genes, rng, **settings)
        require(self.mu % 4 == 0, "pop", self.mu, "must be a multiple of 4 for nsga2")
        self.crowding = np.zeros(0)

    def _parent_individuals(self) -> list:
        inds = individuals(self.parents, self.parent_values)
        for ind, d in zip(inds, self.crowding):
            ind.fitness.crowding_dist = float(d)
        return inds

    def _mates(self, parents: list) -> list:
        return tools.selTournamentDCD(parents, len(parents))

    def _survive(self, pool: list, k: int) -> list:
        return tools.selNSGA2(pool, k)

    def _after_survival(self, survivors: list) -> None:
        self.crowding = np.array([s.fitness.crowding_dist for s in survivors], dtype=np.float64)

    def _extra_state(self) -> dict[str, Any]:
        return {"crowding": self.crowding.copy()}

    def _load_extra(self, extra: dict[str, Any]) -> None:
        self.crowding = np.array(extra["crowding"], dtype=np.float64)


class NSGA3(_MultiObjective):
    name = "nsga3"

    def __init__(
        self, n_genes: int, rng: np.random.Generator, *, ref_p: int | None = None, **settings
    ) -> None:
        super().__init__(n_genes, rng, **settings)
        require(ref_p is None or int(ref_p) >= 1, "ref_p", ref_p, "None or >= 1")
        self.ref_p = None if ref_p is None else int(ref_p)
        self.ref_points: np.ndarray | None = None

    def _first_tell(self, n_objectives: int) -> None:
        p = self.ref_p
        if p is None:
            p = 1
            while math.comb(p + 1 + n_objectives - 1, n_objectives - 1) <= self.mu:
                p += 1
        self.ref_points = tools.uniform_reference_points(n_objectives, p)

    def _survive(self, pool: list, k: int) -> list:
        with self.rng.deap():  # selNSGA3's niching shuffles with the global numpy.random
            return tools.selNSGA3(pool, k, self.ref_points)


class Cascade(_MultiObjective):
    name = "cascade"

    def __init__(
        self, n_genes: int, rng: np.random.Generator, *, fractions=0.75, **settings
    ) -> None:
        super().__init__(n_genes, rng, **settings)
        f = np.atleast_1d(np.asarray(fractions, dtype=np.float64))
        require(bool(np.all((f > 0) & (f <= 1))), "fractions", fractions, "each in (0, 1]")
        self.fractions = f

    def _survive(self, pool: list, k: int) -> list:
        values = values_of(pool)
        f = self.fractions
        if len(f) not in (1, max(values.shape[1] - 1, 1)):
            raise ValueError(f"fractions: give 1 or M-1={values.shape[1] - 1} values, got {f}")
        return [pool[i] for i in cascade_select(values, k, f if len(f) > 1 else f[0])]
