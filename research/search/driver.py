"""The search driver: open (or resume) the study and its parent run once, then run trials in
this process or in ``study.workers`` processes sharing the storage and the parent run.

Every worker loops: under the study lock, recover stale trials, count, and ask for a trial
(sampler rebuilt with the seed for that trial number); outside it, train the trial in a
child run and tell Optuna the result; then log the study's progress to the parent run.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import check_distribution_compatibility
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages._heartbeat import get_heartbeat_thread
from optuna.trial import TrialState

from research.errors import ConfigError
from research.search.recovery import (
    fail_crashed,
    n_counted,
    n_finished,
    outcome_counts,
    recover,
)
from research.search.samplers import make_pruner, make_sampler, trial_seed
from research.search.space import parse_dimension, suggest
from research.search.spec import SearchSpec
from research.search.storage import describe, open_storage, study_dir, study_lock
from research.search.trial import (
    FAIL_REASON_ATTR,
    METRICS_ATTR,
    STATE_NAMES,
    WORKER_ATTR,
    TrialBody,
    TrialOutcome,
    run_trial,
    worker_id,
)
from research.track import TrackedRun, Tracker
from research.track import tags as T
from research.track.params import flatten
from research.track.provenance import provenance_tags

log = logging.getLogger(__name__)

SIGNATURE_ATTR = "signature"


@dataclass
class StudyHandle:
    """An open study as one worker sees it."""

    spec: SearchSpec
    body: TrialBody  # what a trial does (the search kind's)
    study: optuna.Study
    tracker: Tracker
    parent_run_id: str
    parent: TrackedRun | None = None  # the coordinator's handle, which ends the parent run

    @property
    def storage(self):
        return self.study._storage


def quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")


# ------------------------------------------------------------------------------ opening
def open_study(
    spec: SearchSpec,
    body: TrialBody,
    tracker: Tracker,
    command: str,
    *,
    create: bool,
    storage=None,
) -> StudyHandle:
    """Load the study (and, with ``create``, create it and its parent run if missing). A study
    that exists with another space, objectives or shared overrides is refused unless
    ``study.allow_space_change``."""
    quiet_optuna()
    if storage is None:
        storage = open_storage(spec.study.storage, spec.root, spec.name)
    with study_lock(storage, spec.root, spec.name):
        try:
            study = optuna.load_study(study_name=spec.name, storage=storage)
        except KeyError:
            if not create:
                raise ConfigError(f"study {spec.name!r} does not exist") from None
            study = optuna.create_study(
                study_name=spec.name, storage=storage, directions=spec.directions
            )
        _check_signature(spec, study)
        if study.metric_names != spec.metrics:  # a new study, or one made before they were named
            study.set_metric_names(spec.metrics)  # figures and optuna-dashboard say val/acc
        parent_id = study.user_attrs.get(T.PARENT_RUN_ATTR)
        parent = None
        if create:
            if tracker.find_run(parent_id) is None:
                parent = _create_parent(spec, study, tracker, command)
            else:  # resumed: the parent run is RUNNING again until the study ends
                parent = tracker.attach(parent_id, owned=True)
                parent.set_tags({"n_trials": spec.n_trials, T.RESUMED: "true"})
            parent_id = parent.run_id
            recover(study, spec.study.retry_crashed, tracker)
        elif parent_id is None:
            raise ConfigError(f"study {spec.name!r} has no parent run yet")
    study.pruner = make_pruner(
        spec.study.pruner, spec.study.prune_after_trials, spec.study.prune_after_epochs
    )
    return StudyHandle(spec, body, study, tracker, parent_id, parent)


def _check_signature(spec: SearchSpec, study: optuna.Study) -> None:
    stored = study.user_attrs.get(SIGNATURE_ATTR)
    mine = spec.signature_json()
    if stored is None:
        study.set_user_attr(SIGNATURE_ATTR, mine)
        return
    if stored == mine:
        return
    old, new = json.loads(stored), spec.signature()
    if old["objectives"] != new["objectives"]:
        raise ConfigError(
            f"study {spec.name!r} exists with objectives {old['objectives']}; "
            f"choose another study.name for {new['objectives']}"
        )
    scored_at = old.get("seeds_per_trial", 1), new.get("seeds_per_trial", 1)
    if scored_at[0] != scored_at[1]:  # its values would mean something else
        raise ConfigError(
            f"study {spec.name!r} exists with study.seeds_per_trial={scored_at[0]}; "
            f"choose another study.name for seeds_per_trial={scored_at[1]}"
        )
    if not spec.study.allow_space_change:
        changed = [k for k in ("space", "overrides") if old[k] != new[k]]
        detail = "; ".join(f"{k} was {old[k]} now {new[k]}" for k in changed)
        raise ConfigError(
            f"study {spec.name!r} exists with a different search: {detail}. Rerun with "
            "study.allow_space_change=true to continue it anyway, or set another study.name"
        )
    _check_compatible(old["space"], spec)
    study.set_user_attr(SIGNATURE_ATTR, mine)


def _check_compatible(old_space: dict[str, str], spec: SearchSpec) -> None:
    """Optuna keeps one distribution kind per parameter in a study: a key may change its
    bounds, but not its scale, type or choices."""
    for key, text in old_space.items():
        if key not in spec.space:
            continue
        try:
            check_distribution_compatibility(
                # a conditional name is "model:cnn/model.channels": parse its key
                parse_dimension(key.rsplit("/", 1)[-1], text).distribution,
                spec.space[key].distribution,
            )
        except ValueError as exc:
            raise ConfigError(
                f"study.params.{key}: {text!r} -> {spec.space[key].text!r} cannot continue "
                f"study {spec.name!r} ({exc}); set another study.name"
            ) from None


def _create_parent(
    spec: SearchSpec, study: optuna.Study, tracker: Tracker, command: str
) -> TrackedRun:
    s = spec.study
    tags = {
        T.STUDY_KIND: "search",
        T.STUDY_NAME: spec.name,
        T.SAMPLER: s.sampler,
        T.PRUNER: s.pruner,
        T.STORAGE: describe(s.storage, spec.root, spec.name),
        "space": json.dumps({k: d.text for k, d in spec.space.items()}),
        "objectives": json.dumps(dict(s.objectives)),
        "overrides": json.dumps(list(spec.base_overrides)),
        T.SEED: spec.seed,
        "n_trials": spec.n_trials,
        **provenance_tags(spec.root, command),
    }
    run = tracker.start_run(spec.name, spec.name, tags=tags)
    params = {f"study.{k}": v for k, v in flatten(_as_dict(s)).items() if k != "n_trials"}
    params.update({f"space.{k}": d.text for k, d in spec.space.items()})
    run.log_params(params)
    study.set_user_attr(T.PARENT_RUN_ATTR, run.run_id)
    return run


def _as_dict(obj: Any) -> dict[str, Any]:
    out = asdict(obj)
    out.pop("params", None)  # logged as space.<key>
    out.pop("when", None)  # so are the conditional keys (space.<key:value/key>)
    out.pop("workers", None)  # may change between resumes
    return out


# ------------------------------------------------------------------------------- trials
def next_trial(handle: StudyHandle) -> optuna.Trial | None:
    """Under the study lock: recover stale trials, stop at ``n_trials``, else ask."""
    spec, study = handle.spec, handle.study
    with study_lock(handle.storage, spec.root, spec.name):
        recover(study, spec.study.retry_crashed, handle.tracker)
        trials = study.get_trials(deepcopy=False)
        waiting = any(t.state == TrialState.WAITING for t in trials)
        if n_counted(trials) >= spec.n_trials and not waiting:  # queued retries still run
            return None
        seed = trial_seed(spec.study.sampler, spec.seed, len(trials))
        study.sampler = make_sampler(
            spec.study.sampler, seed, spec.space, spec.study.n_startup_trials
        )
        trial = study.ask(spec.distributions)
        for name, dist in spec.conditional(trial.params).items():
            suggest(trial, name, dist)
        trial.set_user_attr(WORKER_ATTR, worker_id())
    return trial


def tell(handle: StudyHandle, trial: optuna.Trial, outcome: TrialOutcome) -> None:
    trial.set_user_attr(METRICS_ATTR, {k: float(v) for k, v in outcome.metrics.items()})
    trial.set_user_attr(T.RUN_ATTR, outcome.run_id)
    if outcome.state == TrialState.FAIL:
        trial.set_user_attr(FAIL_REASON_ATTR, outcome.reason)
    if outcome.state == TrialState.COMPLETE:
        handle.study.tell(trial, outcome.values)
    else:
        handle.study.tell(trial, state=outcome.state)


def work(handle: StudyHandle, on_trial=None) -> int:
    """Run trials until the study has ``n_trials``; returns how many this worker ran."""
    parent = handle.tracker.attach(handle.parent_run_id)
    ran = 0
    while (trial := next_trial(handle)) is not None:
        with get_heartbeat_thread(trial._trial_id, handle.storage):
            try:
                outcome = run_trial(
                    handle.spec, handle.body, trial, handle.tracker, handle.parent_run_id
                )
                tell(handle, trial, outcome)
            except UpdateFinishedTrialError:  # another worker judged it dead: its retry counts
                log.warning(
                    "trial %d was marked failed by another worker; its retry runs instead",
                    trial.number,
                )
                continue
            except BaseException as exc:  # Ctrl-C / SIGTERM: the trial is retried on resume
                try:  # best effort: if the storage fails too, the next run recovers the trial
                    frozen = handle.study._storage.get_trial(trial._trial_id)
                    if frozen.state == TrialState.RUNNING:
                        reason = f"interrupted ({type(exc).__name__})"
                        fail_crashed(
                            handle.study, frozen, reason, handle.spec.study.retry_crashed, None
                        )
                except Exception:  # noqa: BLE001 - keep the original error
                    log.warning("could not mark trial %d failed; a rerun will", trial.number)
                raise
        ran += 1
        log_progress(handle, parent, outcome)
        if on_trial is not None:
            on_trial(outcome)
    parent.end()
    return ran


def log_progress(handle: StudyHandle, parent: TrackedRun, outcome: TrialOutcome) -> None:
    """The parent run's per-trial curves (step = trial number): this trial's objective(s),
    the best so far, and the counts of trials by state."""
    spec, study = handle.spec, handle.study
    trials = study.get_trials(deepcopy=False)
    step = outcome.number
    ended = outcome_counts(trials)  # as the summary counts them
    metrics: dict[str, float] = {f"trials/{k}": ended[k] for k in ("complete", "pruned", "failed")}
    if outcome.values is not None:
        metrics.update({f"trial/{m}": v for m, v in zip(spec.metrics, outcome.values)})
    if spec.multi_objective:
        metrics["pareto/size"] = len(study.best_trials)
    elif metrics["trials/complete"]:
        metrics[f"best/{spec.metrics[0]}"] = study.best_value
    parent.log_metrics(metrics, step)  # buffered: sent every tracking.flush_seconds and at the end


# -------------------------------------------------------------------------------- state
def progress_counts(study: optuna.Study) -> dict[str, int]:
    trials = study.get_trials(deepcopy=False)
    out = {name: sum(t.state == s for t in trials) for s, name in STATE_NAMES.items()}
    out.update(outcome_counts(trials))  # complete, pruned, failed, retried: as the summary
    out["counted"] = n_counted(trials)
    out["finished"] = n_finished(trials)
    out["running"] = sum(t.state == TrialState.RUNNING for t in trials)
    out["waiting"] = sum(t.state == TrialState.WAITING for t in trials)
    return out


def close_orphan_runs(handle: StudyHandle) -> int:
    """Child runs still RUNNING whose trial has ended (a process killed between creating the
    run and recording it in Optuna) are marked FAILED. Returns how many."""
    if handle.tracker.find_run(handle.parent_run_id) is None:
        return 0
    running = {
        t.number
        for t in handle.study.get_trials(deepcopy=False)
        if t.state in (TrialState.RUNNING, TrialState.WAITING)
    }
    closed = 0
    for run in handle.tracker.study_runs(handle.spec.name):
        tags = run.data.tags
        if tags.get(T.PARENT) != handle.parent_run_id or run.info.status != "RUNNING":
            continue
        if int(tags.get(T.TRIAL_NUMBER, -1)) not in running:
            closed += handle.tracker.close_run(
                run.info.run_id,
                "FAILED",
                "its worker died while the trial started",
                tags={T.TRIAL_STATE: "FAIL", T.TRIAL_CRASHED: "true"},
            )
    return closed


def study_path(spec: SearchSpec) -> Path:
    return study_dir(spec.root, spec.name)
