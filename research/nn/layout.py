"""All trainable parameters of a model in one contiguous vector, with named views.

Optimisers update ``theta`` in place with one vectorised operation; the layers read and
write their weights through views of it, so nothing is ever copied or rebound.
"""

from __future__ import annotations

import numpy as np

from research.errors import ConfigError


class Layout:
    """Named blocks of a flat parameter vector: ``theta``, ``grad`` and ``decay_mask``."""

    def __init__(self, blocks: list[tuple[str, tuple[int, ...], bool]], dtype: str) -> None:
        if dtype not in ("float32", "float64"):
            raise ConfigError(f"dtype={dtype!r} is not allowed: choose one of: float32, float64")
        self.dtype = np.dtype(dtype)
        self.slices: dict[str, tuple[slice, tuple[int, ...]]] = {}
        offset = 0
        for name, shape, _ in blocks:
            size = int(np.prod(shape))
            self.slices[name] = (slice(offset, offset + size), shape)
            offset += size
        self.size = offset
        self.theta = np.zeros(offset, self.dtype)
        self.grad = np.zeros(offset, self.dtype)
        self.decay_mask = np.zeros(offset, self.dtype)
        for name, _, decays in blocks:
            if decays:
                self.decay_mask[self.slices[name][0]] = 1
        self.params = {k: self.view(self.theta, k) for k in self.slices}
        self.grads = {k: self.view(self.grad, k) for k in self.slices}

    def view(self, flat: np.ndarray, name: str) -> np.ndarray:
        """Block ``name`` of ``flat`` (a vector, or rows of a (P, size) population)."""
        sl, shape = self.slices[name]
        return flat[..., sl].reshape(*flat.shape[:-1], *shape)


class FlatModel:
    """What every model shares: ``theta``/``grad``/``decay_mask`` from a :class:`Layout`,
    eval-mode ``loss`` and chunked ``predict``, and state as a dict of arrays."""

    trains_by_gradient = True

    def _use(self, layout: Layout) -> None:
        self.layout = layout
        self.dtype = layout.dtype
        self.theta, self.grad, self.decay_mask = layout.theta, layout.grad, layout.decay_mask
        self.n_params = layout.size

    def forward(self, x, *, train: bool = False, rng=None) -> np.ndarray:
        raise NotImplementedError

    def loss(self, x, y) -> float:
        y = y if y.dtype == self.dtype else y.astype(self.dtype)
        return self.cost.value(self.forward(x), y)

    def predict(self, x, chunk: int = 4096) -> np.ndarray:
        return np.concatenate([self.forward(x[i : i + chunk]) for i in range(0, len(x), chunk)])

    def prepare(self, x_train, y_train, rng) -> None:
        """Data-dependent set-up before training (none by default)."""

    def state_dict(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.layout.params.items()}

    def load_state_dict(self, state) -> None:
        for k, v in self.layout.params.items():
            v[...] = state[k]
