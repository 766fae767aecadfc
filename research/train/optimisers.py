"""Gradient optimisers: update one flat parameter vector in place.

A network's parameters live in ONE contiguous 1-D array ``theta`` (float32 or float64) and the
gradient of the mini-batch loss in a same-shape array ``grad``. ``step`` updates ``theta`` in
place, never rebinding it: the layers' weight matrices are views into it. The step runs once per
mini-batch (5,000 times an epoch at batch size 10 on 50,000 examples), where numpy's per-call
overhead rivals the arithmetic, so every optimiser preallocates its state and scratch buffers in
``__init__`` and writes through ``out=`` / in-place operators; a plain SGD step is two numpy
calls.

Notation (the seed's): eta is the learning rate (``lr``, passed to every step so a schedule can
change it), mu the momentum coefficient (mu = 1 - friction), g the gradient, t the update count
(1 for the first update).

Each optimiser's regime schema (its hyperparameters, defaults and ranges, plus the defaults of
:class:`~research.train.regime.RegimeConfig` it changes) sits right above its class, and both
are registered together in :data:`~research.train.base.OPTIMISERS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import DTypeLike

from research import schema as S
from research.train.base import OPTIMISERS, Optimiser, hyperparameters, make_optimiser
from research.train.regime import RegimeConfig

__all__ = ["OPTIMISERS", "Optimiser", "hyperparameters", "make_optimiser"]


def _rate(key: str, value: float) -> None:
    """A decay rate or momentum coefficient: in [0, 1)."""
    S.require(0 <= value < 1, key, value, "must be in [0, 1)")


def _leaky_square(avg: np.ndarray, x: np.ndarray, scratch: np.ndarray, rate: float) -> None:
    """avg <- rate * avg + (1 - rate) * x^2, in place (``scratch`` is overwritten): the leaky
    average of squares that RMSprop, Adadelta and Adam keep."""
    avg *= rate
    np.multiply(x, x, scratch)
    scratch *= 1.0 - rate
    avg += scratch


@dataclass
class SGDRegime(RegimeConfig):
    name: str = "sgd"


@OPTIMISERS.register("sgd", schema=SGDRegime)
class SGD(Optimiser):
    """Plain gradient descent: theta <- theta - eta * g.

    Online, mini-batch and full-batch learning differ only in the caller's batch size.
    Two numpy calls: eta * g into a scratch buffer, then an in-place subtraction.
    """

    _scratch = ("_tmp",)

    def step(self, theta, grad, lr, loss_fn=None) -> None:  # types: Optimiser.step
        tmp = self._tmp
        np.multiply(grad, lr, tmp)
        theta -= tmp
        self.t += 1

    def _descend(self, theta: np.ndarray, step: np.ndarray, lr: float) -> None:
        """theta <- theta - eta * step (``step`` is scaled in place); one more update."""
        step *= lr
        theta -= step
        self.t += 1


@dataclass
class MomentumRegime(RegimeConfig):
    name: str = "momentum"
    lr: float = 0.05
    mu: float = 0.9

    def __post_init__(self) -> None:
        super().__post_init__()
        _rate("mu", self.mu)


@OPTIMISERS.register("momentum", schema=MomentumRegime)
class Momentum(SGD):
    """Momentum (Nielsen ch. 3): v <- mu * v - eta * g;  theta <- theta + v.

    mu = 1 - friction: mu = 0 is plain SGD (bit for bit), mu -> 1 lets the velocity v build
    up along directions where the gradient keeps its sign.
    """

    _arrays = ("v",)

    def __init__(
        self, n_params: int, dtype: DTypeLike, rng: np.random.Generator, *, mu: float
    ) -> None:
        super().__init__(n_params, dtype, rng)
        self.mu = float(mu)

    def step(self, theta, grad, lr, loss_fn=None) -> None:  # types: Optimiser.step
        v, tmp = self.v, self._tmp
        v *= self.mu
        np.multiply(grad, lr, tmp)
        v -= tmp
        theta += v
        self.t += 1


@dataclass
class NesterovRegime(MomentumRegime):
    name: str = "nesterov"


@OPTIMISERS.register("nesterov", schema=NesterovRegime)
class Nesterov(Momentum):
    """Nesterov momentum in the form that needs the gradient only at the stored parameters
    (Bengio 2012; Sutskever et al. 2013):

        v_prev = v;  v <- mu * v - eta * g;  theta <- theta - mu * v_prev + (1 + mu) * v

    Substituting v gives the same update as theta <- theta + mu * v - eta * g, which is what
    is computed (one scratch buffer, no copy of v_prev). Compared with classical momentum the
    step adds an extra mu * v "look-ahead": with a steady gradient it travels further, and when
    the gradient turns it brakes one step earlier.
    """

    def step(self, theta, grad, lr, loss_fn=None) -> None:  # types: Optimiser.step
        v, tmp, mu = self.v, self._tmp, self.mu
        np.multiply(grad, lr, tmp)  # tmp = eta * g
        v *= mu
        v -= tmp  # v = mu * v_prev - eta * g
        theta -= tmp
        np.multiply(v, mu, tmp)
        theta += tmp  # theta += mu * v - eta * g
        self.t += 1


@dataclass
class AdagradRegime(RegimeConfig):
    name: str = "adagrad"
    lr: float = 0.05
    eps: float = 1e-8

    def __post_init__(self) -> None:
        super().__post_init__()
        S.positive("eps", self.eps)


@OPTIMISERS.register("adagrad", schema=AdagradRegime)
class Adagrad(SGD):
    """Adagrad (Duchi et al. 2011): G <- G + g^2;  theta <- theta - eta * g / (sqrt(G) + eps).

    Each weight's effective rate eta / sqrt(G) falls as its squared gradients accumulate: as
    1 / sqrt(t) for a constant gradient. eps (> 0) keeps the first steps finite.
    """

    _arrays = ("G",)

    def __init__(
        self, n_params: int, dtype: DTypeLike, rng: np.random.Generator, *, eps: float
    ) -> None:
        super().__init__(n_params, dtype, rng)
        self.eps = float(eps)

    def step(self, theta, grad, lr, loss_fn=None) -> None:  # types: Optimiser.step
        G, tmp = self.G, self._tmp
        np.multiply(grad, grad, tmp)
        G += tmp
        self._rms_step(theta, grad, lr, G)

    def _rms_step(self, theta: np.ndarray, grad: np.ndarray, lr: float, sq: np.ndarray) -> None:
        """theta <- theta - eta * g / (sqrt(sq) + eps), ``sq`` the kept squares of g."""
        tmp = self._tmp
        np.sqrt(sq, tmp)
        tmp += self.eps
        np.divide(grad, tmp, tmp)
        self._descend(theta, tmp, lr)


@dataclass
class RMSpropRegime(RegimeConfig):
    name: str = "rmsprop"
    lr: float = 1e-3
    rho: float = 0.9
    eps: float = 1e-8

    def __post_init__(self) -> None:
        super().__post_init__()
        _rate("rho", self.rho)
        S.positive("eps", self.eps)


@OPTIMISERS.register("rmsprop", schema=RMSpropRegime)
class RMSprop(Adagrad):
    """RMSprop (Tieleman & Hinton 2012): Adagrad with a leaky average of g^2.

        E <- rho * E + (1 - rho) * g^2;  theta <- theta - eta * g / (sqrt(E) + eps)

    Forgetting old gradients (rho < 1) stops the effective rate from decaying to zero.
    """

    _arrays = ("E",)

    def __init__(
        self,
        n_params: int,
        dtype: DTypeLike,
        rng: np.random.Generator,
        *,
        rho: float,
        eps: float,
    ) -> None:
        super().__init__(n_params, dtype, rng, eps=eps)
        self.rho = float(rho)

    def step(self, theta, grad, lr, loss_fn=None) -> None:  # types: Optimiser.step
        _leaky_square(self.E, grad, self._tmp, self.rho)
        self._rms_step(theta, grad, lr, self.E)


@dataclass
class AdadeltaRegime(RMSpropRegime):
    name: str = "adadelta"
    lr: float = 1.0
    rho: float = 0.95
    eps: float = 1e-6


@OPTIMISERS.register("adadelta", schema=AdadeltaRegime)
class Adadelta(RMSprop):
    """Adadelta (Zeiler 2012, Algorithm 1), with eta scaling the step (eta = 1 is Zeiler's):

        Eg  <- rho * Eg + (1 - rho) * g^2
        dx   = -sqrt(Edx + eps) / sqrt(Eg + eps) * g
        Edx <- rho * Edx + (1 - rho) * dx^2
        theta <- theta + eta * dx

    RMSprop's leaky average of g^2 (and its hyperparameters), plus one of the steps: the ratio
    of RMS values gives the step the units of theta, so no global rate is needed; Edx
    accumulates the unscaled dx. eps sits inside the square roots, as in the paper.
    """

    _arrays = ("Eg", "Edx")
    _scratch = ("_tmp", "_tmp2")

    def step(self, theta, grad, lr, loss_fn=None) -> None:  # types: Optimiser.step
        Eg, Edx, tmp, tmp2 = self.Eg, self.Edx, self._tmp, self._tmp2
        rho, eps = self.rho, self.eps
        _leaky_square(Eg, grad, tmp, rho)
        np.add(Edx, eps, tmp)
        np.add(Eg, eps, tmp2)
        tmp /= tmp2
        np.sqrt(tmp, tmp)
        tmp *= grad  # tmp = -dx
        _leaky_square(Edx, tmp, tmp2, rho)
        self._descend(theta, tmp, lr)


@dataclass
class AdamRegime(RegimeConfig):
    name: str = "adam"
    lr: float = 1e-3
    batch_size: int = 64
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self) -> None:
        super().__post_init__()
        _rate("beta1", self.beta1)
        _rate("beta2", self.beta2)
        S.positive("eps", self.eps)


@OPTIMISERS.register("adam", schema=AdamRegime)
class Adam(SGD):
    """Adam (Kingma & Ba 2015, Algorithm 1), bias-corrected:

        m <- b1 * m + (1 - b1) * g;      v <- b2 * v + (1 - b2) * g^2
        mhat = m / (1 - b1^t);           vhat = v / (1 - b2^t)
        theta <- theta - eta * mhat / (sqrt(vhat) + eps)

    The correction undoes the zero initialisation of m and v, so the first step has size eta
    in every coordinate whatever the gradient's scale. Computed exactly (not with the paper's
    eps-hat shortcut) as eta * sqrt(c2) / c1 * m / (sqrt(v) + eps * sqrt(c2)), with
    c1 = 1 - b1^t and c2 = 1 - b2^t, which saves two passes over the arrays.
    """

    _arrays = ("m", "v")

    def __init__(
        self,
        n_params: int,
        dtype: DTypeLike,
        rng: np.random.Generator,
        *,
        beta1: float,
        beta2: float,
        eps: float,
    ) -> None:
        super().__init__(n_params, dtype, rng)
        self.beta1 = float(beta1)
        self.beta2 = float(beta2)
        self.eps = float(eps)

    def step(self, theta, grad, lr, loss_fn=None) -> None:  # types: Optimiser.step
        m, v, tmp = self.m, self.v, self._tmp
        b1, b2 = self.beta1, self.beta2
        t = self.t = self.t + 1
        m *= b1
        np.multiply(grad, 1.0 - b1, tmp)
        m += tmp
        _leaky_square(v, grad, tmp, b2)
        root_c2 = math.sqrt(1.0 - b2**t)
        np.sqrt(v, tmp)
        tmp += self.eps * root_c2
        np.divide(m, tmp, tmp)
        tmp *= lr * root_c2 / (1.0 - b1**t)
        theta -= tmp
