"""Entry point: ``python -m research.run [-m] [--cfg job|hydra|all] [--info] [OVERRIDE ...]``.

Composes the Hydra config from ``conf/`` with the command-line overrides, validates it, and
dispatches on the study kind. ``-m`` runs one job per combination of the sweeps, all
validated first, the training runs grouped under one parent MLflow run. Bad input ends here
with one line on stderr and exit status 2, before any run exists. The flags mean what they
mean in a Hydra application (:mod:`research.config.cli`).
"""

from __future__ import annotations

import logging
import sys
from contextlib import ExitStack

from research import threads
from research.config import compose, validate
from research.config.cli import Flags, cfg_text, help_text, info_text, parse_flags
from research.config.sweep import Job, Sweep, compose_jobs, expand, experiment_of, prepare
from research.errors import ConfigError, ResearchError
from research.registry import KINDS
from research.track import Terminated, Tracker, handle_sigterm, is_disk_full
from research.track import tags as T
from research.track.provenance import command_line, provenance_tags
from research.track.redact import redact
from research.track.store import check_tracking, resolve_store

USAGE = """usage: python -m research.run [-m] [--cfg job|hydra|all] [--info] [OVERRIDE ...]

Trains the network that conf/config.yaml describes, with Hydra overrides, e.g.
  python -m research.run model=rbf data=logistic_map
  python -m research.run regime=adam regime.lr=0.003 model.hidden=[256,128] seed=1
  python -m research.run -m regime.lr=0.001,0.01,0.1 seed=range(0,3)  # 9 runs, one parent
  python -m research.run +study=bayes              # Bayesian search (Optuna TPE)
  python -m research.run +study=bayes study.workers=2 study.n_trials=60
  python -m research.run -m +study=bayes study.seed=1,2   # studies bayes-seed1, bayes-seed2
  python -m research.run --cfg job regime=adam     # the composed config, nothing runs
Rerunning a study command resumes that study. Open the runs: python -m research.ui"""

DISK_FULL = (
    "error: the disk is full ({}); nothing finished is lost: free some space and rerun the "
    "same command to resume"
)
SWEEP_INTERRUPTED = "the running job and the sweep's parent run are marked KILLED in MLflow"

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(redact(DISK_FULL.format(first[:200])), file=sys.stderr)
        return 1


def _main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("mlflow", "alembic"):  # store creation chatter is not news to the user
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # MLflow logs a traceback for every failed SQL statement, then raises it: we report it
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    note = "the run is marked KILLED in MLflow"  # what an interrupt leaves, once the kind is known
    try:
        flags = parse_flags(args)
        if flags.help:
            print(help_text(USAGE, flags.overrides))
            return 0
        if flags.multirun:
            return _multirun(flags, args)
        if flags.cfg or flags.info:
            print(redact(_shown(flags, flags.overrides)), end="")
            return 0
        cfg = compose(flags.overrides)
        groups = validate(cfg)
        kind = KINDS.get(groups["study"].kind if "study" in groups else "train")
        note = kind.on_interrupt
        check_tracking(groups["tracking"])  # a dead server: one line now, not minutes of retries
        handle_sigterm()
        threads.configure(cfg.blas_threads, groups)
        command = command_line("research.run", flags.overrides)
        outcome = kind.run(cfg, groups, flags.overrides, command)
    except ResearchError as exc:
        print(redact(f"error: {exc}"), file=sys.stderr)
        return exc.exit_status  # 2: bad input; 1: the environment (EnvironmentFault)
    except (KeyboardInterrupt, Terminated) as exc:
        return _stopped(exc, note)
    print(redact("\n".join(outcome.lines)))
    return outcome.exit_status


def _stopped(exc: BaseException, note: str) -> int:
    """Ctrl-C (exit 130) or SIGTERM (143): one line saying what the interruption left."""
    if isinstance(exc, KeyboardInterrupt):
        print(f"interrupted: {note}", file=sys.stderr)
        return 130
    print(f"terminated: {note}", file=sys.stderr)
    return 143


def _shown(flags: Flags, overrides: list[str]) -> str:
    """What ``--info`` and ``--cfg`` print for one job's ``overrides`` (nothing runs)."""
    out = ""
    if flags.info:
        out += info_text(compose(overrides, hydra=True), flags.info) + "\n"
    if flags.cfg:
        cfg = compose(overrides)
        validate(cfg)
        full = compose(overrides, hydra=True) if flags.cfg != "job" else None
        out += cfg_text(cfg, full, flags.cfg, flags.resolve)
    return out


# ------------------------------------------------------------------------------ -m, --multirun
def _multirun(flags: Flags, args: list[str]) -> int:
    """Hydra's ``--multirun``: every job is composed and validated first (one line, exit 2,
    before any run exists), then run in turn; a failed job does not stop the others."""
    sweep = expand(flags.overrides)
    if flags.cfg or flags.info:
        for job in compose_jobs(sweep.jobs):
            print(redact(f"# {job.name}: {job.label}\n" + _shown(flags, job.overrides)), end="")
        return 0
    jobs = prepare(sweep.jobs)
    trains = [j for j in jobs if j.kind.name == "train"]
    places = {(_store_uri(j), experiment_of(j.cfg)) for j in trains}
    if len(places) > 1:
        raise ConfigError(
            "the training jobs of a sweep share one MLflow store and experiment: name and "
            "tracking.* cannot be swept (run one sweep per experiment)"
        )
    for tracking in {id(j.groups["tracking"]): j.groups["tracking"] for j in jobs}.values():
        check_tracking(tracking)
    handle_sigterm()
    command = command_line("research.run", args)
    state = {"note": SWEEP_INTERRUPTED}
    try:
        return _run_sweep(sweep, trains, command, state)
    except (KeyboardInterrupt, Terminated) as exc:
        return _stopped(exc, state["note"])


def _store_uri(job: Job) -> str:
    tracking = job.groups["tracking"]
    return resolve_store(tracking.kind, tracking.uri, tracking.root).tracking_uri


def _run_sweep(sweep: Sweep, trains: list[Job], command: str, state: dict) -> int:
    """Run the jobs in turn under the sweep's parent run (when some train a network); print a
    line per job as it ends, then the summary. The parent ends FAILED when a job failed,
    KILLED when interrupted (the :meth:`Tracker.run` block)."""
    jobs, failed = sweep.jobs, []
    with ExitStack() as stack:
        parent = tracker = None
        if trains:
            tracker = Tracker.from_config(trains[0].groups["tracking"])
            tags = {
                T.STUDY_KIND: "sweep",
                T.SWEEP_OVERRIDES: " ".join(sweep.sweeps),
                T.SWEEP_JOBS: len(jobs),
                **provenance_tags(tracker.store.root, command),
            }
            name = f"sweep: {' '.join(sweep.sweeps) or 'one job'}"[:250]
            parent = stack.enter_context(tracker.run(experiment_of(trains[0].cfg), name, tags=tags))
        print(f"sweep: {len(jobs)} jobs ({' '.join(sweep.sweeps) or 'no sweep'})", flush=True)
        for job in jobs:
            state["note"] = SWEEP_INTERRUPTED if job.kind.name == "train" else job.kind.on_interrupt
            lines, status = _run_job(job, parent)
            head = f"{job.name} [{job.index + 1}/{len(jobs)}] {job.label}: "
            print(redact("\n".join([head + lines[0], *lines[1:]])), flush=True)
            if status:
                failed.append(job.name)
        if parent is not None and failed:
            parent.end("FAILED", f"{len(failed)} of {len(jobs)} jobs failed: {', '.join(failed)}")
    done = len(jobs) - len(failed)
    print(f"sweep: {len(jobs)} jobs, {done} finished, {len(failed)} failed")
    if parent is not None and tracker is not None:
        where = f"MLflow parent run {parent.run_id} in experiment {experiment_of(trains[0].cfg)!r}"
        print(f"{where} ({len(trains)} child runs)")
        print(redact(f"  store: {tracker.store.tracking_uri}"))
        print("  browse: python -m research.ui   (http://127.0.0.1:5000)")
    return 1 if failed else 0


def _run_job(job: Job, parent) -> tuple[list[str], int]:
    """One job: a training run as the parent's child ``job-<n>``, or a study of its own.
    A job that fails is reported and the sweep goes on; Ctrl-C and SIGTERM stop it."""
    command = command_line("research.run", job.overrides)
    try:
        threads.configure(job.cfg.blas_threads, job.groups)
        if job.kind.name == "train":
            tags = {T.SWEEP_JOB: job.index, T.SWEEP_OVERRIDES: job.label}
            outcome = job.kind.run(
                job.cfg,
                job.groups,
                job.overrides,
                command,
                parent=parent,
                run_name=job.name,
                tags=tags,
            )
        else:
            outcome = job.kind.run(job.cfg, job.groups, job.overrides, command)
    except ResearchError as exc:
        return [f"failed: {exc}"], exc.exit_status
    except Exception as exc:
        if is_disk_full(exc):
            raise
        log.error("%s failed", job.name, exc_info=True)  # a bug: its traceback, then go on
        first = (str(exc).strip().splitlines() or [""])[0]
        return [f"failed: {type(exc).__name__}: {first}"], 1
    if job.kind.name != "train":
        lines = [f"study {job.cfg.study.name}", *("  " + line for line in outcome.lines)]
        return lines, outcome.exit_status
    return outcome.lines, outcome.exit_status


if __name__ == "__main__":
    sys.exit(main())
