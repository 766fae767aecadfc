"""Where the generation loop's results go: a study's own parent run, or a search's trial run.

:class:`ParentSink` (``python -m research.run +study=cmaes``): per-generation metrics on the
study's parent run (and on the current stage's child run), an authenticated checkpoint every
``checkpoint_every`` generations, resume from the newest one, the fault-hook points, a
progress bar, and at the end the champion, the summary tags and the report.

:class:`TrialSink` (a search's trial, ``study.inner``): metrics on the given run, and after
each generation the search's ``report(generation, metrics)`` says whether to stop (pruning).
No checkpoints: a crashed trial is retried from scratch.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from research.errors import ConfigError
from research.evolve import checkpoint
from research.evolve.engine import Engine
from research.evolve.finish import Publish, finish, lines, recorded
from research.evolve.progress import (
    Progress,
    complete_note,
    done,
    evals_shown,
    planned_generations,
    resume_note,
)
from research.evolve.runs import (
    close_orphans,
    create_parent,
    fault,
    reattach,
    reuse_parent,
    stage_run,
)
from research.evolve.setup import EvolveSetup
from research.progress import Progress as Bar
from research.tasks import StatefulTask, Task
from research.track import TrackedRun, Tracker
from research.track import tags as T


class Sink(Protocol):
    """Where :func:`research.evolve.driver.evolve` writes (see the module docstring)."""

    def open(self, engine: Engine) -> tuple[Progress, Task]: ...

    def log(self, metrics: Mapping[str, float], generation: int) -> None: ...

    def stage_changed(self, progress: Progress) -> None: ...

    def end_of_generation(
        self, progress: Progress, engine: Engine, task: Task, metrics
    ) -> bool: ...  # True: stop

    def interrupted(self, exc: BaseException) -> None: ...

    def finish(self, engine: Engine, progress: Progress, pool_tags: dict[str, str]) -> Any: ...


class ParentSink:
    """The study's own parent run, with checkpoints and resume."""

    def __init__(self, ev: EvolveSetup, tracking, command: str, folder: Path, publish: Publish):
        self.ev, self.tracking, self.command, self.publish = ev, tracking, command, publish
        self.ckdir = folder / "checkpoints"
        self.tracker: Tracker | None = None
        self.parent: TrackedRun | None = None
        self.stage_run: TrackedRun | None = None
        self.bar: Bar | None = None
        self.complete: str | None = None  # a rerun of a finished evolution says so
        self.evals_seen = 0  # evaluations when the bar last moved

    def open(self, engine: Engine) -> tuple[Progress, Task]:
        """Resume from the newest checkpoint (engine, progress, a stateful task's state) or
        start afresh; attach the parent and stage runs; clean up what a dead process left."""
        ev = self.ev
        restored = checkpoint.load_latest(self.ckdir)  # an unauthenticated file is refused
        if restored is not None and restored[1]["signature"] != ev.signature:
            raise ConfigError(
                f"study {ev.name!r} exists with another config (studies/{ev.name}/); set "
                "another study.name to start a new evolution"
            )
        self.tracker = tracker = Tracker.from_config(self.tracking)
        if restored is not None:
            state = restored[1]
            engine.load_state_dict(state["engine"])
            progress: Progress = state["progress"]
            self.parent = reattach(tracker, progress.parent_run_id)
        else:
            progress = Progress()
            # a process killed before its first checkpoint left this config's parent: reuse it
            self.parent = reuse_parent(ev, tracker) or create_parent(ev, tracker, self.command)
            progress.parent_run_id = self.parent.run_id
        close_orphans(ev, tracker, progress)
        self.stage_run = stage_run(ev, tracker, progress)
        fault("after_parent")
        task = ev.make_task(progress.stage.stage)
        if restored is not None and "task" in restored[1]:  # a stateful task (coevolution)
            task.load_state_dict(restored[1]["task"])
        self._open_bar(engine, progress)
        return progress, task

    def _open_bar(self, engine: Engine, progress: Progress) -> None:
        """The bar counts to where the budget ends; a rerun says where it resumes (stderr),
        or that the evolution is complete (the first line printed at the end)."""
        study = self.ev.study
        if done(study, progress):
            self.complete = complete_note(self.ev.name, study, progress)
            total = progress.generation
        else:
            # asking again before telling returns the same genomes: the run is unchanged
            total = planned_generations(study, progress, len(engine.ask()))
            if progress.generation:
                print(resume_note(self.ev.name, progress, total), file=sys.stderr)
        self.evals_seen = progress.evals
        self.bar = Bar(
            total,
            self.ev.name,
            "gen",
            initial=progress.generation,
            names={"best": "generation best"},  # fitness/best, in the plain line
        )

    def log(self, metrics: Mapping[str, float], generation: int) -> None:
        self.parent.log_metrics(metrics, generation)  # steps already logged are skipped
        if self.stage_run is not None:
            self.stage_run.log_metrics(metrics, generation)

    def stage_changed(self, progress: Progress) -> None:
        if self.stage_run is not None:
            self.stage_run.end()
        self.stage_run = stage_run(self.ev, self.tracker, progress)
        fault("after_stage_change")

    def end_of_generation(self, progress: Progress, engine: Engine, task: Task, metrics) -> bool:
        """Checkpoint when due (and at the end); never stops the loop itself."""
        ev = self.ev
        if progress.generation % ev.study.checkpoint_every == 0 or done(ev.study, progress):
            self.parent.flush()
            if self.stage_run is not None:
                self.stage_run.flush()
            fault("before_checkpoint")
            state = {"signature": ev.signature, "engine": engine.state_dict()}
            state["progress"] = progress
            if isinstance(task, StatefulTask):  # competitive coevolution's parasites
                state["task"] = task.state_dict()
            checkpoint.save(self.ckdir, progress.generation, state)
            fault("after_checkpoint")
        per_generation, self.evals_seen = progress.evals - self.evals_seen, progress.evals
        self.bar.set_total(planned_generations(ev.study, progress, per_generation))
        self.bar.update(
            1, best=f"{metrics['fitness/best']:.4g}", evals=evals_shown(ev.study, progress)
        )
        return False

    def interrupted(self, exc: BaseException) -> None:
        """Both runs end KILLED with the reason; the last checkpoint is kept."""
        if self.bar is not None:
            self.bar.close()
        reason = f"interrupted ({type(exc).__name__}); rerun to resume"
        if self.stage_run is not None:
            self.stage_run.end("KILLED", reason)
        if self.parent is not None:
            self.parent.end("KILLED", reason)

    def finish(self, engine: Engine, progress: Progress, pool_tags: dict[str, str]) -> list[str]:
        self.bar.close()
        if self.stage_run is not None:
            self.stage_run.end()
        champion = recorded(self.parent) if self.complete is not None else None
        if champion is not None:  # finished before: say so, touch nothing
            self.parent.end()
            return [self.complete, *lines(self.ev, progress, champion, self.parent)]
        self.parent.set_tags(pool_tags)
        out = finish(self.ev, self.parent, progress, engine, self.publish)
        if self.complete is not None:
            out.insert(0, self.complete)
        if self.ev.study.report and self.publish.report is not None:
            html_path = self.publish.report(self.ev.name, self.ev.root, self.tracker.store)
            self.parent.log_artifact(html_path)
            self.parent.set_tags({T.REPORT: str(html_path)})
            out.insert(-1, f"report: {html_path}")
        self.parent.end()
        return out


class TrialSink:
    """A search's trial run: metrics to ``run``, ``report`` may prune after any generation."""

    def __init__(self, ev: EvolveSetup, run: TrackedRun, report: Callable[..., bool] | None):
        self.ev, self.run, self.report = ev, run, report

    def open(self, engine: Engine) -> tuple[Progress, Task]:
        return Progress(), self.ev.make_task(0)

    def log(self, metrics: Mapping[str, float], generation: int) -> None:
        self.run.log_metrics(metrics, generation)

    def stage_changed(self, progress: Progress) -> None:
        pass

    def end_of_generation(self, progress: Progress, engine: Engine, task: Task, metrics) -> bool:
        return self.report is not None and bool(self.report(progress.generation, metrics))

    def interrupted(self, exc: BaseException) -> None:
        pass

    def finish(self, engine: Engine, progress: Progress, pool_tags: dict[str, str]) -> Any:
        """The trial's final metrics: ``fitness`` (champion), ``evals``, ``solved`` (0/1) and
        ``evals_to_solve`` (evaluations used when unsolved: a lower bound)."""
        self.run.set_tags(pool_tags, buffered=True)
        return {
            "fitness": progress.champion_fitness,
            "evals": float(progress.evals),
            "solved": float(progress.solved_at is not None),
            "evals_to_solve": float(progress.solved_at or progress.evals),
        }
