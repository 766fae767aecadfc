"""What an evolution carries from generation to generation (checkpointed), and the rules that
update it: evaluations, the champion on the goal task, when it was first solved, when to stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from research.evolve.engine import population_stats
from research.evolve.staging import StageState
from research.tasks.base import ChampionTested


@dataclass
class Progress:
    """Everything that changes from generation to generation (checkpointed)."""

    generation: int = 0
    evals: int = 0
    stage: StageState = field(default_factory=StageState)
    champion: np.ndarray | None = None  # fittest genome on the goal task; once solved, the
    champion_fitness: float = float("-inf")  # fittest of the networks that solved it
    champion_solved: bool = False
    solved_at: int | None = None  # evaluations when the goal task was first solved
    stage_evals: list[int] = field(default_factory=list)  # evals when each stage was left
    parent_run_id: str = ""
    stage_run_id: str = ""


def done(study: Any, p: Progress) -> bool:
    """The budget is spent (generations, evaluations) or the goal task is solved."""
    if p.generation >= study.generations:
        return True
    if study.max_evals is not None and p.evals >= study.max_evals:
        return True
    return study.stop_on_solve and p.solved_at is not None


def planned_generations(study: Any, p: Progress, per_generation: int) -> int:
    """The generation the budget ends at: ``study.generations``, or earlier when
    ``study.max_evals`` runs out first at ``per_generation`` evaluations a generation (solving
    the task may end it sooner still)."""
    total = study.generations
    if study.max_evals is not None and per_generation > 0:
        left = max(0, study.max_evals - p.evals)
        total = min(total, p.generation + math.ceil(left / per_generation))
    return max(total, p.generation)


def evals_shown(study: Any, p: Progress) -> str:
    """``1,230/3,000`` (of ``max_evals``), or ``1,230`` without an evaluation budget."""
    if study.max_evals is None:
        return f"{p.evals:,}"
    return f"{p.evals:,}/{study.max_evals:,}"


def resume_note(name: str, p: Progress, total: int) -> str:
    """What a rerun that resumes says (on stderr), as a search's does."""
    return f"resuming study {name!r} at generation {p.generation + 1}/{total}"


def complete_note(name: str, study: Any, p: Progress) -> str:
    """What a rerun of a finished evolution says: which budget ended it, what extends it."""
    if p.generation >= study.generations:
        spent, knob = f"{p.generation}/{study.generations} generations", "study.generations"
    elif study.max_evals is not None and p.evals >= study.max_evals:
        spent, knob = f"{p.evals:,}/{study.max_evals:,} evaluations", "study.max_evals"
    else:
        spent = f"solved after {p.solved_at:,} evaluations, generation {p.generation}"
        return f"study {name!r} is complete ({spent}); set study.stop_on_solve=false to go on"
    return f"study {name!r} is complete ({spent}); raise {knob} to extend it"


def update_champion(progress: Progress, genomes: np.ndarray, result, best: int) -> None:
    """The champion is the fittest network that solved the task, or, until one has, the
    fittest seen (with damping fitness the fittest need not pass the long tests)."""
    solvers = np.flatnonzero(result.solved)
    if solvers.size:
        k = int(solvers[np.argmax(result.fitness[solvers])])
        if progress.champion_solved and result.fitness[k] <= progress.champion_fitness:
            return
        progress.champion_solved = True
    elif not progress.champion_solved and result.fitness[best] > progress.champion_fitness:
        k = best
    else:
        return
    progress.champion = np.array(genomes[k], copy=True)
    progress.champion_fitness = float(result.fitness[k])


def tests_champion(task) -> bool:
    """The task gives the generation's fittest network long tests of its own."""
    return isinstance(task, ChampionTested) and bool(task.tests_champion)


def run_champion_test(task: ChampionTested, net, thetas: np.ndarray, result, index: int) -> None:
    """The literature's protocol: only the generation's fittest network takes the task's
    long tests (not counted as evaluations); its outcome goes into ``result`` in place."""
    long_steps, general, solved = task.test_champion(net, thetas[index])
    result.info["long_steps"][index] = long_steps
    result.info["generalisation"][index] = general
    result.solved[index] = solved


def generation_metrics(engine, result, progress: Progress) -> dict[str, float]:
    """A generation's metrics: the task's fitness statistics, evaluations, stage, solvers,
    what the best network achieves, then the engine's own statistics."""
    metrics = population_stats(result.fitness, finite_only=False)  # non-finite scores show
    metrics.update(
        evals=float(progress.evals),
        stage=float(progress.stage.stage),
        solved=float(result.solved.sum()),
    )
    for key in ("accuracy", "generalisation"):  # what the best host/controller achieves
        if key in result.info:
            metrics[f"{key}/best"] = float(np.max(result.info[key]))
    for key, value in engine.stats().items():
        metrics.setdefault(key, float(value))
    return metrics
