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
