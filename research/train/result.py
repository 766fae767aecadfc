"""What a fit returns and reports to, and the seeded random streams it draws from: shared by
the training loop (:mod:`research.train.fit`) and the adversarial one
(:mod:`research.train.adversarial`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

#: statuses of a fit, in the order a researcher reads them
FINISHED, EARLY_STOPPED, STOPPED, DIVERGED = "finished", "early_stopped", "stopped", "diverged"


class Reporter(Protocol):
    """Receives each epoch's metrics; returns True to stop training now."""

    def epoch(self, step: int, metrics: Mapping[str, float]) -> bool: ...


class NullReporter:
    def epoch(self, step: int, metrics: Mapping[str, float]) -> bool:  # noqa: ARG002
        return False


@dataclass(frozen=True)
class FitResult:
    """What a fit produced. ``metrics`` are the final ones (``val/*``, ``test/*`` at the
    returned weights); ``history`` holds one dict per reported epoch."""

    model: Any
    status: str
    reason: str
    epochs: int
    metrics: dict[str, float]
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    seconds: float = 0.0

    @property
    def diverged(self) -> bool:
        return self.status == DIVERGED


#: one random stream per purpose, so that e.g. switching dropout on leaves the initial weights
STREAMS = ("init", "prepare", "shuffle", "noise", "optimiser")


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator for ``name``, derived from ``seed`` with ``SeedSequence`` (spawn key =
    the stream's index, as ``SeedSequence(seed).spawn`` would give)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAMS.index(name),)))


def derived_stream(seed: int, key: int) -> np.random.Generator:
    """The generator of spawn key ``key`` derived from ``seed`` (a loop with streams of its
    own takes keys after :data:`STREAMS`)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))
