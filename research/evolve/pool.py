"""The task's scores of a population: in this process, or in a pool of processes.

With ``study.processes`` > 1 a generation is split into contiguous chunks scored by pool
processes (spawned, BLAS pinned as in this process). Evaluation is per individual and
batch-invariant, so the result is bit-identical either way.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from research import threads
from research.evolve.setup import EvolveSetup
from research.nn.build import MODELS
from research.tasks import Task, TaskResult, make_task
from research.track import tags as T

_WORKER: dict[str, Any] = {}


def _init_worker(model_cfg, n_inputs: int, n_outputs: int, blas_threads=None, report=None) -> None:
    """A pool process builds its own template network once (networks hold functions that do
    not pickle); tasks are rebuilt from their parameters when a stage changes them. It pins
    BLAS as the main process did and reports (pid, threads in effect) on ``report``."""
    threads.apply(blas_threads)
    if report is not None:
        report.put((os.getpid(), threads.in_effect()))
    _WORKER["net"] = MODELS[model_cfg.name](
        model_cfg, n_inputs, n_outputs, np.random.default_rng(0)
    )
    _WORKER["tasks"] = {}


def _evaluate_chunk(task_name: str, params: dict, thetas: np.ndarray) -> TaskResult:
    key = json.dumps(params, sort_keys=True, default=str)
    if key not in _WORKER["tasks"]:
        _WORKER["tasks"][key] = make_task(task_name, **params)
    return _WORKER["tasks"][key].evaluate(_WORKER["net"], thetas)


def _concatenate(parts: list[TaskResult]) -> TaskResult:
    info = {
        key: np.concatenate([np.atleast_1d(p.info[key]) for p in parts]) for key in parts[0].info
    }
    return TaskResult(
        np.concatenate([p.fitness for p in parts]),
        int(sum(p.evals for p in parts)),
        np.concatenate([p.solved for p in parts]),
        info,
    )


class Evaluator:
    """``evaluate(task, stage, thetas) -> TaskResult``: one call here, or chunks in a pool."""

    def __init__(self, ev: EvolveSetup) -> None:
        self.ev = ev
        self.pool: ProcessPoolExecutor | None = None
        self.threads: dict[int, int | None] = {}  # pool process -> its BLAS threads
        if ev.study.processes > 1:
            task = ev.make_task(0)
            ctx = mp.get_context("spawn")
            self._reports = ctx.SimpleQueue()
            pinned = threads.applied()  # as this process: pinned by the command's setting
            self.pool = ProcessPoolExecutor(
                ev.study.processes,
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(ev.model_cfg, task.n_inputs, task.n_outputs, pinned, self._reports),
            )

    def __call__(self, task: Task, stage: int, thetas: np.ndarray) -> TaskResult:
        if self.pool is None or len(thetas) < 2:
            return task.evaluate(self.ev.net, thetas)
        params = self.ev.staging.task_params(self.ev.task_params, stage)
        chunks = [c for c in np.array_split(thetas, self.ev.study.processes) if len(c)]
        n = len(chunks)
        return _concatenate(
            list(self.pool.map(_evaluate_chunk, [self.ev.task_name] * n, [params] * n, chunks))
        )

    def pool_tags(self) -> dict[str, str]:
        """``blas.threads.pool``: the BLAS threads each pool process reported (all of them
        once the pool is closed: a process slow to start may have run no chunk yet)."""
        if self.pool is None:
            return {}
        while not self._reports.empty():
            pid, count = self._reports.get()
            self.threads[pid] = count
        return {T.BLAS_POOL: ",".join(str(n) for n in self.threads.values())}

    def close(self, cancel: bool = False) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=cancel)
