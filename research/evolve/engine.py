"""The base every search engine builds on, and the statistics every engine and report shares.

An engine is an ask/tell optimiser over float64 genomes of length ``n_genes``:

    genomes = engine.ask()          # (P, n_genes); asking twice without telling repeats it
    engine.tell(fitness)            # (P,) single objective, (P, M) multi-objective;
                                    # every column is maximised (negate costs first)

:class:`Engine` owns what every engine does the same way: the pending-genome guard, the
generation counter, the last evaluated batch, the champion (:meth:`Engine.best`), the
statistics and the ``state_dict`` of those shared parts. An engine writes only how it
proposes (:meth:`Engine.propose`) and how it updates (:meth:`Engine.update`), plus its own
statistics (:meth:`Engine.own_stats`) and state (:meth:`Engine.own_state`).

``state_dict`` is a picklable dict of arrays and plain values (never DEAP objects, so a
checkpoint does not depend on ``deap.creator`` classes existing when it is read), including all
RNG states: ``load_state_dict`` on a freshly built engine with the same settings continues
bit-identically. Non-finite fitness values count as the worst possible (-inf).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from research.evolve.individuals import hall_of_fame, hof_state, load_hof
from research.evolve.rng import EngineRNG
from research.schema import require

__all__ = ["Engine", "ParetoArchive", "clean_fitness", "population_stats", "require"]


def clean_fitness(fitness: np.ndarray, P: int, multi: bool = False) -> np.ndarray:
    """``fitness`` as float64 (P,) — or (P, M) when ``multi`` — with NaN/inf-valued entries
    mapped to -inf, after checking the shape against the P genomes asked for."""
    f = np.asarray(fitness, dtype=np.float64)
    if multi and f.ndim == 1:
        f = f[:, None]
    expected = "(P, M)" if multi else "(P,)"
    if f.shape[0] != P or f.ndim != (2 if multi else 1):
        raise ValueError(f"tell() expects fitness of shape {expected} with P={P}, got {f.shape}")
    return np.where(np.isfinite(f) | (f == np.inf), f, -np.inf).astype(np.float64)


def population_stats(
    fitness: np.ndarray, genomes: np.ndarray | None = None, *, finite_only: bool = True
) -> dict[str, float]:
    """``fitness/best|mean|std`` of a batch (first column; mean and std over the finite values,
    or over all of them: a task's raw scores, where -inf or NaN must show) and, given the
    genomes, ``diversity`` = mean over genes of the per-gene standard deviation. The one
    statistics function: engines, the evolution driver and the report use it."""
    f = np.asarray(fitness, dtype=np.float64).reshape(len(fitness), -1)[:, 0]
    finite = f[np.isfinite(f)] if finite_only else f
    out = {
        "fitness/best": float(f.max()) if len(f) else float("nan"),
        "fitness/mean": float(finite.mean()) if len(finite) else float("nan"),
        "fitness/std": float(finite.std()) if len(finite) else float("nan"),
    }
    if genomes is not None:
        out["diversity"] = float(np.asarray(genomes).std(axis=0).mean()) if len(genomes) else 0.0
    return out


def _copy(batch: tuple[np.ndarray, ...] | None) -> tuple[np.ndarray, ...] | None:
    return None if batch is None else tuple(np.array(a, copy=True) for a in batch)


class Engine:
    """Ask/tell over float64 genomes; subclasses write :meth:`propose` and :meth:`update`.

    The champion is kept in ``self.hof`` (a DEAP hall of fame; its first item is the best
    genome ever evaluated) unless the engine overrides :meth:`best`."""

    #: tell() takes (P, M) values rather than (P,)
    multi_objective = False
    #: ``stats()`` includes ``fitness/champion``
    reports_champion = True
    #: the hall of fame's key in ``state_dict``
    hof_key = "hof"

    def __init__(self, n_genes: int, rng: np.random.Generator, *, hof_size: int | None = 1):
        """Call after checking the settings: it draws the engine's own random streams."""
        self.n_genes = int(n_genes)
        self.rng = EngineRNG(rng)
        self.generation = 0
        self.pending: np.ndarray | None = None  # asked, not yet told
        self.last: tuple[np.ndarray, np.ndarray] | None = None  # last evaluated batch
        self.hof = hall_of_fame(hof_size)

    # -- what each engine writes -----------------------------------------------------------
    def propose(self) -> np.ndarray:
        """The next generation's genomes (P, n_genes)."""
        raise NotImplementedError

    def update(self, genomes: np.ndarray, fitness: np.ndarray) -> None:
        """Learn from the evaluated ``genomes`` (cleaned ``fitness``)."""
        raise NotImplementedError

    def own_stats(self) -> dict[str, float]:
        return {}

    def own_state(self) -> dict[str, Any]:
        return {}

    def load_own_state(self, state: dict[str, Any]) -> None:
        pass

    # -- ask / tell ------------------------------------------------------------------------
    def ask(self) -> np.ndarray:
        if self.pending is None:
            self.pending = self.propose()
        return self.pending.copy()

    def tell(self, fitness: np.ndarray) -> None:
        if self.pending is None:
            raise RuntimeError("tell() without ask()")
        genomes = self.pending
        f = clean_fitness(fitness, len(genomes), multi=self.multi_objective)
        self.update(genomes, f)
        self.last = (genomes, f)
        self.pending = None
        self.generation += 1

    # -- reporting -------------------------------------------------------------------------
    def best(self) -> tuple[np.ndarray, np.ndarray]:
        """The best genome ever evaluated and its fitness (zeros and -inf before any tell)."""
        if not self.hof.items:
            return np.zeros(self.n_genes), np.array([-np.inf])
        champion = self.hof.items[0]
        return np.array(champion, dtype=np.float64), np.array(champion.fitness.values)

    def champion_value(self) -> float | None:
        return float(self.hof.items[0].fitness.values[0]) if self.hof.items else None

    def stats(self) -> dict[str, float]:
        """The last batch's :func:`population_stats`, the champion's fitness, the engine's own."""
        out = population_stats(self.last[1], self.last[0]) if self.last is not None else {}
        champion = self.champion_value() if self.reports_champion else None
        if champion is not None:
            out["fitness/champion"] = champion
        out.update(self.own_stats())
        return out

    # -- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The shared parts (keys as every engine wrote them before the base existed, so older
        checkpoints load) merged with :meth:`own_state`."""
        return {
            "generation": self.generation,
            "pending": None if self.pending is None else self.pending.copy(),
            "last": _copy(self.last),
            self.hof_key: hof_state(self.hof),
            **self.own_state(),
            "rng": self.rng.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generation = int(state.get("generation", 0))  # ESP keeps it in "counters"
        self.pending = None if state["pending"] is None else np.array(state["pending"])
        self.last = _copy(state["last"])
        if self.hof_key in state:
            load_hof(self.hof, state[self.hof_key])
        self.load_own_state(state)
        self.rng.load_state_dict(state["rng"])


@runtime_checkable
class ParetoArchive(Protocol):
    """A multi-objective engine's all-time non-dominated set: ``front() -> (genomes, values)``."""

    def front(self) -> tuple[np.ndarray, np.ndarray]: ...
