"""Max and average pooling over sequences (N, T, C) and images (N, H, W, C), per channel,
and global average pooling.

Pooling keeps the ``valid`` border only: per spatial axis of length n, window ``size`` and
``stride`` (default: the size, so windows do not overlap), the output length is
floor((n - size) / stride) + 1; inputs left over at the end are dropped. Max pooling passes
the gradient to the window's largest input (on ties, the first in row-major order); average
pooling spreads it evenly. Global average pooling maps (N, ..., C) -> (N, C), so a
classifier head does not depend on the sequence length or image size.
"""

from __future__ import annotations

import math

import numpy as np

from research import schema as S
from research.errors import ConfigError
from research.nn.layers.base import Layer, Shape
from research.nn.layers.conv import AXIS_NAMES, is_sequence, offsets, per_axis, windows

POOLS = ("avg", "max")


class Pool(Layer):
    """``kind`` is ``max`` or ``avg``; 1-D or 2-D by the input's rank (``size`` and
    ``stride`` an int, or a pair for images)."""

    def __init__(self, kind: str, size, stride=None) -> None:
        S.one_of("pool kind", kind, POOLS)
        self.kind, self.size_arg = kind, size
        self.stride_arg = size if stride is None else stride
        for key, value in (("pool size", size), ("pool stride", self.stride_arg)):
            per_axis(key, value, len(value) if is_sequence(value) else 1)  # fail early

    def build(self, in_shape: Shape) -> Shape:
        super().build(in_shape)
        dims = len(in_shape) - 1
        if dims not in AXIS_NAMES:
            raise ConfigError(
                f"{self.kind} pooling needs sequence (T, C) or image (H, W, C) inputs, got "
                f"shape {tuple(in_shape)}: put it before Flatten"
            )
        self.size = per_axis("pool size", self.size_arg, dims)
        self.stride = per_axis("pool stride", self.stride_arg, dims)
        for n, k, name in zip(in_shape[:-1], self.size, AXIS_NAMES[dims], strict=True):
            if k > n:
                raise ConfigError(
                    f"pool size {k} is larger than its input ({name} {n}): use a smaller "
                    f"pool size or fewer conv/pool stages"
                )
        self.dilation = (1,) * dims
        self.out = tuple(
            (n - k) // s + 1 for n, k, s in zip(in_shape[:-1], self.size, self.stride, strict=True)
        )
        return (*self.out, in_shape[-1])

    def forward(self, x, train, rng):
        view = windows(x, self.size, self.dilation, self.stride, self.out)
        window_axes = tuple(range(-len(self.size), 0))
        if self.kind == "avg":
            return view.mean(axis=window_axes), x.shape
        flat = view.reshape(*view.shape[: -len(self.size)], -1)  # (N, *out, C, K)
        arg = flat.argmax(-1)  # the first of tied maxima
        y = np.take_along_axis(flat, arg[..., None], -1)[..., 0]
        return y, (x.shape, arg)

    def backward(self, dy, cache):
        if self.kind == "avg":
            shape = cache
            k = math.prod(self.size)
            dwin = np.broadcast_to((dy / dy.dtype.type(k))[..., None], (*dy.shape, k))
        else:
            shape, arg = cache
            dwin = np.zeros((*dy.shape, math.prod(self.size)), dy.dtype)
            np.put_along_axis(dwin, arg[..., None], dy[..., None], -1)
        dx = np.zeros(shape, dy.dtype)
        for j, where in enumerate(offsets(self.size, self.dilation, self.stride, self.out)):
            dx[(slice(None), *where)] += dwin[..., j]
        return dx


class MaxPool(Pool):
    """Max pooling: keeps the strongest response in each window."""

    def __init__(self, size, stride=None) -> None:
        super().__init__("max", size, stride)


class AvgPool(Pool):
    """Average pooling: the mean of each window."""

    def __init__(self, size, stride=None) -> None:
        super().__init__("avg", size, stride)


class GlobalAvgPool(Layer):
    """(N, ..., C) -> (N, C): the mean of each channel over every position."""

    def build(self, in_shape: Shape) -> Shape:
        super().build(in_shape)
        if len(in_shape) < 2:
            raise ConfigError(
                f"global average pooling needs sequence (T, C) or image (H, W, C) inputs, "
                f"got shape {tuple(in_shape)}: put it before Flatten"
            )
        return (int(in_shape[-1]),)

    def forward(self, x, train, rng):
        return x.mean(axis=tuple(range(1, x.ndim - 1))), x.shape

    def backward(self, dy, shape):
        count = math.prod(shape[1:-1])
        dx = np.empty(shape, dy.dtype)
        dx[...] = (dy / dy.dtype.type(count)).reshape(len(dy), *[1] * (len(shape) - 2), -1)
        return dx
