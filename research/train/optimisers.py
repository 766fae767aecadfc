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

:data:`OPTIMISERS` maps a regime's config name to its class. The stochastic regimes of
:mod:`research.train.stochastic` register themselves in it as well (imported at the bottom of
this module, so importing either module fills the whole registry).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import DTypeLike

from research.errors import ConfigError, unknown_name

#: config name -> optimiser class (gradient optimisers here, stochastic regimes added on import)
OPTIMISERS: dict[str, type[Optimiser]] = {}

LossFn = Callable[[np.ndarray], float]


def register(name: str) -> Callable[[type[Optimiser]], type[Optimiser]]:
    """Class decorator: add an optimiser to :data:`OPTIMISERS` under ``name``."""

    def add(cls: type[Optimiser]) -> type[Optimiser]:
        cls.name = name
        OPTIMISERS[name] = cls
        return cls

    return add


def hyperparameters(cls: type[Optimiser]) -> tuple[str, ...]:
    """The keyword hyperparameters an optimiser class accepts, in declaration order."""
    params = inspect.signature(cls.__init__).parameters.values()
    return tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)


def make_optimiser(
    name: str, n_params: int, dtype: DTypeLike, rng: np.random.Generator, **hyper: Any
) -> Optimiser:
    """Build the optimiser registered as ``name``; unknown names or hyperparameters raise a
    one-line :class:`ConfigError` listing what is allowed."""
    try:
        cls = OPTIMISERS[name]
    except KeyError:
        raise unknown_name("regime", name, OPTIMISERS) from None
    allowed = hyperparameters(cls)
    for key in hyper:
        if key not in allowed:
            takes = ", ".join(allowed) or "nothing"
            raise ConfigError(f"regime {name!r} has no hyperparameter {key!r}; it takes: {takes}")
    return cls(n_params, dtype, rng, **hyper)


def _number(owner: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"{owner}: {key}={value!r} must be a number")
    return float(value)


def check_in(owner: str, key: str, value: Any, low: float, high: float, closed: str) -> float:
    """``value`` as a float if it lies in the interval, else a one-line ConfigError naming it.

    ``closed`` is one of ``"[]"``, ``"[)"``, ``"(]"``, ``"()"``; ``high`` may be ``inf``.
    """
    x = _number(owner, key, value)
    ok_low = x >= low if closed[0] == "[" else x > low
    ok_high = x <= high if closed[1] == "]" else x < high
    if not (ok_low and ok_high):
        shown = "inf" if math.isinf(high) else f"{high:g}"
        interval = f"{closed[0]}{low:g}, {shown}{closed[1]}"
        raise ConfigError(f"{owner}: {key}={value!r} must be in {interval}")
    return x


def check_positive(owner: str, key: str, value: Any) -> float:
    """``value`` as a float if it is > 0 (and finite), else a one-line ConfigError."""
    x = _number(owner, key, value)
    if not (0 < x < math.inf):
        raise ConfigError(f"{owner}: {key}={value!r} must be > 0")
    return x


class Optimiser:
    """Base class: holds the size, dtype, random stream and update count; checkpoints state.

    Subclasses declare their state arrays in ``_arrays`` and integer counters in ``_scalars``;
    :meth:`state_dict` copies them out and :meth:`load_state_dict` copies them back into the
    preallocated buffers, so a resumed optimiser continues exactly.
    """

    name: ClassVar[str] = ""
    #: True if ``step`` uses ``grad`` (the fit loop then runs backprop for it)
    needs_grad: ClassVar[bool] = True
    #: True if ``step`` calls ``loss_fn`` (the fit loop then builds one per mini-batch)
    needs_loss: bool = False
    _arrays: ClassVar[tuple[str, ...]] = ()
    _scalars: ClassVar[tuple[str, ...]] = ("t",)

    def __init__(self, n_params: int, dtype: DTypeLike, rng: np.random.Generator) -> None:
        if isinstance(n_params, bool) or not isinstance(n_params, int | np.integer) or n_params < 1:
            raise ConfigError(f"{self.name}: n_params={n_params!r} must be an integer >= 1")
        dt = np.dtype(dtype)
        if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ConfigError(f"{self.name}: dtype={dt} must be float32 or float64")
        self.n_params = int(n_params)
        self.dtype = dt
        self.rng = rng
        #: number of updates made so far
        self.t = 0

    def _buffer(self) -> np.ndarray:
        return np.zeros(self.n_params, self.dtype)

    def step(
        self, theta: np.ndarray, grad: np.ndarray | None, lr: float, loss_fn: LossFn | None = None
    ) -> None:
        """Update ``theta`` in place from ``grad`` with learning rate ``lr`` (= eta)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Copies of the state: integer counters and 1-D numpy arrays (``np.savez``-able)."""
        state: dict[str, Any] = {key: int(getattr(self, key)) for key in self._scalars}
        for key in self._arrays:
            state[key] = getattr(self, key).copy()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (possibly via ``np.savez``/``np.load``)."""
        expected = set(self.state_dict())
        if set(state) != expected:
            raise ConfigError(
                f"{self.name} state has keys {sorted(state)}; expected {sorted(expected)}"
            )
        for key in self._arrays:
            value = np.asarray(state[key])
            if value.shape != (self.n_params,):
                raise ConfigError(
                    f"{self.name} state {key!r} has shape {value.shape}; "
                    f"expected ({self.n_params},)"
                )
            np.copyto(getattr(self, key), value)
        for key in self._scalars:
            setattr(self, key, int(state[key]))

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={getattr(self, k)!r}" for k in hyperparameters(type(self)))
        return f"{type(self).__name__}({self.n_params}, {self.dtype}{', ' if hyper else ''}{hyper})"


@register("sgd")
class SGD(Optimiser):
    """Plain gradient descent: theta <- theta - eta * g.

    Online, mini-batch and full-batch learning differ only in the caller's batch size.
    Two numpy calls: eta * g into a scratch buffer, then an in-place subtraction.
    """

    def __init__(self, n_params: int, dtype: DTypeLike, rng: np.random.Generator) -> None:
        super().__init__(n_params, dtype, rng)
        self._tmp = self._buffer()

    def step(
        self, theta: np.ndarray, grad: np.ndarray, lr: float, loss_fn: LossFn | None = None
    ) -> None:
        tmp = self._tmp
        np.multiply(grad, lr, tmp)
        theta -= tmp
        self.t += 1


@register("momentum")
class Momentum(SGD):
    """Momentum (Nielsen ch. 3): v <- mu * v - eta * g;  theta <- theta + v.

    mu = 1 - friction: mu = 0 is plain SGD (bit for bit), mu -> 1 lets the velocity v build
    up along directions where the gradient keeps its sign.
    """

    _arrays = ("v",)

    def __init__(
        self, n_params: int, dtype: DTypeLike, rng: np.random.Generator, *, mu: float = 0.9
    ) -> None:
        super().__init__(n_params, dtype, rng)
        self.mu = check_in(self.name, "mu", mu, 0.0, 1.0, "[)")
        self.v = self._buffer()

    def step(
        self, theta: np.ndarray, grad: np.ndarray, lr: float, loss_fn: LossFn | None = None
    ) -> None:
        v, tmp = self.v, self._tmp
        v *= self.mu
        np.multiply(grad, lr, tmp)
        v -= tmp
        theta += v
        self.t += 1


@register("nesterov")
class Nesterov(Momentum):
    """Nesterov momentum in the form that needs the gradient only at the stored parameters
    (Bengio 2012; Sutskever et al. 2013):

        v_prev = v;  v <- mu * v - eta * g;  theta <- theta - mu * v_prev + (1 + mu) * v

    Substituting v gives the same update as theta <- theta + mu * v - eta * g, which is what
    is computed (one scratch buffer, no copy of v_prev). Compared with classical momentum the
    step adds an extra mu * v "look-ahead": with a steady gradient it travels further, and when
    the gradient turns it brakes one step earlier.
    """

    def step(
        self, theta: np.ndarray, grad: np.ndarray, lr: float, loss_fn: LossFn | None = None
    ) -> None:
        v, tmp, mu = self.v, self._tmp, self.mu
        np.multiply(grad, lr, tmp)  # tmp = eta * g
        v *= mu
        v -= tmp  # v = mu * v_prev - eta * g
        theta -= tmp
        np.multiply(v, mu, tmp)
        theta += tmp  # theta += mu * v - eta * g
        self.t += 1


@register("adagrad")
class Adagrad(SGD):
    """Adagrad (Duchi et al. 2011): G <- G + g^2;  theta <- theta - eta * g / (sqrt(G) + eps).

    Each weight's effective rate eta / sqrt(G) falls as its squared gradients accumulate: as
    1 / sqrt(t) for a constant gradient. eps (> 0) keeps the first steps finite.
    """

    _arrays = ("G",)

    def __init__(
        self, n_params: int, dtype: DTypeLike, rng: np.random.Generator, *, eps: float = 1e-8
    ) -> None:
        super().__init__(n_params, dtype, rng)
        self.eps = check_positive(self.name, "eps", eps)
        self.G = self._buffer()

    def step(
        self, theta: np.ndarray, grad: np.ndarray, lr: float, loss_fn: LossFn | None = None
    ) -> None:
        G, tmp = self.G, self._tmp
        np.multiply(grad, grad, tmp)
        G += tmp
        np.sqrt(G, tmp)
        tmp += self.eps
        np.divide(grad, tmp, tmp)
        tmp *= lr
        theta -= tmp
        self.t += 1


@register("rmsprop")
class RMSprop(SGD):
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
        rho: float = 0.9,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(n_params, dtype, rng)
        self.rho = check_in(self.name, "rho", rho, 0.0, 1.0, "[)")
        self.eps = check_positive(self.name, "eps", eps)
        self.E = self._buffer()

    def step(
        self, theta: np.ndarray, grad: np.ndarray, lr: float, loss_fn: LossFn | None = None
    ) -> None:
        E, tmp = self.E, self._tmp
        E *= self.rho
        np.multiply(grad, grad, tmp)
        tmp *= 1.0 - self.rho
        E += tmp
        np.sqrt(E, tmp)
        tmp += self.eps
        np.divide(grad, tmp, tmp)
        tmp *= lr
        theta -= tmp
        self.t += 1


@register("adadelta")
class Adadelta(SGD):
    """Adadelta (Zeiler 2012, Algorithm 1), with eta scaling the step (eta = 1 is Zeiler's):

        Eg  <- rho * Eg + (1 - rho) * g^2
        dx   = -sqrt(Edx + eps) / sqrt(Eg + eps) * g
        Edx <- rho * Edx + (1 - rho) * dx^2
        theta <- theta + eta * dx

    The ratio of RMS values gives the step the units of theta, so no global rate is needed;
    Edx accumulates the unscaled dx. eps sits inside the square roots, as in the paper.
    """

    _arrays = ("Eg", "Edx")

    def __init__(
        self,
        n_params: int,
        dtype: DTypeLike,
        rng: np.random.Generator,
        *,
        rho: float = 0.95,
        eps: float = 1e-6,
    ) -> None:
        super().__init__(n_params, dtype, rng)
        self.rho = check_in(self.name, "rho", rho, 0.0, 1.0, "[)")
        self.eps = check_positive(self.name, "eps", eps)
        self.Eg = self._buffer()
        self.Edx = self._buffer()
        self._tmp2 = self._buffer()

    def step(
        self, theta: np.ndarray, grad: np.ndarray, lr: float, loss_fn: LossFn | None = None
    ) -> None:
        Eg, Edx, tmp, tmp2 = self.Eg, self.Edx, self._tmp, self._tmp2
        rho, eps = self.rho, self.eps
        Eg *= rho
        np.multiply(grad, grad, tmp)
        tmp *= 1.0 - rho
        Eg += tmp
        np.add(Edx, eps, tmp)
        np.add(Eg, eps, tmp2)
        tmp /= tmp2
        np.sqrt(tmp, tmp)
        tmp *= grad  # tmp = -dx
        Edx *= rho
        np.multiply(tmp, tmp, tmp2)
        tmp2 *= 1.0 - rho
        Edx += tmp2
        tmp *= lr
        theta -= tmp
        self.t += 1


@register("adam")
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
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(n_params, dtype, rng)
        self.beta1 = check_in(self.name, "beta1", beta1, 0.0, 1.0, "[)")
        self.beta2 = check_in(self.name, "beta2", beta2, 0.0, 1.0, "[)")
        self.eps = check_positive(self.name, "eps", eps)
        self.m = self._buffer()
        self.v = self._buffer()

    def step(
        self, theta: np.ndarray, grad: np.ndarray, lr: float, loss_fn: LossFn | None = None
    ) -> None:
        m, v, tmp = self.m, self.v, self._tmp
        b1, b2 = self.beta1, self.beta2
        t = self.t = self.t + 1
        m *= b1
        np.multiply(grad, 1.0 - b1, tmp)
        m += tmp
        v *= b2
        np.multiply(grad, grad, tmp)
        tmp *= 1.0 - b2
        v += tmp
        root_c2 = math.sqrt(1.0 - b2**t)
        np.sqrt(v, tmp)
        tmp += self.eps * root_c2
        np.divide(m, tmp, tmp)
        tmp *= lr * root_c2 / (1.0 - b1**t)
        theta -= tmp


# The stochastic regimes register themselves in OPTIMISERS on import. Imported here, after
# OPTIMISERS and Optimiser exist, so `import research.train.optimisers` yields the full
# registry whichever of the two modules is imported first.
import research.train.stochastic  # noqa: E402, F401
