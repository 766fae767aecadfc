"""Stochastic training regimes: simulated annealing of the weights (Wasserman, *Neural
Computing*, 1989; Szu & Hartley 1987).

Each step perturbs ``theta`` at random, evaluates the loss of the current mini-batch (or full
batch) before and after with ``loss_fn``, and keeps the change by the Metropolis rule: always
if the loss falls (dE <= 0), else with probability exp(-dE / (k T)). The temperature T(t)
falls with the update count t, so uphill moves that let the search escape local minima become
rarer as training goes on.

Conventions shared by all three regimes:

* t is the 1-based index of the update being made (t = 1 on the first step), so the
  Boltzmann schedule t0 / ln(1 + t) starts at t0 / ln 2 and never divides by ln 1 = 0.
* The perturbation is made in ``theta`` itself (after copying it to a preallocated backup)
  and undone by copying back when rejected, so ``loss_fn`` is always called with ``theta``:
  exactly two loss evaluations per step (current and candidate). The current loss is not
  cached between steps because the mini-batch changes every step.
* All randomness comes from the generator passed to ``__init__``; :meth:`state_dict` carries
  its state, so a resumed run draws the same numbers.

The classes register themselves, with their regime schemas, in
:data:`research.train.base.OPTIMISERS`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import DTypeLike

from research import schema as S
from research.train.base import OPTIMISERS, LossFn, Optimiser
from research.train.regime import RegimeConfig


@dataclass
class AnnealingRegime(RegimeConfig):
    """What every annealing regime adds: the start temperature ``t0`` and the constant ``k``."""

    t0: float = 1.0
    k: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        S.positive("t0", self.t0)
        S.positive("k", self.k)


@dataclass
class BoltzmannRegime(AnnealingRegime):
    """Boltzmann training: Gaussian weight perturbations accepted by the Metropolis rule."""

    name: str = "boltzmann"
    lr: float = 0.05
    batch_size: int = 256


@dataclass
class CauchyRegime(BoltzmannRegime):
    """Cauchy training: heavy-tailed perturbations, fast T0/(1+t) annealing."""

    name: str = "cauchy"


@dataclass
class CauchyBackpropRegime(AnnealingRegime):
    """Wasserman's hybrid: a ``mix`` of a Cauchy step and a backprop step (the base regime's
    ``lr`` and ``batch_size``)."""

    name: str = "cauchy_backprop"
    mix: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        S.fraction("mix", self.mix, closed=True)


def metropolis(delta: float, kT: float, rng: np.random.Generator) -> bool:
    """The Metropolis rule: accept a change of loss ``delta`` (dE) at temperature ``kT``.

    Always accepts dE <= 0 (exp(0) = 1, so ties are kept, and no random number is drawn);
    accepts dE > 0 with probability exp(-dE / (k T)); rejects a NaN or infinite dE.
    """
    if delta <= 0.0:
        return True
    if not delta < math.inf:  # NaN or +inf: a candidate whose loss is not finite
        return False
    return rng.random() < math.exp(-delta / kT)


class Annealing(Optimiser):
    """Base of the stochastic regimes: temperature schedule, backup buffer, Metropolis step.

    Subclasses implement :meth:`temperature` and :meth:`_perturb` (in place, into ``theta``).
    ``accepted`` counts accepted candidates; ``loss`` is the mini-batch loss at the weights the
    last step kept.
    """

    needs_grad: ClassVar[bool] = False
    needs_loss: bool = True
    _scalars = ("t", "accepted")
    _scratch = ("_noise", "_backup")

    def __init__(
        self,
        n_params: int,
        dtype: DTypeLike,
        rng: np.random.Generator,
        *,
        t0: float,
        k: float,
    ) -> None:
        super().__init__(n_params, dtype, rng)
        self.t0 = float(t0)
        self.k = float(k)
        self.accepted = 0
        self.loss = math.nan

    def temperature(self, t: int) -> float:
        """T at update ``t`` (1-based)."""
        raise NotImplementedError

    def _perturb(self, theta: np.ndarray, grad: np.ndarray | None, lr: float, T: float) -> None:
        raise NotImplementedError

    @property
    def acceptance_rate(self) -> float:
        """Fraction of steps whose candidate was accepted (NaN before the first step)."""
        return self.accepted / self.t if self.t else math.nan

    def step(
        self,
        theta: np.ndarray,
        grad: np.ndarray | None,
        lr: float,
        loss_fn: LossFn | None = None,
    ) -> None:
        """One Metropolis step: E0 = loss(theta); theta' = theta + perturbation;
        keep theta' if dE = loss(theta') - E0 passes :func:`metropolis` at k T(t). Where
        ``needs_loss`` is False (CauchyBackprop at mix = 0) theta' is always kept, unscored."""
        if loss_fn is None and self.needs_loss:
            raise TypeError(
                f"{type(self).__name__} needs loss_fn (the loss of the current mini-batch)"
            )
        t = self.t = self.t + 1
        T = self.temperature(t)
        if not self.needs_loss:
            self._perturb(theta, grad, lr, T)
            self.accepted += 1
            return
        e0 = loss_fn(theta)
        backup = self._backup
        np.copyto(backup, theta)
        self._perturb(theta, grad, lr, T)
        e1 = loss_fn(theta)
        if metropolis(e1 - e0, self.k * T, self.rng):
            self.accepted += 1
            self.loss = e1
        else:
            np.copyto(theta, backup)
            self.loss = e0

    def state_dict(self) -> dict[str, Any]:
        """Counters, plus the generator's state as a JSON string (so ``np.savez`` can store it
        and a resumed run continues the same random sequence)."""
        state = super().state_dict()
        state["rng"] = json.dumps(self.rng.bit_generator.state)
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore counters and the generator's state (``rng`` may be a 0-d array from
        ``np.load``)."""
        super().load_state_dict(state)
        rng_state = state["rng"]
        self.rng.bit_generator.state = json.loads(str(np.asarray(rng_state)))


@OPTIMISERS.register("boltzmann", schema=BoltzmannRegime)
class Boltzmann(Annealing):
    """Boltzmann training: Gaussian perturbations, logarithmic (Geman & Geman) cooling.

        T(t) = t0 / ln(1 + t)            (t = 1, 2, ...; T(1) = t0 / ln 2)
        theta' = theta + T * eta * N(0, I)

    accepted by the Metropolis rule with Boltzmann constant k. The slow cooling is the one
    proved to reach a global minimum, which is also why Boltzmann training is slow.
    """

    def temperature(self, t: int) -> float:
        return self.t0 / math.log1p(t)

    def _perturb(self, theta: np.ndarray, grad: np.ndarray | None, lr: float, T: float) -> None:
        noise = self._noise
        self.rng.standard_normal(dtype=self.dtype, out=noise)
        noise *= T * lr
        theta += noise


class _CauchySteps(Annealing):
    """Shared by the Cauchy regimes: fast cooling and clipped heavy-tailed steps."""

    #: |Cauchy(0, 1)| draws are clipped to this, so a draw of u = 0 (tan(-pi/2)) cannot give
    #: an infinite or ~1e16 step; P(|C| > 1000) = 6.4e-4, so the heavy tail is kept.
    TAIL_CLIP: ClassVar[float] = 1000.0

    def temperature(self, t: int) -> float:
        """T(t) = t0 / (1 + t), Szu & Hartley's fast schedule."""
        return self.t0 / (1.0 + t)

    def _cauchy(self, scale: float) -> np.ndarray:
        """scale * Cauchy(0, 1) per weight, drawn as tan(pi * (u - 1/2)), u ~ U[0, 1), and
        clipped to +-TAIL_CLIP; returned in the (reused) noise buffer."""
        noise = self._noise
        self.rng.random(dtype=self.dtype, out=noise)
        noise -= 0.5
        noise *= math.pi
        np.tan(noise, noise)
        np.clip(noise, -self.TAIL_CLIP, self.TAIL_CLIP, noise)
        noise *= scale
        return noise


@OPTIMISERS.register("cauchy", schema=CauchyRegime)
class Cauchy(_CauchySteps):
    """Cauchy training (Szu & Hartley 1987): heavy-tailed steps permit fast cooling.

        T(t) = t0 / (1 + t)              (t = 1, 2, ...)
        theta' = theta + eta * T * Cauchy(0, 1)   per weight (clipped tails, see TAIL_CLIP)

    accepted by the Metropolis rule. Occasional huge steps keep exploring even when T is small.
    """

    def _perturb(self, theta: np.ndarray, grad: np.ndarray | None, lr: float, T: float) -> None:
        theta += self._cauchy(lr * T)


@OPTIMISERS.register("cauchy_backprop", schema=CauchyBackpropRegime)
class CauchyBackprop(_CauchySteps):
    """Wasserman's hybrid of backpropagation and Cauchy training:

        theta' = theta - (1 - mix) * eta * g + mix * eta * T * Cauchy(0, 1),  T = t0 / (1 + t)

    accepted by the Metropolis rule on the mini-batch loss. ``mix`` in [0, 1] is the mixing
    coefficient: 1 is pure Cauchy training, 0 pure gradient descent. With mix = 0 the step is
    always accepted and ``loss_fn`` is not called (``needs_loss`` is False): the Metropolis
    test would otherwise veto the uphill mini-batch steps that make SGD work, which is not
    gradient descent at all.
    """

    needs_grad: ClassVar[bool] = True
    _scratch = (*_CauchySteps._scratch, "_tmp")

    def __init__(
        self,
        n_params: int,
        dtype: DTypeLike,
        rng: np.random.Generator,
        *,
        t0: float,
        k: float,
        mix: float,
    ) -> None:
        super().__init__(n_params, dtype, rng, t0=t0, k=k)
        self.mix = float(mix)
        self.needs_loss = self.mix > 0.0

    def _perturb(self, theta: np.ndarray, grad: np.ndarray | None, lr: float, T: float) -> None:
        tmp = self._tmp
        np.multiply(grad, (1.0 - self.mix) * lr, tmp)
        theta -= tmp
        if self.mix > 0.0:  # with mix = 0 plain gradient descent: no Cauchy draw
            theta += self._cauchy(self.mix * lr * T)
