"""The ``search`` kind: a hyperparameter search driven by Optuna (``+study=bayes``).

The search driver (``research.search``) knows no config module and no other kind: this module
gives it a :class:`~research.search.trial.TrialBody` — compose and validate a trial's config,
then run it inside the trial's run as the ``train`` kind does, or as the ``evolve`` kind does
when each trial is an evolution (``study.inner``) — and the entry point of worker processes.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from research import threads
from research.config import compose, conf_dir, validate
from research.errors import ConfigError
from research.kinds.base import Kind, Outcome
from research.kinds.models import network_spec
from research.kinds.train import WEIGHTS
from research.registry import KINDS
from research.report.build import base_config, make_report
from research.report.search_figures import write_figures
from research.report.search_report import comparison_section, search_sections
from research.report.search_report import load_search as _load_search
from research.search.coordinator import run_study
from research.search.driver import StudyHandle, open_study, work
from research.search.schema import SearchStudy
from research.search.spec import SearchSpec, build_spec, preflight
from research.search.storage import open_storage
from research.search.summary import best_trials
from research.search.trial import METRICS_ATTR, TrialBody
from research.track import Tracker, resolve_store
from research.track import tags as T
from research.track.links import link_line
from research.track.models import log_network
from research.track.reader import StoreReader
from research.track.store import study_dir
from research.train import prepare

#: what ``fit`` reports every epoch, so a pruner can watch it (the objective's own metric)
EPOCH_METRICS = (
    *("val/acc", "val/loss", "val/rmse", "val/recon"),
    *("train/acc", "train/loss", "train/rmse", "train/recon"),
)


def _configure(overrides) -> tuple[Any, dict[str, Any]]:
    cfg = compose(overrides)
    return cfg, validate(cfg)


def trial_body(inner: str | None, seeds: int = 1) -> TrialBody:
    """What a trial of a search does: train a network (at ``seeds`` seeds: the ``train``
    kind's ``run_in_trial``), or evolve one (``inner``)."""
    kind = KINDS.get("evolve" if inner else "train")
    return TrialBody(
        configure=_configure,
        validate=kind.validate,
        run=functools.partial(kind.run_in_trial, seeds=seeds) if seeds > 1 else kind.run_in_trial,
        step_metrics={"fitness": "fitness/best"} if inner else {m: m for m in EPOCH_METRICS},
        step_name="generation" if inner else "epoch",
    )


def _kind_of(option: str) -> str | None:
    """The kind of study option ``option``; None if it does not compose (a broken file)."""
    try:
        return compose([f"+study={option}"]).study.get("kind")
    except ConfigError:
        return None


def _study_options() -> list[str]:
    return sorted(p.stem for p in (conf_dir() / "study").glob("*.yaml"))


def check_inner(spec: SearchSpec) -> None:
    """``study.inner`` names a study option whose kind is ``evolve``."""
    if spec.study.inner and _kind_of(spec.study.inner) != "evolve":
        evolve = [o for o in _study_options() if _kind_of(o) == "evolve"]
        raise ConfigError(
            f"study.inner={spec.study.inner!r} is not allowed: name an evolve study "
            f"({', '.join(evolve)})"
        )


def worker_main(args: list[str]) -> None:
    """A worker process (``study.workers``): rebuild the study from the command line's
    overrides and run trials until it has ``n_trials``."""
    cfg, groups = _configure(args)
    threads.configure(cfg.blas_threads, groups)  # the main process's setting, here too
    tracker = Tracker.from_config(groups["tracking"])
    spec = build_spec(cfg, groups, args, tracker.store.root)
    body = trial_body(spec.study.inner, spec.study.seeds_per_trial)
    work(open_study(spec, body, tracker, "", create=False))


def _report(handle: StudyHandle) -> None:
    """The study's report, written to its folder and attached to the parent run."""
    spec = handle.spec
    html_path, _ = make_report([spec.name], spec.root, handle.tracker.store, spec.study.storage)
    parent = handle.tracker.attach(handle.parent_run_id)
    parent.log_artifact(html_path)
    parent.set_tags({T.REPORT: str(html_path)})


def _with_link(lines: list[str], handle: StudyHandle, store) -> list[str]:
    """``lines`` with the deep link to the parent run instead of the summary's line naming
    it (or at the end)."""
    run = handle.tracker.find_run(handle.parent_run_id)
    if run is None:
        return lines
    link = link_line(store, run.info.experiment_id, run.info.run_id)
    named = [i for i, line in enumerate(lines) if line.startswith("MLflow experiment ")]
    if named:
        lines[named[0]] = link
    else:
        lines.append(link)
    return lines


def log_best_network(handle: StudyHandle, configure) -> list[str]:
    """The best trial's own network (the ``weights.npz`` its run kept) as an MLflow model on
    the parent run, registered under the study's name: exactly the weights that scored the
    trial (its first seed's, with ``study.seeds_per_trial`` > 1), nothing retrained. Returns
    the lines to print; [] when there is nothing to log (several objectives, evolution
    trials, weights not kept, or logged already)."""
    spec = handle.spec
    best = best_trials(handle, 1)
    if not best or spec.multi_objective or spec.study.inner:
        return []
    trial, tracker = best[0], handle.tracker
    run_id = trial.user_attrs.get(T.RUN_ATTR)
    found = tracker.find_run(handle.parent_run_id)
    if found is not None and found.data.tags.get(T.MODEL_TRIAL) == str(trial.number):
        return []
    if not run_id or not tracker.has_artifact(run_id, WEIGHTS):
        return []
    cfg, groups = configure(spec.trial_overrides(trial.params))
    data, model = prepare(groups["data"], groups["model"], cfg.seed)
    network = network_spec(groups["model"], model)
    if network is None:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        path = tracker.download_artifact(run_id, WEIGHTS, Path(tmp))
        with np.load(path, allow_pickle=False) as saved:
            state = {k: saved[k] for k in saved.files}
    model.load_state_dict(state)
    example = data.x_test[:2] if len(data.x_test) else data.x_train[:2]
    parent = tracker.attach(handle.parent_run_id)
    logged = log_network(parent, state, network, example, register=spec.name)
    parent.set_tags({**logged.tags(), T.MODEL_TRIAL: trial.number})
    uri = logged.registered_uri or logged.uri
    return [f"best network (trial {trial.number}): mlflow.pyfunc.load_model({uri!r})"]


class SearchKind(Kind):
    name = "search"
    schema = SearchStudy
    metrics = ("fitness",)
    on_interrupt = "finished trials are kept; rerun the command to resume"

    def validate(self, cfg, groups: dict[str, Any]) -> None:
        """The space is parsed and probed by :meth:`run` before the study exists."""

    def run(self, cfg, groups: dict[str, Any], args: list[str], command: str) -> Outcome:
        tracking = groups["tracking"]
        store = resolve_store(tracking.kind, tracking.uri, tracking.root)
        spec = build_spec(cfg, groups, args, store.root)
        check_inner(spec)
        body = trial_body(spec.study.inner, spec.study.seeds_per_trial)
        preflight(spec, body.configure, body.validate)  # a bad space leaves nothing behind
        outcome = run_study(
            spec, body, command, args, worker=worker_main, figures=write_figures, report=_report
        )
        lines = list(outcome.lines)
        handle = outcome.handle
        if outcome.complete and handle.parent is not None and tracking.log_model:
            try:  # not when nothing ran
                model = log_best_network(handle, body.configure)
            except Exception as exc:  # noqa: BLE001 - the study is done; its model is extra
                model = [f"warning: the best network was not logged as an MLflow model: {exc}"]
            after = [i for i, line in enumerate(lines) if line.startswith("retrain trial")]
            at = after[0] + 1 if after else len(lines)
            lines[at:at] = model
        return Outcome(_with_link(lines, handle, store), 0 if outcome.complete else 1)

    def load_report(self, name, root, store, storage_url):
        if not (storage_url or (study_dir(root, name) / "journal.log").is_file()):
            return None
        return _load_search(name, open_storage(storage_url, root, name), StoreReader(store))

    def comparison_sections(self, studies: list) -> list:
        return [comparison_section(studies)]

    def report_sections(self, data) -> list:
        return search_sections(data, base_config(data))

    def summary_row(self, d) -> list[str]:
        best = d.ranked()[0] if d.complete else None
        metrics = best.user_attrs.get(METRICS_ATTR, {}) if best else {}
        return [
            d.name,
            "Bayesian search",
            f"{len(d.trials)} trials",
            f"{d.metrics[0]} {best.values[0]:.4g}" if best else "-",
            f"{metrics.get('test/acc', float('nan')):.4g}",
        ]


KIND = SearchKind()
