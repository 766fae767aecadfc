"""Staged (incremental) evolution: easier versions of the task first, then the goal task.

``stages`` is a list of task-parameter overrides (e.g. a longer, heavier short pole); the goal
task — the task config itself — comes after them. The population advances when the best
fitness of the current stage reaches ``advance_at`` (or the stage's task is solved), or when
``stage_generations`` have passed without it if ``force_advance``. With ``backtrack``, a
stage that stalls for ``stage_generations`` goes back one stage to consolidate, then tries
again. The rule is a pure function of the history, so a resumed study stages identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StageState:
    stage: int = 0  # index into stages + [goal]
    since: int = 0  # generations spent in the current stage
    best: float = float("-inf")  # best fitness reached in the current stage
    history: list[tuple[int, int]] = field(default_factory=list)  # (generation, new stage)


@dataclass(frozen=True)
class Staging:
    stages: tuple[dict[str, Any], ...]
    advance_at: float | None
    stage_generations: int | None
    backtrack: bool = False
    force_advance: bool = False

    @property
    def n_stages(self) -> int:
        return len(self.stages) + 1

    def task_params(self, base: dict[str, Any], stage: int) -> dict[str, Any]:
        """The task's parameters at ``stage`` (the last stage is the goal: ``base`` itself)."""
        if stage >= len(self.stages):
            return dict(base)
        return {**base, **self.stages[stage]}

    def is_goal(self, state: StageState) -> bool:
        return state.stage == self.n_stages - 1

    def update(self, state: StageState, generation: int, best: float, solved: bool) -> bool:
        """Record a generation's best fitness; move to another stage if the rule says so.
        Returns True when the stage changed."""
        state.since += 1
        state.best = max(state.best, best)
        if self.is_goal(state):
            return False
        reached = solved or (self.advance_at is not None and state.best >= self.advance_at)
        capped = self.stage_generations is not None and state.since >= self.stage_generations
        if reached or (capped and self.force_advance):
            return self._move(state, generation, state.stage + 1)
        if capped and self.backtrack and state.stage > 0:
            return self._move(state, generation, state.stage - 1)
        return False

    @staticmethod
    def _move(state: StageState, generation: int, stage: int) -> bool:
        state.stage, state.since, state.best = stage, 0, float("-inf")
        state.history.append((generation, stage))
        return True
