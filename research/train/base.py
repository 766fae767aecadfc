"""What every optimiser shares: the base class, the registry, building one from plain values.

A network's parameters live in ONE contiguous 1-D array ``theta`` (float32 or float64) and the
gradient of the mini-batch loss in a same-shape array ``grad``. ``step`` updates ``theta`` in
place, never rebinding it: the layers' weight matrices are views into it.

:data:`OPTIMISERS` maps a regime's config name to its class and its schema (a subclass of
:class:`~research.train.regime.RegimeConfig` declaring the hyperparameters, their defaults and
ranges). The classes take plain, already-checked values; :func:`make_optimiser` checks plain
keyword arguments against the schema, so every bad value is the config's one-line error.
The gradient optimisers (``research.train.optimisers``) and the stochastic regimes
(``research.train.stochastic``) register themselves; ``research.train`` imports both.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from typing import Any, ClassVar

import numpy as np
from numpy.typing import DTypeLike

from research.errors import ConfigError
from research.registry import Registry
from research.train.regime import BASE_FIELDS, optimiser_params

#: config name -> optimiser class (with its regime schema); a user's optimiser is an entry
#: point in ``research.optimisers`` or an import path in ``regime.name``
OPTIMISERS: Registry[type[Optimiser]] = Registry("regime", group="research.optimisers")

LossFn = Callable[[np.ndarray], float]


def hyperparameters(cls: type[Optimiser]) -> tuple[str, ...]:
    """The keyword hyperparameters an optimiser class accepts, in declaration order."""
    params = inspect.signature(cls.__init__).parameters.values()
    return tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)


def _check_numbers(name: str, schema: type, hyper: Mapping[str, Any]) -> None:
    """Values of a schema's number fields are numbers (the config's types, for plain calls)."""
    for f in fields(schema):
        if f.name in hyper and f.name not in BASE_FIELDS and f.default is not MISSING:
            number = isinstance(f.default, int | float) and not isinstance(f.default, bool)
            value = hyper[f.name]
            ok = isinstance(value, int | float | np.integer | np.floating)
            if number and (isinstance(value, bool) or not ok):
                raise ConfigError(f"regime {name!r}: {f.name}={value!r} must be a number")


def make_optimiser(
    name: str, n_params: int, dtype: DTypeLike, rng: np.random.Generator, **hyper: Any
) -> Optimiser:
    """Build the optimiser registered as ``name`` from plain values: the schema fills the
    defaults and checks the ranges; unknown names or hyperparameters and bad values raise a
    one-line :class:`ConfigError` listing what is allowed."""
    entry = OPTIMISERS.entry(name)
    OPTIMISERS.check_keywords(name, hyper, skip=3)
    if entry.schema is not None:
        _check_numbers(name, entry.schema, hyper)
        try:
            hyper = optimiser_params(entry.schema(**hyper))
        except ConfigError as exc:
            raise ConfigError(f"regime {name!r}: {exc}") from None
    return entry.factory(n_params, dtype, rng, **hyper)


class Optimiser:
    """Base class: holds the size, dtype, random stream and update count; checkpoints state.

    Subclasses declare their state arrays in ``_arrays``, their work buffers in ``_scratch``
    (both allocated here, zeroed, one value per parameter) and integer counters in
    ``_scalars``; :meth:`state_dict` copies the state out and :meth:`load_state_dict` copies it
    back into the preallocated buffers, so a resumed optimiser continues exactly.
    """

    #: True if ``step`` uses ``grad`` (the fit loop then runs backprop for it)
    needs_grad: ClassVar[bool] = True
    #: True if ``step`` calls ``loss_fn`` (the fit loop then builds one per mini-batch)
    needs_loss: bool = False
    _arrays: ClassVar[tuple[str, ...]] = ()
    _scratch: ClassVar[tuple[str, ...]] = ()
    _scalars: ClassVar[tuple[str, ...]] = ("t",)

    def __init__(self, n_params: int, dtype: DTypeLike, rng: np.random.Generator) -> None:
        if isinstance(n_params, bool) or not isinstance(n_params, int | np.integer) or n_params < 1:
            raise ConfigError(
                f"{type(self).__name__}: n_params={n_params!r} must be an integer >= 1"
            )
        dt = np.dtype(dtype)
        if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ConfigError(f"{type(self).__name__}: dtype={dt} must be float32 or float64")
        self.n_params = int(n_params)
        self.dtype = dt
        self.rng = rng
        #: number of updates made so far
        self.t = 0
        for key in (*self._arrays, *self._scratch):
            setattr(self, key, self._buffer())

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
                f"{type(self).__name__} state has keys {sorted(state)}; expected {sorted(expected)}"
            )
        for key in self._arrays:
            value = np.asarray(state[key])
            if value.shape != (self.n_params,):
                raise ConfigError(
                    f"{type(self).__name__} state {key!r} has shape {value.shape}; "
                    f"expected ({self.n_params},)"
                )
            np.copyto(getattr(self, key), value)
        for key in self._scalars:
            setattr(self, key, int(state[key]))

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={getattr(self, k)!r}" for k in hyperparameters(type(self)))
        return f"{type(self).__name__}({self.n_params}, {self.dtype}{', ' if hyper else ''}{hyper})"


def build_optimiser(
    regime: Any, n_params: int, dtype: DTypeLike, rng: np.random.Generator
) -> Optimiser:
    """The optimiser of a validated ``regime`` group (its schema already checked the values)."""
    return OPTIMISERS.get(regime.name)(n_params, dtype, rng, **optimiser_params(regime))
