"""The end of a search: the trials table, the best trial(s) as tags (the Pareto front as an
artifact) and Optuna's figures, on the parent run; the table also in ``studies/<name>/``
(the figures only in MLflow and in the study's report: the folder holds no copies)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import optuna
from optuna.trial import TrialState

from research.search.driver import StudyHandle, study_path
from research.search.summary import best_trials, trials_table
from research.track import tags as T

#: ``figures(study, metrics, folder)`` draws the study's figures as PNGs into ``folder``
#: (research.report.search_figures.write_figures) and returns their paths
WriteFigures = Callable[[optuna.Study, list[str], Path], list[Path]]


def finish(handle: StudyHandle, figures: WriteFigures) -> None:
    """Optuna's figures, the trials table, the best trial(s) as tags (and in the parent
    run's description): to the parent run; the table to ``studies/<name>/`` too."""
    spec = handle.spec
    parent = handle.tracker.attach(handle.parent_run_id)
    out_dir = study_path(spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = trials_table(handle)
    (out_dir / "trials.csv").write_text(table)
    parent.log_text(table, "trials.csv")
    best = best_trials(handle, 10**6 if spec.multi_objective else 1)
    if best:
        tags = {"best.trial": best[0].number, "best.run_id": best[0].user_attrs[T.RUN_ATTR]}
        if not spec.multi_objective:
            tags.update({f"best.{k}": v for k, v in best[0].params.items()})
            tags[f"best.{spec.metrics[0]}"] = best[0].values[0]
        tags[T.NOTE] = _note(handle, best)
        parent.set_tags(tags)
    if spec.multi_objective:
        front = [
            {"trial": t.number, "run_id": t.user_attrs.get(T.RUN_ATTR), "values": t.values}
            for t in best
        ]
        parent.log_dict({"metrics": spec.metrics, "front": front}, "pareto_front.json")
        for t in best:
            handle.tracker.set_tag(t.user_attrs[T.RUN_ATTR], T.PARETO, "true")
    finished = [t for t in handle.study.get_trials(deepcopy=False) if t.state.is_finished()]
    if any(t.state == TrialState.COMPLETE for t in finished):
        with tempfile.TemporaryDirectory(prefix="research-figures-") as tmp:
            for path in figures(handle.study, spec.metrics, Path(tmp)):
                parent.log_artifact(path, "figures")
    parent.end()


def _note(handle: StudyHandle, best: list) -> str:
    """The parent run's description with the best trial (or the Pareto front) appended."""
    spec = handle.spec
    run = handle.tracker.find_run(handle.parent_run_id)
    head = run.data.tags.get(T.NOTE, "") if run is not None else ""
    head = head.split("\n\nBest:", 1)[0]
    if spec.multi_objective:
        what = f"{len(best)} trials on the Pareto front of {', '.join(spec.metrics)}"
    else:
        trial = best[0]
        values = ", ".join(f"`{k}`={v}" for k, v in trial.params.items())
        what = (
            f"trial {trial.number}, {spec.metrics[0]} = {trial.values[0]:.6g} ({values}); "
            f"run `{trial.user_attrs.get(T.RUN_ATTR)}`"
        )
    return f"{head}\n\nBest: {what}".lstrip()


def end_parent(handle: StudyHandle, status: str, reason: str | None) -> None:
    """End the parent run (only the coordinator holds it)."""
    if handle.parent is not None:
        handle.parent.end(status, reason)
