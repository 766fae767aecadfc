"""The ``train`` kind: one network, one regime, one MLflow run (``python -m research.run``),
and the body of every search trial that trains a network."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from research.kinds.base import InRunResult, Kind, Outcome, StepReport
from research.progress import Progress
from research.report.curves import close, learning_curve_figure
from research.track import RunReporter, Tracker
from research.track import tags as T
from research.track.params import flatten, to_yaml
from research.track.provenance import provenance_tags
from research.track.redact import redact
from research.train import FitResult, fit_model, prepare

#: what a search can score a training trial on: fit's final metrics, the size and the time
METRICS = (
    "val/acc",
    "val/loss",
    "val/rmse",
    "train/acc",
    "train/loss",
    "train/rmse",
    "test/acc",
    "test/loss",
    "test/rmse",
    "n_params",
    "time/fit",
)


class _Bar:
    """Wraps a reporter with the progress over epochs on stderr (a tqdm bar on a terminal,
    else a line now and then: :mod:`research.progress`)."""

    def __init__(self, inner, total: int, desc: str) -> None:
        self.inner = inner
        self.bar = Progress(total, desc, "epoch")

    def epoch(self, step: int, metrics) -> bool:
        if step > 0:
            shown = {k: f"{v:.4g}" for k, v in metrics.items() if k.startswith("val/")}
            self.bar.update(1, **shown)
        return self.inner.epoch(step, metrics)

    def close(self) -> None:
        self.bar.close()


class _Pruned:
    """Logs each epoch to the run and asks the search's ``report`` whether to stop."""

    def __init__(self, run, report: StepReport) -> None:
        self.log = RunReporter(run)
        self.report = report

    def epoch(self, step: int, metrics) -> bool:
        self.log.epoch(step, metrics)
        return step > 0 and self.report(step, metrics)


def final_metrics(result: FitResult) -> dict[str, float]:
    """The final metrics not already logged at the same step with the same value.

    MLflow's SQL store keys a metric row by (key, step, timestamp, value): logging an
    identical point twice would be dropped or kept depending on the clock, and the run's
    history would not be reproducible. A value that differs (best weights restored) is kept.
    """
    last = result.history[-1] if result.history else {}
    if last.get("epoch") != result.epochs:
        return dict(result.metrics)
    return {k: v for k, v in result.metrics.items() if last.get(k) != v}


class TrainKind(Kind):
    name = "train"
    metrics = METRICS
    on_interrupt = "the run is marked KILLED in MLflow"

    def run(self, cfg, groups: dict[str, Any], args: list[str], command: str) -> Outcome:
        """Train ``cfg``'s network and log the run: params = flattened config; tags =
        provenance; per-epoch metrics; final val/test metrics; artifacts = config, weights,
        learning curve."""
        # bad input fails here, before any run exists
        data, model = prepare(groups["data"], groups["model"], cfg.seed)
        tracking, regime = groups["tracking"], groups["regime"]
        tracker = Tracker.from_config(tracking)
        experiment = tracking.experiment or cfg.name
        tracker.experiment_id(experiment)
        run_name = f"{cfg.model.name}-{cfg.data.name}-{regime.name}-seed{cfg.seed}"
        tags = {T.STUDY_KIND: "train", T.SEED: cfg.seed}
        tags.update(provenance_tags(tracker.store.root, command))
        with tracker.run(experiment, run_name, tags=tags) as run:
            run.log_params(flatten(cfg))
            run.log_text(to_yaml(cfg), "config.yaml")
            bar = _Bar(RunReporter(run), regime.epochs, run_name)
            try:
                result = fit_model(model, regime, data, bar, seed=cfg.seed)
            finally:
                bar.close()
            run.log_metrics(final_metrics(result), step=result.epochs)
            fit_tags = {"fit.status": result.status, "fit.epochs": result.epochs}
            run.set_tags({**fit_tags, "fit.reason": result.reason})
            _log_outputs(run, tracking, model, result, run_name)
            if result.diverged:
                run.end("FAILED", result.reason)
        return Outcome(
            _summary(result, run.run_id, experiment, tracker.store.tracking_uri),
            1 if result.diverged else 0,
        )

    def run_in_trial(self, cfg, groups: dict[str, Any], run, report: StepReport) -> InRunResult:
        """Train in the trial's run; each epoch is logged and offered to the pruner."""
        data, model = prepare(groups["data"], groups["model"], cfg.seed)
        started = time.perf_counter()
        result = fit_model(model, groups["regime"], data, _Pruned(run, report), seed=cfg.seed)
        metrics = {
            **result.metrics,
            "n_params": float(model.n_params),
            "time/fit": time.perf_counter() - started,
        }
        run.log_metrics(metrics, step=result.epochs)
        tags = {"fit.status": result.status, "fit.epochs": result.epochs}
        failed = result.reason if result.diverged else None
        return InRunResult(metrics, result.epochs, failed, tags, reason=result.reason)


def _log_outputs(run, tracking, model, result: FitResult, run_name: str) -> None:
    if tracking.log_weights:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "weights.npz"
            np.savez(path, **model.state_dict())
            run.log_artifact(path)
    if tracking.log_figure and result.history:
        fig = learning_curve_figure(result.history, run_name)
        run.log_figure(fig, "learning_curve.png")
        close(fig)


def _summary(r: FitResult, run_id: str, experiment: str, uri: str) -> list[str]:
    shown = "  ".join(f"{k} {v:.4g}" for k, v in sorted(r.metrics.items()))
    return [
        f"{r.status} after {r.epochs} epochs ({r.seconds:.1f} s of training): {r.reason}",
        f"  {shown}",
        f"MLflow run {run_id} in experiment {experiment!r}",
        f"  store: {redact(uri)}",
        "  browse: python -m research.ui   (http://127.0.0.1:5000)",
    ]


KIND = TrainKind()
