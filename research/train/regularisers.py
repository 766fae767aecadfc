"""Weight penalties and gradient clipping, applied in place to the flat gradient.

Penalties use Nielsen's scaling (ch. 3), dividing by the training-set size n so that his
recipes' lambda carries over whatever the mini-batch size:

    L2:  C = C0 + lambda / (2n) * sum w^2     dC/dw = dC0/dw + lambda / n * w
    L1:  C = C0 + lambda1 / n  * sum |w|      dC/dw = dC0/dw + lambda1 / n * sign(w)

For SGD the L2 term is weight decay: w <- (1 - eta * lambda / n) * w - eta * dC0/dw. Only the
entries marked by ``mask`` (1 for connection weights, 0 for biases and other parameters) are
penalised. Both functions run once per mini-batch, so they keep to a few numpy calls on
per-thread scratch buffers.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from research.errors import ConfigError

_scratch = threading.local()


def _buffers(like: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two scratch arrays shaped like ``like``, reused between calls (one pair per thread)."""
    key = (like.shape, like.dtype)
    cached = getattr(_scratch, "pair", None)
    if cached is None or cached[0] != key:
        cached = (key, np.empty_like(like), np.empty_like(like))
        _scratch.pair = cached
    return cached[1], cached[2]


def add_penalty_grad(
    grad: np.ndarray,
    theta: np.ndarray,
    mask: np.ndarray | None,
    l1: float,
    l2: float,
    n: int,
) -> float:
    """Add the L1/L2 penalty gradient to ``grad`` in place and return the penalty value.

    penalty = l1 / n * sum |w| + l2 / (2n) * sum w^2 over w = mask * theta;
    grad   += l1 / n * sign(w) + l2 / n * w.
    ``mask`` None penalises every entry. Returns 0.0 without touching ``grad`` when both
    strengths are 0.
    """
    if not (l1 or l2):
        return 0.0
    w, tmp = _buffers(theta)
    if mask is None:
        np.copyto(w, theta)
    else:
        np.multiply(theta, mask, w)
    penalty = 0.0
    if l2:
        penalty += 0.5 * l2 / n * float(np.dot(w, w))
    if l1:
        np.sign(w, tmp)
        penalty += l1 / n * float(np.dot(tmp, w))  # sign(w) . w = sum |w|
        tmp *= l1 / n
        grad += tmp
    if l2:
        w *= l2 / n
        grad += w
    return penalty


def clip_grad_norm(grad: np.ndarray, max_norm: float) -> float:
    """Rescale ``grad`` in place to L2 norm ``max_norm`` if its norm exceeds it; return the
    norm before clipping (a NaN norm leaves ``grad`` alone: the fit loop reports divergence)."""
    if not max_norm > 0:
        raise ConfigError(f"clip_norm={max_norm!r} must be > 0")
    norm = math.sqrt(float(np.dot(grad, grad)))
    if norm > max_norm:
        grad *= max_norm / norm
    return norm
