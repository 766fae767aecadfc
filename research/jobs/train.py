"""The ``train`` job: one network, one regime, one MLflow run."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from research.config import flatten, to_yaml
from research.data import load_dataset
from research.nn.build import build_model
from research.track import RunReporter, Tracker
from research.track.provenance import provenance_tags
from research.train import FitResult, fit_model, stream


@dataclass(frozen=True)
class TrainOutcome:
    result: FitResult
    run_id: str
    experiment: str
    tracking_uri: str


class ProgressReporter:
    """Wraps a reporter with a tqdm bar over epochs (shown only on a terminal)."""

    def __init__(self, inner, total: int, desc: str) -> None:
        self.inner = inner
        self.bar = tqdm(total=total, desc=desc, unit="epoch", disable=None, file=sys.stderr)

    def epoch(self, step: int, metrics) -> bool:
        if step > 0:
            self.bar.update(1)
            shown = {k: f"{v:.4g}" for k, v in metrics.items() if k.startswith("val/")}
            self.bar.set_postfix(shown, refresh=False)
        return self.inner.epoch(step, metrics)

    def close(self) -> None:
        self.bar.close()


def prepare(cfg, groups: dict[str, Any]):
    """Everything that can fail on bad input, before any run exists: data, model, store."""
    data_cfg = asdict(groups["data"])
    name = data_cfg.pop("name")
    data = load_dataset(name, seed=cfg.seed, dtype=groups["model"].dtype, **data_cfg)
    model = build_model(groups["model"], data, stream(cfg.seed, "init"))
    tracker = Tracker.from_config(groups["tracking"])
    experiment = groups["tracking"].experiment or cfg.name
    tracker.experiment_id(experiment)
    return data, model, tracker, experiment


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


def run_train(cfg, groups: dict[str, Any], command: str) -> TrainOutcome:
    """Train ``cfg``'s network and log the run: params = flattened config; tags = provenance;
    per-epoch metrics; final val/test metrics; artifacts = config, weights, learning curve."""
    data, model, tracker, experiment = prepare(cfg, groups)
    regime = groups["regime"]
    run_name = f"{cfg.model.name}-{cfg.data.name}-{regime.name}-seed{cfg.seed}"
    tags = {"study.kind": "train", "seed": cfg.seed, **provenance_tags(tracker.store.root, command)}
    tracking = groups["tracking"]
    with tracker.run(experiment, run_name, tags=tags) as run:
        run.log_params(flatten(cfg))
        run.log_text(to_yaml(cfg), "config.yaml")
        progress = ProgressReporter(RunReporter(run), regime.epochs, run_name)
        try:
            result = fit_model(model, regime, data, progress, seed=cfg.seed)
        finally:
            progress.close()
        run.log_metrics(final_metrics(result), step=result.epochs)
        run.set_tags(
            {"fit.status": result.status, "fit.epochs": result.epochs, "fit.reason": result.reason}
        )
        if tracking.log_weights:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "weights.npz"
                np.savez(path, **model.state_dict())
                run.log_artifact(path)
        if tracking.log_figure and result.history:
            from research.report.curves import close, learning_curve_figure

            fig = learning_curve_figure(result.history, run_name)
            run.log_figure(fig, "learning_curve.png")
            close(fig)
        if result.diverged:
            run.end("FAILED", result.reason)
    return TrainOutcome(result, run.run_id, experiment, tracker.store.tracking_uri)
