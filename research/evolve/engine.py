"""The contract every search engine follows, and the helpers they share.

An engine is an ask/tell optimiser over float64 genomes of length ``n_genes``:

    genomes = engine.ask()          # (P, n_genes); asking twice without telling repeats it
    engine.tell(fitness)            # (P,) single objective, (P, M) multi-objective;
                                    # every column is maximised (negate costs first)

``state_dict`` is a picklable dict of arrays and plain values (never DEAP objects, so a
checkpoint does not depend on ``deap.creator`` classes existing when it is read), including all
RNG states: ``load_state_dict`` on a freshly built engine with the same settings continues
bit-identically. Non-finite fitness values count as the worst possible (-inf).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from research.errors import ConfigError


@runtime_checkable
class Engine(Protocol):
    n_genes: int

    def ask(self) -> np.ndarray: ...

    def tell(self, fitness: np.ndarray) -> None: ...

    def best(self) -> tuple[np.ndarray, np.ndarray]: ...

    def stats(self) -> dict[str, float]: ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict) -> None: ...


def require(ok: bool, name: str, value: Any, allowed: str) -> None:
    """Raise the one-line ConfigError ``name=value is not allowed: allowed``."""
    if not ok:
        raise ConfigError(f"{name}={value!r} is not allowed: {allowed}")


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


def population_stats(genomes: np.ndarray, fitness: np.ndarray) -> dict[str, float]:
    """``fitness/best|mean|std`` over finite fitness values and ``diversity`` = mean over genes
    of the population's per-gene standard deviation."""
    f = np.asarray(fitness, dtype=np.float64).reshape(len(fitness), -1)[:, 0]
    finite = f[np.isfinite(f)]
    out = {
        "fitness/best": float(f.max()) if len(f) else float("nan"),
        "fitness/mean": float(finite.mean()) if len(finite) else float("nan"),
        "fitness/std": float(finite.std()) if len(finite) else float("nan"),
    }
    out["diversity"] = float(np.asarray(genomes).std(axis=0).mean()) if len(genomes) else 0.0
    return out
