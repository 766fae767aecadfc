"""The generation loop of an evolution: one loop, written to a sink.

It is the sample-evaluate-update loop of Hansen's tutorial (N. Hansen, "The CMA Evolution
Strategy: A Tutorial", arXiv:1604.00772) that DEAP runs as ``algorithms.eaGenerateUpdate``
(generate = ask, update = tell) for every engine, plus incremental evolution's stages (see
:mod:`research.evolve.staging`) and a sink that records each generation:

    engine, progress, task <- a fresh or resumed study         (sink.open)
    while the budget lasts and the goal task is unsolved:
        genomes  <- engine.ask()                               (ask: P genomes)
        thetas   <- decode(genomes)                            (the encoding)
        result   <- task.evaluate(net, thetas)                 (the whole population)
        engine.tell(objectives(result, thetas))                (tell: fitness [, -size])
        progress <- evaluations, champion, first solved
        sink.log(metrics)
        if staging moves to another stage: task <- that stage's task
        if sink.end_of_generation(): stop                      (checkpoint / pruned)
    sink.finish()                                              (champion, summary, report)

Sinks (:mod:`research.evolve.sinks`): a study's own parent run with checkpoints and resume
(:func:`run_study`), or a search's trial run with a pruner (:func:`run_in_trial`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from research.evolve.engine import Engine
from research.evolve.finish import Publish
from research.evolve.pool import Evaluator
from research.evolve.progress import (
    Progress,
    done,
    generation_metrics,
    run_champion_test,
    tests_champion,
    update_champion,
)
from research.evolve.runs import check_fault_hook, study_lock
from research.evolve.setup import EvolveSetup
from research.evolve.sinks import ParentSink, Sink, TrialSink
from research.tasks import Task, TaskResult
from research.track import TrackedRun
from research.track.store import study_dir


def evolve(ev: EvolveSetup, sink: Sink) -> Any:
    """Run the loop above, writing to ``sink``; returns what ``sink.finish`` returns."""
    engine = ev.make_engine()
    progress, task = sink.open(engine)
    evaluate = Evaluator(ev)
    try:
        while not done(ev.study, progress):
            result = step(ev, engine, task, progress, evaluate)
            metrics = generation_metrics(engine, result, progress)
            sink.log(metrics, progress.generation)
            best, solved = float(np.max(result.fitness)), bool(result.solved.any())
            if ev.staging.update(progress.stage, progress.generation, best, solved):
                progress.stage_evals.append(progress.evals)
                task = ev.make_task(progress.stage.stage)
                sink.stage_changed(progress)
            if sink.end_of_generation(progress, engine, task, metrics):
                break
    except BaseException as exc:
        evaluate.close(cancel=True)
        sink.interrupted(exc)
        raise
    evaluate.close()
    return sink.finish(engine, progress, evaluate.pool_tags())


def step(
    ev: EvolveSetup, engine: Engine, task: Task, progress: Progress, evaluate: Evaluator
) -> TaskResult:
    """One generation: ask, decode, evaluate, tell; updates ``progress`` (evaluations, the
    champion on the goal task, when it was first solved) and returns the task's result."""
    genomes = engine.ask()
    thetas = ev.decode(genomes)
    result = evaluate(task, progress.stage.stage, thetas)
    engine.tell(ev.objectives(result.fitness, thetas))
    progress.generation += 1
    progress.evals += int(result.evals)
    best = int(np.argmax(result.fitness))
    goal = ev.staging.is_goal(progress.stage)
    if tests_champion(task):  # every stage: staging may advance on solved
        run_champion_test(task, ev.net, thetas, result, best)
    if goal:
        update_champion(progress, genomes, result, best)
    if goal and result.solved.any() and progress.solved_at is None:
        progress.solved_at = progress.evals
    return result


def run_study(ev: EvolveSetup, tracking, command: str, publish: Publish) -> list[str]:
    """The evolution as a study of its own, under the study lock; returns the printed lines."""
    check_fault_hook()
    folder = study_dir(ev.root, ev.name)
    with study_lock(folder, ev.name):  # before the checkpoints and MLflow are touched
        return evolve(ev, ParentSink(ev, tracking, command, folder, publish))


def run_in_trial(
    ev: EvolveSetup, run: TrackedRun, report: Callable[[int, Any], bool] | None = None
) -> dict[str, float]:
    """The evolution inside a search's trial run ``run``; ``report`` may prune it."""
    return evolve(ev, TrialSink(ev, run, report))
