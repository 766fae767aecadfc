"""The ``evolve`` job: ``python -m research.run +study=evolve task=pole_double``.

One generation: the engine proposes genomes, the encoding turns them into weights of the
template network, the task scores the whole population in one call, the engine is told. Each
generation is logged to the study's parent run (``fitness/best|mean|std``, ``evals``,
``stage``, ``hypervolume``, the engine's own statistics) and checkpointed atomically; a rerun
of the command resumes from the newest checkpoint that verifies and ends bit-identical to an
uninterrupted run. Staging runs one child run per stage.

One process at a time: the study holds ``studies/<name>/evolve.lock`` (an exclusive, non-blocking
``flock``, released by the kernel even when the holder is SIGKILLed) for the whole command; a
second command on the same study says who holds it, in one line, and exits before touching
MLflow or the checkpoints. Under that lock no other process can own a RUNNING run of the
study, so a rerun cleans up what a dead one left: without a checkpoint it reuses the study's
unfinished parent run of the same config (found by its tags) instead of making a second one,
it reuses the one run of each stage (duplicates are ended KILLED and deleted), and ends every
other RUNNING run of the study KILLED with the reason.

Test hook (fault injection): ``RESEARCH_FAULT=evolve:<point>[:N]`` SIGKILLs this process the
N-th time (default: the first) it passes ``<point>``, one of ``after_parent`` (parent and
stage run exist, no generation run yet), ``after_stage_change`` (the next stage's run exists,
that generation is not checkpointed), ``before_checkpoint`` (the generation's metrics are
flushed, its checkpoint not written) and ``after_checkpoint``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import multiprocessing as mp
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf
from tqdm import tqdm

from research import threads
from research.config import flatten, to_yaml
from research.errors import ConfigError, ResearchError
from research.evolve import checkpoint
from research.evolve.staging import StageState, Staging
from research.nn.build import MODELS
from research.search.storage import study_dir
from research.track import TrackedRun, Tracker
from research.track.lifecycle import shielded
from research.track.provenance import provenance_tags

log = logging.getLogger(__name__)

#: study settings a rerun may change without starting a new evolution
RESUMABLE = ("generations", "max_evals", "stop_on_solve", "report", "processes", "checkpoint_every")
SIGNATURE_TAG = "evolve.signature"  # a hash of what may not change: which parent to reuse
PARENT_TAG = "mlflow.parentRunId"
REASON_TAG = "status.reason"
LOCK = "evolve.lock"
FAULT_ENV = "RESEARCH_FAULT"
FAULT_POINTS = ("after_parent", "after_stage_change", "before_checkpoint", "after_checkpoint")


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


@dataclass
class EvolveSetup:
    """The resolved study: built (and so validated) before any run exists."""

    name: str
    study: Any
    task_name: str
    task_params: dict[str, Any]
    staging: Staging
    net: Any
    encoding: Any
    seed: int
    root: Path
    signature: str

    def make_task(self, stage: int):
        from research.tasks import make_task

        return make_task(self.task_name, **self.staging.task_params(self.task_params, stage))

    def make_engine(self):
        from research.evolve import make_engine, neuron_groups

        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0xE70]))
        settings = dict(_plain(self.study.settings))
        if self.study.algorithm == "esp":  # one subpopulation per hidden neuron of the net
            if self.study.encoding != "direct":
                raise ConfigError("algorithm=esp evolves neurons: it needs study.encoding=direct")
            settings["groups"] = neuron_groups(self.net)
        return make_engine(self.study.algorithm, self.encoding.n_genes, rng, **settings)


def _plain(node) -> Any:
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node


def setup(cfg, groups, args, root: Path) -> EvolveSetup:
    """Build task(s), network, encoding and engine once: every bad value is a ConfigError."""
    from research.evolve import make_encoding

    study = groups["study"]
    if cfg.get("task") is None:
        raise ConfigError("an evolve study needs a task: add task=pole_single (or xor, ...)")
    task_cfg = dict(_plain(cfg.task))
    task_name = task_cfg.pop("name")
    name = study.name or "evolve"
    staging = Staging(
        tuple(dict(_plain(s)) for s in study.stages),
        study.advance_at,
        study.stage_generations,
        study.backtrack,
        study.force_advance,
    )
    seed = int(cfg.seed if study.seed is None else study.seed)
    tasks = []
    for stage in range(staging.n_stages):
        from research.tasks import make_task

        tasks.append(make_task(task_name, **staging.task_params(task_cfg, stage)))
    model = groups["model"]
    if model.name not in ("mlp", "perceptron", "elman"):
        raise ConfigError(f"model={model.name!r} cannot be evolved: use mlp or elman")
    if getattr(model, "dropout", 0) or getattr(model, "batch_norm", False):
        raise ConfigError("an evolved mlp needs model.dropout=0 and model.batch_norm=false")
    build = MODELS[model.name]
    net = build(model, tasks[0].n_inputs, tasks[0].n_outputs, np.random.default_rng(seed))
    encoding = make_encoding(study.encoding, net, **dict(_plain(study.encoding_settings)))
    # what may not change when the study is resumed; budgets and how it runs may
    fixed = {k: v for k, v in _plain(cfg.study).items() if k not in RESUMABLE}
    signature = json.dumps(
        {"study": fixed, "task": _plain(cfg.task), "model": _plain(cfg.model)},
        sort_keys=True,
        default=str,
    )
    ev = EvolveSetup(
        name, study, task_name, task_cfg, staging, net, encoding, seed, root, signature
    )
    ev.make_engine()  # unknown algorithm or setting: fail now
    if study.processes > 1 and hasattr(tasks[0], "state_dict"):
        raise ConfigError(
            f"study.processes={study.processes} is not allowed with task {task_name!r}: it "
            "keeps state between generations (its opponents); use study.processes=1"
        )
    return ev


# ------------------------------------------------------------------------------ the loop
def objectives(ev: EvolveSetup, fitness: np.ndarray, thetas: np.ndarray) -> np.ndarray:
    """(P,) fitness, or (P, M) columns all to maximise: fitness, -active connections."""
    if len(ev.study.objectives) == 1:
        return fitness
    size = np.count_nonzero(thetas, axis=1).astype(np.float64)
    return np.column_stack([fitness, -size])


def decode(ev: EvolveSetup, genomes: np.ndarray) -> np.ndarray:
    thetas = np.asarray(ev.encoding.decode(genomes), dtype=ev.net.dtype)
    if ev.study.prune_below > 0:
        thetas = np.where(np.abs(thetas) < ev.study.prune_below, 0, thetas)
    return thetas


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


def _evaluate_chunk(task_name: str, params: dict, thetas: np.ndarray):
    from research.tasks import make_task

    key = json.dumps(params, sort_keys=True, default=str)
    if key not in _WORKER["tasks"]:
        _WORKER["tasks"][key] = make_task(task_name, **params)
    return _WORKER["tasks"][key].evaluate(_WORKER["net"], thetas)


class Evaluator:
    """The task's scores of a population: one call here, or with ``processes`` > 1 contiguous
    chunks in a process pool. Evaluation is per individual and batch-invariant, so the result
    is bit-identical either way."""

    def __init__(self, ev: EvolveSetup, model_cfg) -> None:
        self.ev = ev
        self.pool = None
        self.threads: dict[int, int | None] = {}  # pool process -> its BLAS threads
        if ev.study.processes > 1:
            from concurrent.futures import ProcessPoolExecutor

            task = ev.make_task(0)
            ctx = mp.get_context("spawn")
            self._reports = ctx.SimpleQueue()
            pinned = threads.applied()  # as this process: pinned by the command's setting
            self.pool = ProcessPoolExecutor(
                ev.study.processes,
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(model_cfg, task.n_inputs, task.n_outputs, pinned, self._reports),
            )

    def __call__(self, task, stage: int, thetas: np.ndarray):
        if self.pool is None or len(thetas) < 2:
            return task.evaluate(self.ev.net, thetas)
        from research.tasks.base import TaskResult

        params = self.ev.staging.task_params(self.ev.task_params, stage)
        chunks = [c for c in np.array_split(thetas, self.ev.study.processes) if len(c)]
        n = len(chunks)
        parts = list(self.pool.map(_evaluate_chunk, [self.ev.task_name] * n, [params] * n, chunks))
        info = {
            key: np.concatenate([np.atleast_1d(p.info[key]) for p in parts])
            for key in parts[0].info
        }
        return TaskResult(
            np.concatenate([p.fitness for p in parts]),
            int(sum(p.evals for p in parts)),
            np.concatenate([p.solved for p in parts]),
            info,
        )

    def pool_tags(self) -> dict[str, str]:
        """``blas.threads.pool``: the BLAS threads each pool process reported (all of them
        once the pool is closed: a process slow to start may have run no chunk yet)."""
        if self.pool is None:
            return {}
        while not self._reports.empty():
            pid, count = self._reports.get()
            self.threads[pid] = count
        return {"blas.threads.pool": ",".join(str(n) for n in self.threads.values())}

    def close(self, cancel: bool = False) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=cancel)


def run_evolve(cfg, groups, args, command: str):
    from research.track import resolve_store

    tracking = groups["tracking"]
    store = resolve_store(tracking.kind, tracking.uri, tracking.root)
    ev = setup(cfg, groups, args, store.root)
    _check_fault_hook()
    folder = study_dir(ev.root, ev.name)
    with study_lock(folder, ev.name):  # before the checkpoints and MLflow are touched
        return _run_locked(ev, cfg, groups, command, tracking, folder)


def _run_locked(ev: EvolveSetup, cfg, groups, command: str, tracking, folder: Path):
    ckdir = folder / "checkpoints"
    engine = ev.make_engine()
    restored = checkpoint.load_latest(ckdir)  # an unauthenticated file is refused, unread
    if restored is not None and restored[1]["signature"] != ev.signature:
        raise ConfigError(
            f"study {ev.name!r} exists with another config (studies/{ev.name}/); set "
            "another study.name to start a new evolution"
        )
    tracker = Tracker.from_config(tracking)
    if restored is not None:
        _, state = restored
        engine.load_state_dict(state["engine"])
        progress: Progress = state["progress"]
        parent = _reattach(tracker, progress.parent_run_id)
    else:
        progress = Progress()
        # a process killed before its first checkpoint left this config's parent: reuse it
        parent = _reuse_parent(ev, tracker, cfg) or _create_parent(ev, tracker, cfg, command)
        progress.parent_run_id = parent.run_id
    _close_orphans(ev, tracker, progress)
    stage_run = _stage_run(ev, tracker, progress)
    _fault("after_parent")
    task = ev.make_task(progress.stage.stage)
    if restored is not None and "task" in restored[1]:  # a stateful task (coevolution)
        task.load_state_dict(restored[1]["task"])
    bar = tqdm(
        total=ev.study.generations,
        initial=progress.generation,
        desc=ev.name,
        unit="gen",
        disable=None,
        file=sys.stderr,
    )
    evaluate = Evaluator(ev, groups["model"])
    try:
        while not _done(ev, progress):
            result = step(ev, engine, task, progress, evaluate)
            best = int(np.argmax(result.fitness))
            metrics = _generation_metrics(ev, engine, result, progress)
            parent.log_metrics(metrics, progress.generation)  # steps already logged are skipped
            if stage_run is not None:
                stage_run.log_metrics(metrics, progress.generation)
            changed = ev.staging.update(
                progress.stage,
                progress.generation,
                float(result.fitness[best]),
                bool(result.solved.any()),
            )
            if changed:
                progress.stage_evals.append(progress.evals)
                task = ev.make_task(progress.stage.stage)
                if stage_run is not None:
                    stage_run.end()
                stage_run = _stage_run(ev, tracker, progress)
                _fault("after_stage_change")
            if progress.generation % ev.study.checkpoint_every == 0 or _done(ev, progress):
                parent.flush()
                if stage_run is not None:
                    stage_run.flush()
                _fault("before_checkpoint")
                state = {"signature": ev.signature, "engine": engine.state_dict()}
                state["progress"] = progress
                if hasattr(task, "state_dict"):  # competitive coevolution's parasites
                    state["task"] = task.state_dict()
                checkpoint.save(ckdir, progress.generation, state)
                _fault("after_checkpoint")
            bar.update(1)
            bar.set_postfix(best=f"{metrics['fitness/best']:.4g}", evals=progress.evals)
    except BaseException as exc:
        bar.close()
        evaluate.close(cancel=True)
        if stage_run is not None:
            stage_run.end("KILLED", f"interrupted ({type(exc).__name__}); rerun to resume")
        parent.end("KILLED", f"interrupted ({type(exc).__name__}); rerun to resume")
        raise
    bar.close()
    evaluate.close()
    parent.set_tags(evaluate.pool_tags())
    if stage_run is not None:
        stage_run.end()
    lines = _finish(ev, tracker, parent, progress, engine, folder)
    if ev.study.report:
        from research.report.build import make_report

        html_path, _ = make_report([ev.name], ev.root, tracker.store)
        parent.log_artifact(html_path)
        parent.set_tags({"report": str(html_path)})
        lines.insert(-1, f"report: {html_path}")
    parent.end()
    return lines


def step(ev: EvolveSetup, engine, task, progress: Progress, evaluate):
    """One generation: ask, decode, evaluate, tell; updates ``progress`` (evaluations, the
    champion on the goal task, when it was first solved) and returns the task's result."""
    genomes = engine.ask()
    thetas = decode(ev, genomes)
    result = evaluate(task, progress.stage.stage, thetas)
    engine.tell(objectives(ev, result.fitness, thetas))
    progress.generation += 1
    progress.evals += int(result.evals)
    best = int(np.argmax(result.fitness))
    goal = ev.staging.is_goal(progress.stage)
    if getattr(task, "tests_champion", False):  # every stage: staging may advance on solved
        run_champion_test(task, ev.net, thetas, result, best)
    if goal:
        _update_champion(progress, genomes, result, best)
    if goal and result.solved.any() and progress.solved_at is None:
        progress.solved_at = progress.evals
    return result


def _update_champion(progress: Progress, genomes: np.ndarray, result, best: int) -> None:
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


def run_champion_test(task, net, thetas: np.ndarray, result, index: int) -> None:
    """The literature's protocol: only the generation's fittest network takes the task's
    long tests (not counted as evaluations); its outcome goes into ``result`` in place."""
    long_steps, general, solved = task.test_champion(net, thetas[index])
    result.info["long_steps"][index] = long_steps
    result.info["generalisation"][index] = general
    result.solved[index] = solved


def evolve_in_run(cfg, groups, run: TrackedRun, report=None) -> dict[str, float]:
    """An evolution inside an existing run (a trial of a Bayesian search over an evolve study's
    settings): per-generation metrics go to ``run``; ``report(generation, metrics)`` may
    answer True to stop (pruning). No checkpoints: a crashed trial is retried from scratch.
    Returns the final metrics: ``fitness`` (champion), ``evals``, ``solved`` (0/1) and
    ``evals_to_solve`` (evaluations used when unsolved: a lower bound)."""
    ev = setup(cfg, groups, [], Path("."))
    engine = ev.make_engine()
    progress = Progress()
    task = ev.make_task(0)
    evaluate = Evaluator(ev, groups["model"])
    try:
        while not _done(ev, progress):
            result = step(ev, engine, task, progress, evaluate)
            metrics = _generation_metrics(ev, engine, result, progress)
            run.log_metrics(metrics, progress.generation)
            best = float(np.max(result.fitness))
            if ev.staging.update(
                progress.stage, progress.generation, best, bool(result.solved.any())
            ):
                task = ev.make_task(progress.stage.stage)
            if report is not None and report(progress.generation, metrics):
                break
    finally:
        evaluate.close()
    run.set_tags(evaluate.pool_tags(), buffered=True)
    return {
        "fitness": progress.champion_fitness,
        "evals": float(progress.evals),
        "solved": float(progress.solved_at is not None),
        "evals_to_solve": float(progress.solved_at or progress.evals),
    }


def _done(ev: EvolveSetup, p: Progress) -> bool:
    if p.generation >= ev.study.generations:
        return True
    if ev.study.max_evals is not None and p.evals >= ev.study.max_evals:
        return True
    return ev.study.stop_on_solve and p.solved_at is not None


def _generation_metrics(ev, engine, result, progress: Progress) -> dict[str, float]:
    f = np.asarray(result.fitness, dtype=np.float64)
    metrics = {
        "fitness/best": float(f.max()),
        "fitness/mean": float(f.mean()),
        "fitness/std": float(f.std()),
        "evals": float(progress.evals),
        "stage": float(progress.stage.stage),
        "solved": float(result.solved.sum()),
    }
    for key in ("accuracy", "generalisation"):  # what the best host/controller achieves
        if key in result.info:
            metrics[f"{key}/best"] = float(np.max(result.info[key]))
    for key, value in engine.stats().items():
        metrics.setdefault(key, float(value))
    return metrics


def _create_parent(ev: EvolveSetup, tracker: Tracker, cfg, command: str) -> TrackedRun:
    tags = {
        "study.kind": "evolve",
        "study.name": ev.name,
        "algorithm": ev.study.algorithm,
        "encoding": ev.study.encoding,
        "task": ev.task_name,
        "seed": ev.seed,
        SIGNATURE_TAG: _signature_hash(ev),
        **provenance_tags(ev.root, command),
    }
    parent = tracker.start_run(ev.name, ev.name, tags=tags)
    parent.log_params(_parent_params(ev, cfg))
    parent.log_text(to_yaml(cfg), "config.yaml")
    return parent


def _parent_params(ev: EvolveSetup, cfg) -> dict[str, Any]:
    params = {
        k: v for k, v in flatten(cfg).items() if k.split(".")[0] in ("study", "task", "model")
    }
    params["seed"] = ev.seed
    params["n_genes"] = ev.encoding.n_genes
    return params


# ------------------------------------------------------------- one process, no orphan runs
@contextmanager
def study_lock(folder: Path, name: str) -> Iterator[None]:
    """Hold ``<folder>/evolve.lock`` (exclusive, non-blocking ``flock``) for the block, with
    this process's pid, host and start time written in it; a held lock is one line naming the
    holder. The kernel releases it when the holder dies, even by SIGKILL."""
    path = folder / LOCK
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ResearchError(f"cannot open the study lock {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ResearchError(_held_by(path, name)) from None
        since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": since}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _held_by(path: Path, name: str) -> str:
    try:
        holder = json.loads(path.read_text())
        who = f"in process {int(holder['pid'])} on host {holder['host']} since {holder['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        who = "in another process (it is starting)"
    return (
        f"evolution study {name!r} is running {who}; wait for it or stop it "
        f"(lock: studies/{name}/{LOCK})"
    )


def _check_fault_hook() -> None:
    spec = os.environ.get(FAULT_ENV, "")
    kind, _, rest = spec.partition(":")
    point, _, nth = rest.partition(":")
    if kind == "evolve" and (point not in FAULT_POINTS or not (nth or "1").isdigit()):
        raise ConfigError(
            f"{FAULT_ENV}={spec!r} is not allowed: evolve:<point>[:N] with a point among "
            + ", ".join(FAULT_POINTS)
        )


_FAULT_HITS: dict[str, int] = {}


def _fault(point: str) -> None:
    """The test hook: SIGKILL this process at ``point`` if ``$RESEARCH_FAULT`` says so."""
    spec = os.environ.get(FAULT_ENV)
    if not spec or not spec.startswith("evolve:"):
        return
    _, name, *nth = spec.split(":")
    if name != point:
        return
    _FAULT_HITS[point] = _FAULT_HITS.get(point, 0) + 1
    if _FAULT_HITS[point] == int(nth[0] if nth else 1):
        sys.stdout.flush()
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def _signature_hash(ev: EvolveSetup) -> str:
    return hashlib.sha256(ev.signature.encode()).hexdigest()[:24]


def _study_runs(ev: EvolveSetup, tracker: Tracker) -> tuple[list, list]:
    """(parent runs of this evolution study, their child runs), oldest first; deleted runs
    are not listed."""
    client = tracker.client
    exp = client.get_experiment_by_name(ev.name)
    if exp is None or exp.lifecycle_stage == "deleted":
        return [], []
    runs = sorted(
        client.search_runs([exp.experiment_id], max_results=50000),
        key=lambda r: (r.info.start_time or 0, r.info.run_id),
    )
    parents = [
        r
        for r in runs
        if PARENT_TAG not in r.data.tags
        and r.data.tags.get("study.kind") == "evolve"
        and r.data.tags.get("study.name") == ev.name
    ]
    ids = {r.info.run_id for r in parents}
    children = [r for r in runs if r.data.tags.get(PARENT_TAG) in ids]
    return parents, children


def _reattach(tracker: Tracker, run_id: str, run=None) -> TrackedRun:
    """Own the existing run ``run_id`` again (RUNNING until this process ends it), dropping
    the steps it already has and the reason a dead process's clean-up left on it."""
    run = run if run is not None else tracker.find_run(run_id)
    handle = tracker.attach(run_id, owned=True)
    handle.skip_logged_steps()
    if run is not None and REASON_TAG in run.data.tags:
        with shielded():
            tracker.client.delete_tag(run_id, REASON_TAG)
    return handle


def _discard(tracker: Tracker, run_id: str, reason: str) -> None:
    """A duplicate left by a dead process: ended KILLED with ``reason``, then deleted (MLflow
    keeps it in its trash: ``mlflow runs restore``)."""
    tracker.close_run(run_id, "KILLED", reason)
    with shielded():
        tracker.client.delete_run(run_id)


def _reuse_parent(ev: EvolveSetup, tracker: Tracker, cfg) -> TrackedRun | None:
    """The unfinished parent run of this study and config that a process killed before its
    first checkpoint left, reattached (with any params it had no time to log); None if there
    is none."""
    parents, _ = _study_runs(ev, tracker)
    found = [r for r in parents if _is_ours(ev, r)]
    if not found:
        return None
    keep = found[0]
    parent = _reattach(tracker, keep.info.run_id, keep)
    missing = {k: v for k, v in _parent_params(ev, cfg).items() if k not in keep.data.params}
    if missing:
        parent.log_params(missing)
    if not any(a.path == "config.yaml" for a in tracker.client.list_artifacts(keep.info.run_id)):
        parent.log_text(to_yaml(cfg), "config.yaml")
    parent.set_tags({"resumed": "true"})
    return parent


def _is_ours(ev: EvolveSetup, run) -> bool:
    """An unfinished parent run of this very evolution (same study, same config)."""
    return run.info.status != "FINISHED" and run.data.tags.get(SIGNATURE_TAG) == _signature_hash(ev)


def _close_orphans(ev: EvolveSetup, tracker: Tracker, p: Progress) -> None:
    """Under the study lock no live process owns a run of this study but this one. Another
    unfinished parent run of the same config is a duplicate: ended KILLED and deleted, with
    its children; so is a second run of a stage. Every other RUNNING run of the study (a dead
    process's) is ended KILLED with the reason; a stage run is reattached when the evolution
    reaches its stage again."""
    parents, children = _study_runs(ev, tracker)
    ours = p.parent_run_id
    for run in parents:
        if run.info.run_id == ours:
            continue
        if _is_ours(ev, run):
            reason = f"a duplicate parent run of study {ev.name!r}; it continues in {ours}"
            for child in children:
                if child.data.tags.get(PARENT_TAG) == run.info.run_id:
                    _discard(tracker, child.info.run_id, reason)
            _discard(tracker, run.info.run_id, reason)
        elif run.info.status == "RUNNING":
            reason = f"left RUNNING by a process that died; study {ev.name!r} is in {ours}"
            tracker.close_run(run.info.run_id, "KILLED", reason)
    seen: set[str] = set()
    mine = [r for r in children if r.data.tags.get(PARENT_TAG) == ours]
    mine.sort(key=lambda r: r.info.run_id != p.stage_run_id)  # the checkpoint's, else oldest
    for run in mine:
        stage = run.data.tags.get("stage", "")
        if stage in seen:
            _discard(tracker, run.info.run_id, f"a duplicate run of stage {stage}")
            continue
        seen.add(stage)
        if run.info.status == "RUNNING":
            reason = "left RUNNING by a process that died; reused when its stage is reached"
            tracker.close_run(run.info.run_id, "KILLED", reason)
    for run in children:
        if run.data.tags.get(PARENT_TAG) != ours and run.info.status == "RUNNING":
            reason = "left RUNNING by a process that died"
            tracker.close_run(run.info.run_id, "KILLED", reason)


def _stage_run(ev: EvolveSetup, tracker: Tracker, p: Progress) -> TrackedRun | None:
    """The child run of the current stage (staging only): one run per stage, created the first
    time the stage is reached and reattached afterwards (a resume, a backtrack, a rerun after a
    process died between a stage change and its checkpoint). Duplicates are discarded."""
    if ev.staging.n_stages == 1:
        return None
    stage = str(p.stage.stage)
    _, children = _study_runs(ev, tracker)
    mine = [
        r
        for r in children
        if r.data.tags.get(PARENT_TAG) == p.parent_run_id and r.data.tags.get("stage") == stage
    ]
    if mine:
        mine.sort(key=lambda r: r.info.run_id != p.stage_run_id)  # the checkpoint's, else oldest
        keep, *extra = mine
        for run in extra:
            _discard(tracker, run.info.run_id, f"a duplicate run of stage {stage}")
        p.stage_run_id = keep.info.run_id
        return _reattach(tracker, keep.info.run_id, keep)
    params = ev.staging.task_params(ev.task_params, p.stage.stage)
    run = tracker.start_run(
        ev.name,
        f"stage-{p.stage.stage}",
        parent=p.parent_run_id,
        tags={"stage": p.stage.stage, "stage.task": json.dumps(params, default=str)},
    )
    p.stage_run_id = run.run_id
    return run


def _finish(ev, tracker, parent: TrackedRun, p: Progress, engine, folder: Path) -> list[str]:
    """Champion weights and config, Pareto front (multi-objective), summary tags."""
    from research.report.evolve_figures import pareto_figure

    tags = {
        "evolve.generations": p.generation,
        "evolve.evals": p.evals,
        "evolve.solved": p.solved_at is not None,
        "evolve.solved_at_evals": p.solved_at if p.solved_at is not None else "",
        "evolve.stage_evals": json.dumps(p.stage_evals),
        "evolve.champion_fitness": p.champion_fitness,
    }
    generalisation = None
    with tempfile.TemporaryDirectory() as tmp:
        if p.champion is not None:
            theta = decode(ev, p.champion[None, :])
            goal_task = ev.make_task(ev.staging.n_stages - 1)
            final = goal_task.evaluate(ev.net, theta)
            if getattr(goal_task, "tests_champion", False):
                run_champion_test(goal_task, ev.net, theta, final, 0)
            generalisation = final.info.get("generalisation")
            if generalisation is not None:
                tags["evolve.generalisation"] = int(np.asarray(generalisation)[0])
            ev.net.theta[:] = theta[0]
            path = Path(tmp) / "champion.npz"
            np.savez(path, **ev.net.state_dict())
            parent.log_artifact(path)
            parent.log_dict(
                {
                    "fitness": p.champion_fitness,
                    "genome": p.champion.tolist(),
                    "network": type(ev.net).__name__,
                    "n_params": int(ev.net.n_params),
                    "active": int(np.count_nonzero(theta)),
                },
                "champion.json",
            )
        front = getattr(engine, "front", None)
        if len(ev.study.objectives) > 1 and callable(front):
            genomes, values = front()
            rows = ["fitness,size"] + [f"{v[0]},{-v[1]}" for v in values]
            csv_path = Path(tmp) / "pareto_front.csv"
            csv_path.write_text("\n".join(rows) + "\n")
            parent.log_artifact(csv_path)
            fig = pareto_figure(np.asarray(values), ev.name)
            parent.log_figure(fig, "pareto_front.png")
    parent.set_tags(tags)
    lines = [
        f"evolution {ev.name!r}: {p.generation} generations, {p.evals} evaluations, "
        f"best fitness {p.champion_fitness:.6g}"
        + (f", solved after {p.solved_at} evaluations" if p.solved_at is not None else ""),
    ]
    if generalisation is not None:
        lines.append(f"  generalisation: {int(np.asarray(generalisation)[0])}/625 starts")
    if p.stage_evals:
        lines.append(f"  stages left after evaluations {p.stage_evals}")
    lines.append(
        f"MLflow experiment {ev.name!r}, parent run {p.parent_run_id}: python -m research.ui"
    )
    lines.append(f"checkpoints: {folder / 'checkpoints'}/")
    return lines
