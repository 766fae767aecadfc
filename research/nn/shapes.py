"""The shape of one example as a layered network reads it: data sets store rows flat
(MNIST-1D (40,), MNIST (784,)); a 1-D convolution or a recurrent net reads a sequence (T, C),
a 2-D convolution an image (H, W, C)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from research.errors import ConfigError

Shape = tuple[int, ...]


def example_shape(data_shape: Shape, dims: int, given: Sequence[int] | None = None) -> Shape:
    """``given`` (``model.input_shape``) if its size matches the data's, else the data's
    shape read as ``dims``-D: (T,) -> (T, 1); (H, W) -> (H, W, 1); a square (D,) -> (s, s, 1)."""
    data_shape = tuple(int(s) for s in data_shape)
    size = math.prod(data_shape)
    if given:
        shape = tuple(int(s) for s in given)
        if math.prod(shape) != size or min(shape) < 1:
            raise ConfigError(
                f"model.input_shape={list(shape)} is not allowed: its size must be the data's "
                f"{size} (an example has shape {data_shape})"
            )
        if len(shape) != dims + 1:
            raise ConfigError(
                f"model.input_shape={list(shape)} is not allowed: a {dims}-D network reads "
                + ("(length, channels)" if dims == 1 else "(height, width, channels)")
            )
        return shape
    if dims == 1:
        if len(data_shape) <= 2:
            return data_shape if len(data_shape) == 2 else (data_shape[0], 1)
    elif len(data_shape) == 3:
        return data_shape
    elif len(data_shape) == 2:
        return (*data_shape, 1)
    elif math.isqrt(size) ** 2 == size:
        side = math.isqrt(size)
        return (side, side, 1)
    wanted = "sequences (length, channels)" if dims == 1 else "images (height, width, channels)"
    raise ConfigError(
        f"a {dims}-D network needs {wanted}, got examples of shape {data_shape}: "
        f"use model.dims={2 if dims == 1 else 1} or give model.input_shape"
    )
