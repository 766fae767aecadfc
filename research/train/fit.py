"""The training loop: one network, one regime, per-epoch reports.

``fit`` knows nothing of MLflow, Optuna or DEAP. It reports each epoch's metrics to a
:class:`Reporter`, which logs them and may answer "stop" (pruning). A NaN/inf loss ends the
fit as *diverged* with the reason, never as an exception.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from research.data.dataset import Dataset
from research.errors import ConfigError
from research.train.early_stopping import EarlyStopping
from research.train.optimisers import make_optimiser
from research.train.regularisers import add_penalty_grad, clip_grad_norm
from research.train.schedules import make_schedule

if TYPE_CHECKING:
    from research.config import RegimeConfig

EVAL_CHUNK = 4096

#: statuses of a fit, in the order a researcher reads them
FINISHED, EARLY_STOPPED, STOPPED, DIVERGED = "finished", "early_stopped", "stopped", "diverged"


class Reporter(Protocol):
    """Receives each epoch's metrics; returns True to stop training now."""

    def epoch(self, step: int, metrics: Mapping[str, float]) -> bool: ...


class NullReporter:
    def epoch(self, step: int, metrics: Mapping[str, float]) -> bool:  # noqa: ARG002
        return False


@dataclass(frozen=True)
class FitResult:
    """What a fit produced. ``metrics`` are the final ones (``val/*``, ``test/*`` at the
    returned weights); ``history`` holds one dict per reported epoch."""

    model: Any
    status: str
    reason: str
    epochs: int
    metrics: dict[str, float]
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    seconds: float = 0.0

    @property
    def diverged(self) -> bool:
        return self.status == DIVERGED


#: one random stream per purpose, so that e.g. switching dropout on leaves the initial weights
STREAMS = ("init", "prepare", "shuffle", "noise", "optimiser")


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator for ``name``, derived from ``seed`` with ``SeedSequence`` (spawn key =
    the stream's index, as ``SeedSequence(seed).spawn`` would give)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAMS.index(name),)))


def evaluate(
    model, data: Dataset, split: str, targets: np.ndarray | None = None
) -> dict[str, float]:
    """Eval-mode loss and accuracy (classification) or RMSE (regression) on ``split``."""
    x = getattr(data, f"x_{split}")
    y = getattr(data, f"y_{split}")
    if len(x) == 0:
        return {}
    t = data.targets(y, model.dtype) if targets is None else targets
    out = model.predict(x, chunk=EVAL_CHUNK)
    loss = _mean_loss(model, x, t)
    metrics = {f"{split}/loss": loss}
    if data.kind == "classification":
        metrics[f"{split}/acc"] = float(np.mean(np.argmax(out, axis=1) == y))
    else:
        metrics[f"{split}/rmse"] = float(np.sqrt(np.mean((out - t) ** 2)))
    return metrics


def _mean_loss(model, x: np.ndarray, t: np.ndarray) -> float:
    total = 0.0
    for start in range(0, len(x), EVAL_CHUNK):
        xb, tb = x[start : start + EVAL_CHUNK], t[start : start + EVAL_CHUNK]
        total += model.loss(xb, tb) * len(xb)
    return total / len(x)


def fit(cfg, data: Dataset, reporter: Reporter | None = None) -> FitResult:
    """Build the network of ``cfg.model`` for ``data`` and train it with ``cfg.regime``.

    ``cfg`` is a composed root config (``research.config.compose``); ``cfg.seed`` drives the
    initial weights, shuffling, dropout and stochastic steps through separate streams.
    """
    from research.config import validate
    from research.nn.build import build_model

    groups = validate(cfg)
    model = build_model(groups["model"], data, stream(cfg.seed, "init"))
    return fit_model(model, groups["regime"], data, reporter, seed=cfg.seed)


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
    rngs = {name: stream(seed, name) for name in STREAMS}
    started = time.perf_counter()
    x, y = data.x_train, data.y_train
    targets = data.targets(y, model.dtype)
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
    x, n = data.x_train, len(data.x_train)
    theta, grad, mask = model.theta, model.grad, model.decay_mask
    from research.config import optimiser_params

    optimiser = make_optimiser(
        regime.name, model.n_params, model.dtype, rngs["optimiser"], **optimiser_params(regime)
    )
    schedule = make_schedule(regime.schedule.name, regime.lr, **_schedule_kwargs(regime))
    stopper = None
    es = regime.early_stopping
    if es.patience is not None:
        stopper = EarlyStopping(es.monitor, es.mode, es.patience, es.min_delta)
    best_state: dict[str, np.ndarray] | None = None
    shuffle, noise = rngs["shuffle"], rngs["noise"]
    batch = min(regime.batch_size, n)
    l1, l2, clip = regime.l1, regime.l2, regime.clip_norm
    needs_grad = optimiser.needs_grad
    needs_loss = optimiser.needs_loss
    loss_and_grad = model.loss_and_grad
    step = optimiser.step
    isfinite = math.isfinite
    backup = np.empty_like(theta)
    update = 0
    for epoch in range(1, regime.epochs + 1):
        t0 = time.perf_counter()
        perm = shuffle.permutation(n)
        loss_sum = 0.0
        lr = schedule.lr(epoch - 1, update)
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
                    step(theta, grad, lr, _loss_fn(model, xb, tb, backup) if needs_loss else None)
            else:  # a stochastic step evaluates the mini-batch loss itself
                step(theta, None, lr, _loss_fn(model, xb, tb, backup))
                loss = optimiser.loss
            if not isfinite(loss):
                return result(
                    DIVERGED,
                    f"train/loss became {loss} at epoch {epoch}, update {update}",
                    epoch - 1,
                )
            loss_sum += loss * len(idx)
            update += 1
            lr = schedule.lr(epoch - 1, update)
        if not np.all(np.isfinite(theta)):
            return result(DIVERGED, f"weights became non-finite at epoch {epoch}", epoch - 1)
        metrics = (
            evaluate(model, data, "train", targets)
            if regime.eval_train
            else {"train/loss": loss_sum / n}
        )
        metrics.update(evaluate(model, data, "val"))
        metrics["lr"] = lr
        metrics["time/epoch"] = time.perf_counter() - t0
        bad = [k for k, v in metrics.items() if not isfinite(v)]
        if bad:
            report(epoch, metrics)
            return result(DIVERGED, f"{bad[0]} became {metrics[bad[0]]} at epoch {epoch}", epoch)
        schedule.observe(metrics.get("val/loss", metrics["train/loss"]))
        stop = report(epoch, metrics)
        if stopper is not None:
            improved_before = stopper.best_epoch
            if stopper.update(metrics, epoch):
                best = stopper.best_epoch
                if es.restore_best and best_state is not None:
                    model.load_state_dict(best_state)
                return result(EARLY_STOPPED, stopper.reason, epoch, best)
            if es.restore_best and stopper.best_epoch != improved_before:
                best_state = model.state_dict()
        if stop:
            return result(STOPPED, "stopped by the reporter", epoch)
    best = stopper.best_epoch if stopper is not None else None
    if stopper is not None and es.restore_best and best_state is not None:
        model.load_state_dict(best_state)
    return result(FINISHED, f"ran {regime.epochs} epochs", regime.epochs, best)


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


def _schedule_kwargs(regime: RegimeConfig) -> dict[str, Any]:
    s = regime.schedule
    return {
        "constant": {},
        "inverse": {"decay": s.decay},
        "step": {"step_size": s.step_size, "gamma": s.gamma},
        "exponential": {"gamma": s.gamma},
        "plateau": {
            "factor": s.factor,
            "patience": s.patience,
            "min_delta": s.min_delta,
            "min_lr": s.min_lr,
        },
    }.get(s.name, {})
