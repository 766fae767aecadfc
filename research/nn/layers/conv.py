"""1-D and 2-D convolution with shared weights (channels-last; strictly a cross-correlation,
as in every deep-learning library: the kernel is not flipped).

Per spatial axis of length n, kernel k, stride s, dilation d, the effective kernel spans
e = d (k - 1) + 1 inputs, and the three border modes give

- ``valid`` (the notes' narrow convolution): no padding, n' = floor((n - e) / s) + 1, which is
  n - d (k - 1) at stride 1; the kernel must fit: e <= n;
- ``same``: n' = ceil(n / s); the total padding max((n' - 1) s + e - n, 0) is split left
  floor(total / 2), right the rest;
- ``full`` (the notes' wide convolution): e - 1 zeros on each side, n' = floor((n + e - 2) / s)
  + 1, which is n + d (k - 1) at stride 1.

Speed comes from im2col: a strided window view of the padded input is copied once into a
(positions, k C) matrix, so the forward is one matmul; the backward is one matmul for dW and
one (batched over kernel offsets) for d(columns), whose blocks are added back into the input
by a loop over the k (or kh kw) kernel offsets only, never over output positions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from research import schema as S
from research.errors import ConfigError
from research.nn.layers.base import Layer, Shape

PADDINGS = ("valid", "same", "full")
AXIS_NAMES = {1: ("length",), 2: ("height", "width")}


def is_sequence(value) -> bool:
    """A tuple, list or Hydra ListConfig of per-axis values (not a string)."""
    return isinstance(value, Sequence) and not isinstance(value, str)


def per_axis(key: str, value, dims: int) -> tuple[int, ...]:
    """An int (the same on every spatial axis) or one whole number >= 1 per axis."""
    values = tuple(value) if is_sequence(value) else (value,) * dims
    ok = len(values) == dims and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in values
    )
    allowed = "must be a whole number >= 1" + (" or a pair of them" if dims == 2 else "")
    S.require(ok, key, value, allowed)
    return tuple(int(v) for v in values)


def out_and_pads(n: int, e: int, stride: int, padding: str) -> tuple[int, int, int]:
    """(output length, left pad, right pad) on one axis; e is the effective kernel span."""
    if padding == "valid":
        return (n - e) // stride + 1, 0, 0
    if padding == "full":
        return (n + e - 2) // stride + 1, e - 1, e - 1
    out = -(-n // stride)
    total = max((out - 1) * stride + e - n, 0)
    return out, total // 2, total - total // 2


def offsets(kernel, dilation, stride, out) -> list[tuple[slice, ...]]:
    """For each kernel offset (row-major), the slices of the padded input it meets at every
    output position: the loop of col2im and of the poolings' backward."""
    axes = [
        [slice(i * d, i * d + (o - 1) * s + 1, s) for i in range(k)]
        for k, d, s, o in zip(kernel, dilation, stride, out, strict=True)
    ]
    grid = np.stack(np.meshgrid(*[np.arange(k) for k in kernel], indexing="ij"), -1)
    return [tuple(axes[a][i] for a, i in enumerate(idx)) for idx in grid.reshape(-1, len(kernel))]


def windows(x: np.ndarray, kernel, dilation, stride, out) -> np.ndarray:
    """A view (N, *out, C, *kernel) of every (dilated, strided) window of x (N, *spatial, C);
    no copy."""
    dims = len(kernel)
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    view = sliding_window_view(x, span, axis=tuple(range(1, dims + 1)))
    pick = [slice(0, (o - 1) * s + 1, s) for o, s in zip(out, stride, strict=True)]
    return view[(slice(None), *pick, slice(None), *[slice(None, None, d) for d in dilation])]


class _Conv(Layer):
    """Shared by :class:`Conv1D` and :class:`Conv2D`; ``dims`` is the number of spatial axes.
    W is (prod(kernel) C, F), rows ordered (kernel offsets..., input channel)."""

    dims = 0
    needs = ""

    def __init__(self, channels, kernel, stride=1, dilation=1, padding="valid", bias=True):
        S.require(
            isinstance(channels, (int, np.integer)) and channels >= 1,
            "conv channels",
            channels,
            "must be a whole number >= 1",
        )
        S.one_of("conv padding", padding, PADDINGS)
        self.channels, self.padding, self.bias = int(channels), padding, bool(bias)
        self.kernel = per_axis("conv kernel", kernel, self.dims)
        self.stride = per_axis("conv stride", stride, self.dims)
        self.dilation = per_axis("conv dilation", dilation, self.dims)

    def build(self, in_shape: Shape) -> Shape:
        super().build(in_shape)
        if len(in_shape) != self.dims + 1:
            other = 2 if self.dims == 1 else 1
            raise ConfigError(
                f"a {self.dims}-D convolution needs {self.needs}, got shape "
                f"{tuple(in_shape)}: use model.dims={other}"
            )
        self.n_in = int(in_shape[-1])
        out, self.pads = [], []
        for n, k, d, s, name in zip(
            in_shape[:-1],
            self.kernel,
            self.dilation,
            self.stride,
            AXIS_NAMES[self.dims],
            strict=True,
        ):
            size, left, right = out_and_pads(n, d * (k - 1) + 1, s, self.padding)
            if size < 1:
                raise ConfigError(
                    f"conv kernel {k} (dilation {d}) is longer than the padded input "
                    f"({name} {n}): use a smaller model.kernel or padding=same|full"
                )
            out.append(size)
            self.pads.append((left, right))
        self.out = tuple(out)
        self.fan_in = math.prod(self.kernel) * self.n_in
        return (*self.out, self.channels)

    def blocks(self):
        blocks = [("W", (self.fan_in, self.channels), True)]
        return blocks + ([("b", (self.channels,), False)] if self.bias else [])

    def initialise(self, rng, init) -> None:
        w, b = init(rng, self.fan_in, self.channels)
        self.p["W"][...] = w
        if self.bias:
            self.p["b"][...] = b

    def _padded(self, x: np.ndarray) -> np.ndarray:
        if not any(left or right for left, right in self.pads):
            return x
        return np.pad(x, [(0, 0), *self.pads, (0, 0)])

    def forward(self, x, train, rng):
        xp = self._padded(x)
        view = windows(xp, self.kernel, self.dilation, self.stride, self.out)
        # (N, *out, C, *kernel) -> (N, *out, *kernel, C): one copy, C contiguous
        order = (0, *range(1, self.dims + 1), *range(self.dims + 2, 2 * self.dims + 2))
        cols = view.transpose(*order, self.dims + 1).reshape(-1, self.fan_in)
        y = cols @ self.p["W"]
        if self.bias:
            y += self.p["b"]
        return y.reshape(len(x), *self.out, self.channels), (cols, xp.shape)

    def backward(self, dy, cache):
        cols, padded_shape = cache
        rows = dy.reshape(-1, self.channels)
        np.matmul(cols.T, rows, out=self.g["W"])
        if self.bias:
            np.sum(rows, axis=0, out=self.g["b"])
        # d(columns) as (kernel offset, position, C): each offset's block is contiguous,
        # which makes the adds below about 3x faster than slicing a (position, k C) matrix
        w_by_offset = self.p["W"].reshape(-1, self.n_in, self.channels).transpose(0, 2, 1)
        dcols = np.matmul(rows, w_by_offset)
        dxp = np.zeros(padded_shape, dcols.dtype)
        for j, where in enumerate(offsets(self.kernel, self.dilation, self.stride, self.out)):
            dxp[(slice(None), *where)] += dcols[j].reshape(*dy.shape[:-1], self.n_in)
        crop = [
            slice(left, n - right)
            for (left, right), n in zip(self.pads, padded_shape[1:-1], strict=True)
        ]
        return dxp[(slice(None), *crop)]


class Conv1D(_Conv):
    """Convolution over time: (N, T, C) -> (N, T', channels); weights shared across time, so
    a motif is detected wherever it occurs in the sequence."""

    dims, needs = 1, "sequence inputs (T, C)"


class Conv2D(_Conv):
    """Convolution over images: (N, H, W, C) -> (N, H', W', channels); ``kernel``,
    ``stride`` and ``dilation`` are an int or a (rows, columns) pair."""

    dims, needs = 2, "image inputs (H, W, C)"
