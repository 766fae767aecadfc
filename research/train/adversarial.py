"""Adversarial training of a GAN (:class:`research.nn.gan.GAN`): alternating steps, ``d_steps``
discriminator updates per generator update, each net with its own optimiser and rate.

Both optimisers are the regime's (``regime=adam`` and its betas apply to both), built over
each net's own flat vector; the rates are the model's ``d_lr`` and ``g_lr``, scaled by the
regime's schedule (its lr at the step divided by ``regime.lr``). The regime's l1/l2 and
``clip_norm`` act on each net's gradient. Early stopping is not applied: neither cost is a
measure of progress for a GAN; the reporter can still stop a fit (pruning).

"""

from __future__ import annotations

import math
import time

import numpy as np

from research.data.dataset import Dataset
from research.errors import ConfigError
from research.train.base import build_optimiser
from research.train.regularisers import add_penalty_grad, clip_grad_norm
from research.train.result import DIVERGED, FINISHED, STOPPED, FitResult, derived_stream
from research.train.schedules import build_schedule

#: this loop's random streams (spawn keys 10.., after research.train.result's STREAMS)
STREAMS = ("shuffle", "noise", "d_optimiser", "g_optimiser")


def _stream(seed: int, name: str) -> np.random.Generator:
    return derived_stream(seed, 10 + STREAMS.index(name))


def check_adversarial(model, regime, data: Dataset) -> None:
    """One-line errors before training: labels to condition on, a gradient regime."""
    if data.kind != "classification":
        raise ConfigError(
            f"a GAN needs class labels to condition on: data={data.name} is a regression data set"
        )
    probe = build_optimiser(regime, 1, model.dtype, np.random.default_rng(0))
    if not probe.needs_grad:
        raise ConfigError(
            f"regime={regime.name} is not allowed for a GAN: it trains by gradients "
            "(choose a gradient regime: sgd, momentum, adam, ...)"
        )


class _Net:
    """One side of the game: its parameters, optimiser and regime's penalties."""

    def __init__(self, stack, lr: float, regime, n: int, rng) -> None:
        self.stack, self.lr, self.n = stack, lr, n
        self.optimiser = build_optimiser(regime, stack.layout.size, stack.layout.dtype, rng)
        self.l1, self.l2, self.clip = regime.l1, regime.l2, regime.clip_norm

    def step(self, scale: float) -> None:
        s = self.stack
        if self.l1 or self.l2:
            add_penalty_grad(s.grad, s.theta, s.decay_mask, self.l1, self.l2, self.n)
        if self.clip is not None:
            clip_grad_norm(s.grad, self.clip)
        self.optimiser.step(s.theta, s.grad, self.lr * scale)


class _Game:
    """The epochs of alternating D/G steps; the epoch's mean costs."""

    def __init__(self, model, regime, data: Dataset, seed: int) -> None:
        self.model, self.regime, self.data = model, regime, data
        n = len(data.x_train)
        self.d = _Net(model.D, model.d_lr, regime, n, _stream(seed, "d_optimiser"))
        self.g = _Net(model.G, model.g_lr, regime, n, _stream(seed, "g_optimiser"))
        self.schedule = build_schedule(regime.schedule, regime.lr)
        self.shuffle, self.noise = _stream(seed, "shuffle"), _stream(seed, "noise")
        self.update = 0

    def epoch(self, epoch: int) -> dict[str, float] | str:
        """One pass over the training set: the epoch's d/loss and g/loss, or why it diverged."""
        model, x, labels = self.model, self.data.x_train, self.data.y_train
        n = len(x)
        batch = min(self.regime.batch_size, n)
        perm = self.shuffle.permutation(n)
        d_sum = g_sum = 0.0
        d_count = g_count = 0
        for start in range(0, n, batch):
            scale = self.schedule.lr(epoch - 1, self.update) / self.regime.lr
            idx = perm[start : start + batch]
            y = model.onehot(labels[idx])
            d_loss = model.d_loss_and_grad(x[idx], y, model.noise(len(idx), self.noise))
            if not math.isfinite(d_loss):
                return f"d/loss became {d_loss} at epoch {epoch}, update {self.update}"
            self.d.step(scale)
            d_sum, d_count = d_sum + d_loss, d_count + 1
            self.update += 1
            if d_count % model.d_steps == 0:
                g_loss = model.g_loss_and_grad(y, model.noise(len(idx), self.noise))
                if not math.isfinite(g_loss):
                    return f"g/loss became {g_loss} at epoch {epoch}, update {self.update}"
                self.g.step(scale)
                g_sum, g_count = g_sum + g_loss, g_count + 1
        if not (np.all(np.isfinite(model.D.theta)) and np.all(np.isfinite(model.G.theta))):
            return f"weights became non-finite at epoch {epoch}"
        return {"d/loss": d_sum / d_count, "g/loss": g_sum / max(g_count, 1)}


def fit_adversarial(model, regime, data: Dataset, reporter, *, seed: int = 0) -> FitResult:
    """Train the GAN ``model`` on ``data``; report ``d/loss``, ``g/loss`` and the model's
    validation metrics (``model.evaluate``) every epoch, the untrained nets at step 0.
    Its status is finished, stopped or diverged."""
    check_adversarial(model, regime, data)
    started = time.perf_counter()
    history: list[dict[str, float]] = []

    def report(step: int, metrics: dict[str, float]) -> bool:
        history.append({"epoch": float(step), **metrics})
        return bool(reporter.epoch(step, metrics))

    def result(status: str, reason: str, epochs: int) -> FitResult:
        final = {**model.evaluate(data, "val"), **model.evaluate(data, "test")}
        seconds = time.perf_counter() - started
        return FitResult(model, status, reason, epochs, final, history, None, seconds)

    with np.errstate(all="ignore"):
        if report(0, model.evaluate(data, "val")):
            return result(STOPPED, getattr(reporter, "reason", "stopped by the reporter"), 0)
        game = _Game(model, regime, data, seed)
        for epoch in range(1, regime.epochs + 1):
            t0 = time.perf_counter()
            costs = game.epoch(epoch)
            if isinstance(costs, str):
                return result(DIVERGED, costs, epoch - 1)
            metrics = {**costs, **model.evaluate(data, "val")}
            metrics["time/epoch"] = time.perf_counter() - t0
            if report(epoch, metrics):
                return result(STOPPED, "stopped by the reporter", epoch)
    return result(FINISHED, f"ran {regime.epochs} epochs", regime.epochs)
