"""The ``search`` job: ``python -m research.run +study=bayes`` — an Optuna study whose trials
are training runs, tracked as child runs of one MLflow parent run."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from optuna.trial import TrialState
from tqdm import tqdm

from research.search.driver import (
    StudyHandle,
    close_orphan_runs,
    open_study,
    progress_counts,
    quiet_optuna,
    study_path,
    work,
)
from research.search.recovery import recover
from research.search.spec import build_spec, preflight
from research.search.storage import check_storage, open_storage, remember_storage
from research.search.summary import best_trials, summary_lines, trials_table
from research.search.workers import start_workers, stop_workers, wait_for
from research.track import Tracker, resolve_store


@dataclass(frozen=True)
class SearchOutcome:
    handle: StudyHandle
    complete: bool
    lines: list[str]


class TrialBar:
    """A tqdm bar over finished trials, with the best value so far."""

    def __init__(self, handle: StudyHandle) -> None:
        self.handle = handle
        counts = progress_counts(handle.study)
        self.bar = tqdm(
            total=handle.spec.n_trials,
            initial=min(counts["finished"], handle.spec.n_trials),
            desc=handle.spec.name,
            unit="trial",
            disable=None,
            file=sys.stderr,
        )

    def refresh(self, *_) -> None:
        counts = progress_counts(self.handle.study)
        self.bar.n = min(counts["finished"], self.bar.total)
        postfix = {"pruned": counts["PRUNED"], "failed": counts["FAIL"]}
        best = best_trials(self.handle, 1)
        if best and not self.handle.spec.multi_objective:
            postfix["best"] = f"{best[0].values[0]:.4g}"
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def run_search(cfg, groups, args: list[str], command: str) -> SearchOutcome:
    tracking = groups["tracking"]
    store = resolve_store(tracking.kind, tracking.uri, tracking.root)
    spec = build_spec(cfg, groups, args, store.root)
    preflight(spec)  # nothing exists yet: a bad space leaves no study and no run behind
    quiet_optuna()
    # the study's own storage only: another one would start a second study over its files
    check_storage(spec.study.storage, spec.root, spec.name)
    storage = open_storage(spec.study.storage, spec.root, spec.name)  # a bad URL fails here
    tracker = Tracker.from_config(tracking)
    handle = open_study(spec, tracker, command, create=True, storage=storage)
    remember_storage(spec.study.storage, spec.root, spec.name)
    close_orphan_runs(handle)
    bar = TrialBar(handle)
    try:
        if spec.study.workers > 1:
            procs = start_workers(spec.study.workers, args)
            try:
                wait_for(procs, bar.refresh)
            except BaseException:
                stop_workers(procs)
                raise
            recover(handle.study, spec.study.retry_crashed, tracker)
        work(handle, on_trial=bar.refresh)  # in-process, or what dead workers left
    except BaseException as exc:
        bar.close()
        with contextlib.suppress(Exception):  # the store failed too (a full disk): keep the cause
            _end_parent(handle, "KILLED", f"interrupted ({type(exc).__name__}); rerun to resume")
        raise
    bar.close()
    close_orphan_runs(handle)
    counts = progress_counts(handle.study)
    # trials still RUNNING here belong to live workers of other processes or hosts (this
    # process's own dead ones were recovered): they finish the study and end the parent run
    complete = counts["counted"] >= spec.n_trials and counts["waiting"] == 0
    others = counts["running"]
    _finish(handle)
    if spec.study.report:
        _report(handle)
    if complete and others == 0:
        _end_parent(handle, "FINISHED", None)
    elif complete and handle.parent is not None:
        handle.parent.detach()
    else:
        _end_parent(handle, "KILLED", "trials are missing; rerun the command to resume")
    lines = summary_lines(handle)
    if others:
        lines.insert(1, f"{others} trial(s) still running in other worker processes")
    return SearchOutcome(handle, complete, lines)


def _end_parent(handle: StudyHandle, status: str, reason: str | None) -> None:
    if handle.parent is not None:
        handle.parent.end(status, reason)


def _report(handle: StudyHandle) -> None:
    """The study's report, written to its folder and attached to the parent run."""
    from research.report.build import make_report

    html_path, _ = make_report(
        [handle.spec.name], handle.spec.root, handle.tracker.store, handle.spec.study.storage
    )
    parent = handle.tracker.attach(handle.parent_run_id)
    parent.log_artifact(html_path)
    parent.set_tags({"report": str(html_path)})


def _finish(handle: StudyHandle) -> None:
    """Optuna's figures, the trials table, the best trial(s) as tags: to the parent run and
    to ``studies/<name>/``."""
    from research.report.search_figures import close, study_figures

    spec = handle.spec
    parent = handle.tracker.attach(handle.parent_run_id)
    out_dir = study_path(spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = trials_table(handle)
    (out_dir / "trials.csv").write_text(table)
    parent.log_text(table, "trials.csv")
    best = best_trials(handle, 10**6 if spec.multi_objective else 1)
    if best:
        tags = {"best.trial": best[0].number, "best.run_id": best[0].user_attrs["mlflow_run_id"]}
        if not spec.multi_objective:
            tags.update({f"best.{k}": v for k, v in best[0].params.items()})
            tags[f"best.{spec.metrics[0]}"] = best[0].values[0]
        parent.set_tags(tags)
    if spec.multi_objective:
        front = [
            {"trial": t.number, "run_id": t.user_attrs.get("mlflow_run_id"), "values": t.values}
            for t in best
        ]
        parent.log_dict({"metrics": spec.metrics, "front": front}, "pareto_front.json")
        for t in best:
            handle.tracker.client.set_tag(t.user_attrs["mlflow_run_id"], "pareto", "true")
    finished = [t for t in handle.study.get_trials(deepcopy=False) if t.state.is_finished()]
    if any(t.state == TrialState.COMPLETE for t in finished):
        with tempfile.TemporaryDirectory() as tmp:
            for name, fig in study_figures(handle.study, spec.metrics):
                path = Path(tmp) / f"{name}.png"
                with warnings.catch_warnings():  # matplotlib's layout notes are not news
                    warnings.simplefilter("ignore")
                    fig.savefig(path, dpi=100, bbox_inches="tight")
                close(fig)
                parent.log_artifact(path, "figures")
                (out_dir / "figures").mkdir(exist_ok=True)
                (out_dir / "figures" / path.name).write_bytes(path.read_bytes())
    parent.end()
