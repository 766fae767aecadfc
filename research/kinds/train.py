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
from research.report.reconstructions import RECONSTRUCTIONS, reconstruction_figure
from research.report.samples import SAMPLES, samples_figure
from research.track import RunReporter, Tracker
from research.track import tags as T
from research.track.links import link_line
from research.track.params import flatten, to_yaml
from research.track.provenance import provenance_tags
from research.train import FitResult, fit_model, prepare
from research.train.fit import DIVERGED, EARLY_STOPPED, FINISHED

#: the artifact holding a run's trained network (a trial's too, when it ran to its end)
WEIGHTS = "weights.npz"

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
    "val/recon",  # an autoencoder's reconstruction error
    "train/recon",
    "test/recon",
    # a conditional GAN's costs, and on a mixture with known modes (ring8) its sample quality
    *(f"{split}/{m}" for split in ("val", "test") for m in ("d_loss", "g_loss")),
    *(
        f"{split}/{m}"
        for split in ("val", "test")
        for m in ("modes", "high_quality", "cond_acc", "min_mode_share")
    ),
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

    def run(
        self,
        cfg,
        groups: dict[str, Any],
        args: list[str],
        command: str,
        *,
        parent=None,
        run_name: str | None = None,
        tags: dict[str, Any] | None = None,
    ) -> Outcome:
        """Train ``cfg``'s network and log the run: params = flattened config; tags =
        provenance; per-epoch metrics; final val/test metrics; artifacts = config, weights,
        learning curve. A job of a sweep (``-m``) is the child of the sweep's ``parent`` run,
        named ``run_name``, with extra ``tags``, and ends with one line."""
        # bad input fails here, before any run exists
        data, model = prepare(groups["data"], groups["model"], cfg.seed)
        tracking, regime = groups["tracking"], groups["regime"]
        tracker = Tracker.from_config(tracking)
        experiment = tracking.experiment or cfg.name
        tracker.experiment_id(experiment)
        run_name = run_name or _default_name(cfg, groups)
        all_tags = {T.STUDY_KIND: "train", T.SEED: cfg.seed, **(tags or {})}
        all_tags.update(provenance_tags(tracker.store.root, command))
        with tracker.run(experiment, run_name, parent=parent, tags=all_tags) as run:
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
            _log_outputs(run, tracking, model, result, run_name, data)
            if result.diverged:
                run.end("FAILED", result.reason)
        status = 1 if result.diverged else 0
        if parent is not None:
            return Outcome([_job_line(result, run.run_id)], status)
        link = link_line(tracker.store, tracker.experiment_id(experiment), run.run_id)
        return Outcome(_summary(result, run.run_id, experiment, link), status)

    def run_in_trial(
        self, cfg, groups: dict[str, Any], run, report: StepReport, *, seeds: int = 1
    ) -> InRunResult:
        """Train in the trial's run; each epoch is logged and offered to the pruner.

        With ``seeds`` > 1 (``study.seeds_per_trial``) a trial that ran to its end is trained
        again at :func:`repeat_seeds`, each with its own validation split and initialisation,
        and its final metrics are the means: less validation noise in what the search ranks,
        for ``seeds`` times the cost of a completed trial (a pruned one costs the same). The
        pruner, the logged curves, the weights and the figures are the first seed's."""
        data, model = prepare(groups["data"], groups["model"], cfg.seed)
        started = time.perf_counter()
        result = fit_model(model, groups["regime"], data, _Pruned(run, report), seed=cfg.seed)
        metrics = dict(result.metrics)
        if seeds > 1 and result.status in (FINISHED, EARLY_STOPPED):
            repeated = _mean_over_seeds(cfg, groups, result, seeds, run)
            if isinstance(repeated, str):
                return InRunResult(metrics, result.epochs, repeated, {"fit.status": DIVERGED})
            metrics = repeated
        metrics["n_params"] = float(model.n_params)
        metrics["time/fit"] = time.perf_counter() - started
        run.log_metrics(metrics, step=result.epochs)
        if result.status in (FINISHED, EARLY_STOPPED):  # a trial that may be the best keeps
            if groups["tracking"].log_weights:  # its network and what it produces
                _log_weights(run, model)
            if groups["tracking"].log_figure:
                _log_productions(run, model, data, _default_name(cfg, groups))
        tags = {"fit.status": result.status, "fit.epochs": result.epochs}
        failed = result.reason if result.diverged else None
        return InRunResult(metrics, result.epochs, failed, tags, reason=result.reason)


#: seed r of a trial trained at several seeds is ``seed + REPEAT_STRIDE * r``: far from the
#: small seeds (1, 2, 3) a chosen config is retrained at, so no retrain repeats a network the
#: search already scored
REPEAT_STRIDE = 1000


def repeat_seeds(seed: int, seeds: int) -> list[int]:
    """The training seeds of a trial scored at ``seeds`` seeds (the first is its own)."""
    return [seed + REPEAT_STRIDE * r for r in range(seeds)]


def _mean_over_seeds(cfg, groups, first: FitResult, seeds: int, run) -> dict[str, float] | str:
    """The mean of each final metric of ``first`` and of the same config trained at the other
    :func:`repeat_seeds`; each seed's values are logged as ``seed/<metric>`` at step = its
    index. A seed that diverges fails the trial: the reason (a str) is returned."""
    runs = [first.metrics]
    for seed in repeat_seeds(cfg.seed, seeds)[1:]:
        data, model = prepare(groups["data"], groups["model"], seed)
        result = fit_model(model, groups["regime"], data, seed=seed)
        if result.diverged:
            return f"seed {seed} of {seeds}: {result.reason}"
        runs.append(result.metrics)
    for r, values in enumerate(runs):
        run.log_metrics({f"seed/{k}": v for k, v in values.items()}, step=r)
    keys = [k for k in first.metrics if all(k in values for values in runs)]
    return {k: float(np.mean([values[k] for values in runs])) for k in keys}


def _log_weights(run, model) -> None:
    """``weights.npz``: the network's ``state_dict`` (load with ``allow_pickle=False``)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / WEIGHTS
        np.savez(path, **model.state_dict())
        run.log_artifact(path)


def _log_outputs(run, tracking, model, result: FitResult, run_name: str, data) -> None:
    if tracking.log_weights:
        _log_weights(run, model)
    if tracking.log_figure and result.history:
        fig = learning_curve_figure(result.history, run_name)
        run.log_figure(fig, "learning_curve.png")
        close(fig)
    if tracking.log_figure:
        _log_productions(run, model, data, title=run_name)


def _log_productions(run, model, data, title: str) -> None:
    """What the network produces, as figures: an autoencoder (it has ``corrupt``) eight
    validation examples, corrupted, reconstructed; a conditional GAN (it has ``sample``)
    generated examples of every class. Other models log nothing (no cost)."""
    if not len(data.x_val):
        return
    if hasattr(model, "corrupt"):
        fig = reconstruction_figure(model, data.x_val[:8], np.random.default_rng(0), title)
        run.log_figure(fig, RECONSTRUCTIONS)
        close(fig)
    if hasattr(model, "sample"):
        rng = np.random.default_rng(0)
        fig = samples_figure(model, data.x_val, data.n_classes, rng, title)
        run.log_figure(fig, SAMPLES)
        close(fig)


def _default_name(cfg, groups: dict[str, Any]) -> str:
    """A run's name unless its caller gives one: model, data, regime and seed."""
    return f"{cfg.model.name}-{cfg.data.name}-{groups['regime'].name}-seed{cfg.seed}"


def _job_line(r: FitResult, run_id: str) -> str:
    """A sweep job's one line: how it ended, its validation metrics, its run."""
    shown = "  ".join(f"{k} {v:.4g}" for k, v in sorted(r.metrics.items()) if k.startswith("val/"))
    return f"{r.status} after {r.epochs} epochs: {shown}  (run {run_id})"


def _summary(r: FitResult, run_id: str, experiment: str, link: str) -> list[str]:
    shown = "  ".join(f"{k} {v:.4g}" for k, v in sorted(r.metrics.items()))
    return [
        f"{r.status} after {r.epochs} epochs ({r.seconds:.1f} s of training): {r.reason}",
        f"  {shown}",
        f"MLflow run {run_id} in experiment {experiment!r}",
        link,
    ]


KIND = TrainKind()
