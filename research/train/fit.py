"""The training loop: one network, one regime, per-epoch reports.

``fit`` knows nothing of MLflow, Optuna or DEAP. It reports each epoch's metrics to a
:class:`Reporter`, which logs them and may answer "stop" (pruning). A NaN/inf loss ends the
fit as *diverged* with the reason, never as an exception.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from research.data.dataset import Dataset
from research.errors import ConfigError
from research.nn.build import build_model
from research.nn.layout import FlatModel
from research.train.adversarial import fit_adversarial
from research.train.base import build_optimiser
from research.train.early_stopping import EarlyStopping
from research.train.regime import RegimeConfig
from research.train.regularisers import add_penalty_grad, clip_grad_norm
from research.train.result import (
    DIVERGED,
    EARLY_STOPPED,
    FINISHED,
    STOPPED,
    STREAMS,
    FitResult,
    NullReporter,
    Reporter,
    stream,
)
from research.train.schedules import build_schedule

EVAL_CHUNK = 4096


def evaluate(
    model, data: Dataset, split: str, targets: np.ndarray | None = None
) -> dict[str, float]:
    """Eval-mode loss and accuracy (classification) or RMSE (regression) on ``split``; a
    model with its own objective (an autoencoder's reconstruction) gives its own metrics
    through ``model.evaluate(data, split)``."""
    own = getattr(model, "evaluate", None)
    if own is not None:
        return own(data, split)
    x = getattr(data, f"x_{split}")
    y = getattr(data, f"y_{split}")
    if len(x) == 0:
        return {}
    t = data.targets(y, model.dtype) if targets is None else targets
    out = model.predict(x, chunk=EVAL_CHUNK)
    loss = _mean_loss(model, x, t, out)
    metrics = {f"{split}/loss": loss}
    if data.kind == "classification":
        metrics[f"{split}/acc"] = float(np.mean(np.argmax(out, axis=1) == y))
    else:
        metrics[f"{split}/rmse"] = float(np.sqrt(np.mean((out - t) ** 2)))
    return metrics


def _mean_loss(model, x: np.ndarray, t: np.ndarray, out: np.ndarray) -> float:
    """Mean eval-mode loss over ``x`` in chunks of ``EVAL_CHUNK``. A model whose loss is the
    cost of its forward pass is scored on ``out`` (its predictions, made in the same chunks):
    the same numbers without a second forward pass, which was a third of a search's time."""
    plain = type(model).loss is FlatModel.loss
    total = 0.0
    for start in range(0, len(x), EVAL_CHUNK):
        end = start + EVAL_CHUNK
        xb, tb = x[start:end], t[start:end]
        tb = tb if tb.dtype == model.dtype else tb.astype(model.dtype)
        loss = model.cost.value(out[start:end], tb) if plain else model.loss(xb, tb)
        total += loss * len(xb)
    return total / len(x)


def fit(
    model: Any,
    regime: RegimeConfig,
    data: Dataset,
    reporter: Reporter | None = None,
    *,
    seed: int = 0,
) -> FitResult:
    """Build the network of the model group ``model`` for ``data`` and train it with the
    regime group ``regime`` (both validated schema objects). ``seed`` drives the initial
    weights, shuffling, dropout and stochastic steps through separate streams."""
    net = build_model(model, data, stream(seed, "init"))
    return fit_model(net, regime, data, reporter, seed=seed)


def fit_model(
    model,
    regime: RegimeConfig,
    data: Dataset,
    reporter: Reporter | None = None,
    *,
    seed: int = 0,
) -> FitResult:
    """Train ``model`` on ``data`` with ``regime``; report every epoch to ``reporter``.

    Mini-batches are gathered by index from a fresh permutation each epoch (the data set is
    never copied). Step 0 reports the untrained network. ``train/loss`` is the eval-mode loss
    at the epoch's end when ``regime.eval_train``, else the mean of the mini-batch losses.
    """
    reporter = reporter or NullReporter()
    if getattr(model, "adversarial", False):  # a GAN: alternating D/G steps, its own loop
        return fit_adversarial(model, regime, data, reporter, seed=seed)
    rngs = {name: stream(seed, name) for name in STREAMS}
    started = time.perf_counter()
    x, y = data.x_train, data.y_train
    # what the loss compares outputs with: the labels, or the inputs for an autoencoder
    own = getattr(model, "fit_targets", None)
    targets = own(data) if own is not None else data.targets(y, model.dtype)
    n = len(x)
    if n == 0:
        raise ConfigError("data has no training examples")
    model.prepare(x, targets, rngs["prepare"])

    history: list[dict[str, float]] = []

    def report(step: int, metrics: dict[str, float]) -> bool:
        history.append({"epoch": float(step), **metrics})
        return bool(reporter.epoch(step, metrics))

    def result(status: str, reason: str, epochs: int, best: int | None = None) -> FitResult:
        final = {**evaluate(model, data, "val"), **evaluate(model, data, "test")}
        return FitResult(
            model, status, reason, epochs, final, history, best, time.perf_counter() - started
        )

    with np.errstate(all="ignore"):
        first = {**evaluate(model, data, "train", targets), **evaluate(model, data, "val")}
        if not model.trains_by_gradient or regime.epochs == 0:
            report(0, first)
            return result(FINISHED, "no gradient training for this model/regime", 0)
        stop = report(0, first)
        if stop:
            return result(STOPPED, getattr(reporter, "reason", "stopped by the reporter"), 0)
        return _train(model, regime, data, targets, rngs, report, result)


def _train(model, regime, data, targets, rngs, report, result) -> FitResult:
    """The epochs of a gradient or stochastic regime (step 0 is reported already)."""
    run = _Epochs(model, regime, data, targets, rngs)
    es = regime.early_stopping
    stopper = (
        None
        if es.patience is None
        else EarlyStopping(es.monitor, es.mode, es.patience, es.min_delta)
    )
    best_state: dict[str, np.ndarray] | None = None
    for epoch in range(1, regime.epochs + 1):
        t0 = time.perf_counter()
        diverged = run.epoch(epoch)
        if diverged:
            return result(DIVERGED, diverged, epoch - 1)
        metrics = run.metrics(t0)
        bad = [k for k, v in metrics.items() if not math.isfinite(v)]
        if bad:
            report(epoch, metrics)
            return result(DIVERGED, f"{bad[0]} became {metrics[bad[0]]} at epoch {epoch}", epoch)
        run.schedule.observe(metrics.get("val/loss", metrics["train/loss"]))
        stop = report(epoch, metrics)
        if stopper is not None:
            improved_before = stopper.best_epoch
            if stopper.update(metrics, epoch):
                if es.restore_best and best_state is not None:
                    model.load_state_dict(best_state)
                return result(EARLY_STOPPED, stopper.reason, epoch, stopper.best_epoch)
            if es.restore_best and stopper.best_epoch != improved_before:
                best_state = model.state_dict()
        if stop:
            return result(STOPPED, "stopped by the reporter", epoch)
    best = stopper.best_epoch if stopper is not None else None
    if stopper is not None and es.restore_best and best_state is not None:
        model.load_state_dict(best_state)
    return result(FINISHED, f"ran {regime.epochs} epochs", regime.epochs, best)


class _Epochs:
    """One regime's optimiser and schedule over one model: an epoch of mini-batch steps, then
    the epoch's metrics. Hot-loop names are bound once, here."""

    def __init__(self, model, regime, data, targets, rngs) -> None:
        self.model, self.regime, self.data, self.targets = model, regime, data, targets
        self.optimiser = build_optimiser(regime, model.n_params, model.dtype, rngs["optimiser"])
        self.schedule = build_schedule(regime.schedule, regime.lr)
        self.shuffle, self.noise = rngs["shuffle"], rngs["noise"]
        self.backup = np.empty_like(model.theta)
        self.update = 0
        self.lr = 0.0
        self.loss_sum = 0.0

    def epoch(self, epoch: int) -> str | None:
        """Run one epoch's mini-batches; the reason if the loss or weights diverged."""
        model, regime, optimiser = self.model, self.regime, self.optimiser
        x, targets, n = self.data.x_train, self.targets, len(self.data.x_train)
        theta, grad, mask = model.theta, model.grad, model.decay_mask
        batch = min(regime.batch_size, n)
        l1, l2, clip = regime.l1, regime.l2, regime.clip_norm
        needs_grad, needs_loss = optimiser.needs_grad, optimiser.needs_loss
        loss_and_grad, step, isfinite, noise = (
            model.loss_and_grad,
            optimiser.step,
            math.isfinite,
            self.noise,
        )
        perm = self.shuffle.permutation(n)
        self.loss_sum = 0.0
        lr = self.schedule.lr(epoch - 1, self.update)
        for start in range(0, n, batch):
            idx = perm[start : start + batch]
            xb, tb = x[idx], targets[idx]
            if needs_grad:
                loss = loss_and_grad(xb, tb, rng=noise)
                if isfinite(loss):
                    if l1 or l2:
                        add_penalty_grad(grad, theta, mask, l1, l2, n)
                    if clip is not None:
                        clip_grad_norm(grad, clip)
                    loss_fn = _loss_fn(model, xb, tb, self.backup) if needs_loss else None
                    step(theta, grad, lr, loss_fn)
            else:  # a stochastic step evaluates the mini-batch loss itself
                step(theta, None, lr, _loss_fn(model, xb, tb, self.backup))
                loss = optimiser.loss
            if not isfinite(loss):
                return f"train/loss became {loss} at epoch {epoch}, update {self.update}"
            self.loss_sum += loss * len(idx)
            self.update += 1
            lr = self.schedule.lr(epoch - 1, self.update)
        self.lr = lr
        if not np.all(np.isfinite(theta)):
            return f"weights became non-finite at epoch {epoch}"
        return None

    def metrics(self, started: float) -> dict[str, float]:
        """The epoch's metrics: train (eval-mode, or the mean mini-batch loss), val, lr, time."""
        model, data = self.model, self.data
        metrics = (
            evaluate(model, data, "train", self.targets)
            if self.regime.eval_train
            else {"train/loss": self.loss_sum / len(data.x_train)}
        )
        metrics.update(evaluate(model, data, "val"))
        metrics["lr"] = self.lr
        metrics["time/epoch"] = time.perf_counter() - started
        return metrics


def _loss_fn(model, xb, tb, backup):
    """Loss of the current mini-batch at candidate weights (for the stochastic regimes)."""
    theta = model.theta

    def loss_at(candidate: np.ndarray) -> float:
        if candidate is theta:
            return model.loss(xb, tb)
        backup[...] = theta
        theta[...] = candidate
        try:
            return model.loss(xb, tb)
        finally:
            theta[...] = backup

    return loss_at
