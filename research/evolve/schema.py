"""The ``study:`` group of an evolution (``+study=cmaes``): fields, defaults and ranges, once.

The engine's own ``settings`` and the encoding's ``encoding_settings`` are checked by the
engine and the encoding themselves when the study is set up (their keywords are their schema).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from research import schema as S

#: what an evolution scores its networks on: the task's fitness, then (optionally) their size
OBJECTIVES = ("fitness", "size")
#: what a search can score an evolution on (``study.inner``), the first being the default
METRICS = ("fitness", "evals_to_solve", "evals", "solved")


@dataclass
class EvolveStudy(S.StudyConfig):
    """Neuroevolution with DEAP: an ``algorithm`` (engine) evolves genomes that an ``encoding``
    turns into the weights of the ``model`` network, scored by the ``task``.

    ``objectives``: ``fitness`` (the task's, maximised) and optionally ``size`` (active
    connections, |w| >= ``prune_below``, minimised) for multi-objective algorithms. ``stages``:
    task-parameter overrides evolved in turn before the goal task (see evolve/staging.py).
    """

    kind: str = "evolve"
    algorithm: str = "cmaes"
    settings: dict[str, Any] = field(default_factory=dict)
    encoding: str = "direct"
    encoding_settings: dict[str, Any] = field(default_factory=dict)
    generations: int = 200
    max_evals: int | None = None
    stop_on_solve: bool = True
    objectives: list[str] = field(default_factory=lambda: ["fitness"])
    prune_below: float = 0.0
    stages: list[dict[str, Any]] = field(default_factory=list)
    advance_at: float | None = None
    stage_generations: int | None = None
    force_advance: bool = False
    backtrack: bool = False
    checkpoint_every: int = 1
    processes: int = 1  # spread each generation's evaluation over this many processes
    seed: int | None = None  # of the evolution; defaults to the root seed

    def __post_init__(self) -> None:
        super().__post_init__()
        S.require(self.generations >= 1, "generations", self.generations, "must be >= 1")
        S.positive("max_evals", self.max_evals, allow_none=True)
        S.require(bool(self.objectives), "objectives", [], "give fitness and optionally size")
        for objective in self.objectives:
            S.one_of("objectives", objective, OBJECTIVES)
        S.require(
            self.objectives[0] == "fitness",
            "objectives",
            list(self.objectives),
            "the first objective must be fitness",
        )
        S.require(self.prune_below >= 0, "prune_below", self.prune_below, "must be >= 0")
        S.positive("stage_generations", self.stage_generations, allow_none=True)
        S.positive("checkpoint_every", self.checkpoint_every)
        S.require(1 <= self.processes <= 256, "processes", self.processes, "must be in 1..256")
        S.seed("seed", self.seed, allow_none=True)
        if self.stages:
            S.require(
                self.advance_at is not None or self.stage_generations is not None,
                "stages",
                "[...]",
                "staging needs advance_at and/or stage_generations (with force_advance)",
            )
