"""One engine's randomness: a numpy Generator plus the two global streams DEAP reads.

DEAP's operators draw from Python's global ``random`` (selection, crossover, mutation) and,
in NSGA-III's niching, from numpy's global legacy ``numpy.random``. Two engines in one
process (or a test next to a driver) must not disturb each other, and a restored engine must
continue bit-identically, so each engine owns private copies of both streams, seeded from its
Generator, and :meth:`EngineRNG.deap` swaps them into the globals around a DEAP call:

    save global states -> load ours -> call DEAP -> save ours back -> restore the globals

Everything numpy-side that the engines draw themselves uses ``gen`` (the Generator).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np


class EngineRNG:
    """``gen`` (numpy Generator), ``py`` (Python Random) and ``legacy`` (numpy RandomState)."""

    def __init__(self, gen: np.random.Generator) -> None:
        self.gen = gen
        seeds = gen.integers(0, 2**32, size=2, dtype=np.uint64)
        self.py = random.Random(int(seeds[0]))
        self.legacy = np.random.RandomState(int(seeds[1]))

    @contextmanager
    def deap(self) -> Iterator[None]:
        """Run the body with the global ``random`` / ``numpy.random`` set to this engine's."""
        saved_py, saved_np = random.getstate(), np.random.get_state()  # noqa: NPY002
        random.setstate(self.py.getstate())
        np.random.set_state(self.legacy.get_state())  # noqa: NPY002
        try:
            yield
        finally:
            self.py.setstate(random.getstate())
            self.legacy.set_state(np.random.get_state())  # noqa: NPY002
            random.setstate(saved_py)
            np.random.set_state(saved_np)  # noqa: NPY002

    def state_dict(self) -> dict[str, Any]:
        return {
            "gen": self.gen.bit_generator.state,
            "py": self.py.getstate(),
            "legacy": self.legacy.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.gen.bit_generator.state = state["gen"]
        self.py.setstate(state["py"])
        self.legacy.set_state(state["legacy"])
