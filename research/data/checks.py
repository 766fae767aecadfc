"""Checks that keep a data set's numbers honest: split parameters that cannot give disjoint,
non-empty splits, and MNIST files whose arrays are not what the loader reads them as.

Every failure is one :class:`~research.errors.ResearchError` line naming the value (or the
file and array) and what was expected. :func:`check_splits` needs no data: config validation
can call it before anything exists, and every loader calls it first.

The rule for splits: training always needs at least one example (one, not a batch: a
training split smaller than the batch size trains full-batch). A validation or test split
you ask for (a fraction or count above 0) must hold at least one example; 0 asks for no such
split (training then reports no ``val/*`` or ``test/*`` metrics). Splits drawn from one pool
never share an example.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from research.errors import ConfigError, ResearchError

#: per data set: the parameters that carve validation/test fractions out of one pool
FRACTIONS = {
    "mnist1d": ("val_fraction",),
    "digits": ("val_fraction", "test_fraction"),
    "spirals": ("val_fraction", "test_fraction"),
}
#: per data set: the parameters that give split sizes as counts (training first)
COUNTS = {
    "mnist1d": ("n_train",),  # optional cap on the training split
    "mnist": ("n_train", "n_val"),
    "logistic_map": ("n_train", "n_val", "n_test"),
    "sine": ("n_train", "n_val", "n_test"),
    "recall": ("n_train", "n_val", "n_test"),
    "ring8": ("n_train", "n_val", "n_test"),
}
SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _g(value: float) -> str:
    """A float as the user would write it (0.1 + 0.2 shows as 0.3, not 0.30000000000000004)."""
    return f"{float(value):.10g}"


def check_splits(name: str, params: Mapping[str, Any]) -> None:
    """Raise a one-line :class:`ConfigError` for split parameters of data set ``name`` that
    cannot work whatever the data: a fraction outside [0, 1), fractions summing to 1 or more
    (they would overlap training and empty a split), a count that is not a whole number, or
    an empty training split. Keys absent from ``params`` are not checked (the loader's
    default applies). Cheap and data-free."""
    fractions = [(k, params[k]) for k in FRACTIONS.get(name, ()) if k in params]
    for key, value in fractions:
        if not _is_number(value) or not 0 <= value < 1:
            raise ConfigError(f"data.{key}={value!r} is not allowed: must be a number in [0, 1)")
    if len(fractions) > 1:
        total = sum(float(v) for _, v in fractions)
        if total >= 1:
            terms = " + ".join(f"data.{k}={_g(v)}" for k, v in fractions)
            raise ConfigError(
                f"{terms} = {_g(total)} is not allowed: the fractions must sum to less than 1 "
                "(training keeps the rest)"
            )
    for key in COUNTS.get(name, ()):
        if key not in params or (key == "n_train" and name == "mnist1d" and params[key] is None):
            continue
        value = params[key]
        least = 1 if key == "n_train" else 0
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < least:
            what = "the training split needs at least one example" if least else "0 for none"
            raise ConfigError(
                f"data.{key}={value!r} is not allowed: must be a whole number >= {least} ({what})"
            )


def check_split_sizes(
    name: str, sizes: Mapping[str, int], asked: Mapping[str, tuple[str, Any]], pool: int
) -> None:
    """After splitting: the training split is non-empty, and a split asked for by a positive
    value (``asked[split] = (key, value)``) holds at least one of the ``pool`` examples."""
    if sizes["train"] < 1:
        given = " + ".join(f"data.{k}={_g(v)}" for k, v in asked.values()) or "these settings"
        raise ConfigError(
            f"{given} leaves no training examples (0 of {pool} {name} examples after "
            "stratified rounding): lower the fractions"
        )
    for split, (key, value) in asked.items():
        if value and sizes[split] < 1:
            raise ConfigError(
                f"data.{key}={_g(value)} leaves the {SPLIT_NAMES[split]} split empty (0 of "
                f"{pool} {name} examples): raise it to hold at least one example, or set 0 "
                f"for no {SPLIT_NAMES[split]} split"
            )


def check_disjoint(name: str, indices: Mapping[str, np.ndarray | None]) -> None:
    """Index sets into one pool never overlap (a bug if they do, not a user error)."""
    items = [(k, v) for k, v in indices.items() if v is not None]
    for i, (a, ia) in enumerate(items):
        for b, ib in items[i + 1 :]:
            if np.intersect1d(ia, ib).size:
                raise AssertionError(f"{name}: the {a} and {b} splits share examples")


# ---------------------------------------------------------------------------- MNIST files
IMAGE_SHAPES = "(n, 28, 28) or (n, 784)"
LABELS = "integers 0..9"


KINDS = {"O": "Python objects", "U": "strings", "S": "byte strings", "b": "booleans"}


def _describe(a: np.ndarray) -> str:
    return KINDS.get(a.dtype.kind, f"dtype {a.dtype}")


def check_mnist_arrays(arrays: Mapping[str, np.ndarray], files: Mapping[str, Path]) -> None:
    """Check the four MNIST arrays read from a user's files; ``files[key]`` names the file
    each came from. Images: a numeric array of shape (n, 28, 28) or (n, 784), finite,
    pixel values 0..255 (the raw bytes; the loader divides by 255), at least one image.
    Labels: an integer vector of values 0..9, one per image."""
    for split in ("train", "test"):
        xk, yk = f"x_{split}", f"y_{split}"
        x, y = arrays[xk], arrays[yk]
        xf, yf = files[xk], files[yk]

        def bad(file: Path, key: str, found: str, expected: str) -> ResearchError:
            return ResearchError(f"{file}: {key} {found}; expected {expected}")

        # images
        if x.dtype.kind not in "iuf":
            raise bad(xf, xk, f"holds {_describe(x)}", f"numeric images of shape {IMAGE_SHAPES}")
        if not (x.ndim == 3 and x.shape[1:] == (28, 28) or x.ndim == 2 and x.shape[1] == 784):
            raise bad(xf, xk, f"has shape {x.shape}", f"images of shape {IMAGE_SHAPES}")
        if len(x) == 0:
            raise bad(xf, xk, "has no images", "at least one")
        if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
            count = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
            raise bad(xf, xk, f"has {count} NaN or infinite values", "finite pixel values 0..255")
        lo, hi = x.min(), x.max()
        if lo < 0 or hi > 255:
            raise bad(xf, xk, f"has values {_g(lo)}..{_g(hi)}", "pixel values 0..255")
        if x.dtype.kind == "f" and 0 < hi <= 1:
            raise bad(
                xf,
                xk,
                f"has values {_g(lo)}..{_g(hi)} (already scaled?)",
                "raw pixel values 0..255 (the loader divides by 255)",
            )
        # labels
        if y.dtype.kind not in "iu":
            found = f"holds {_describe(y)}"
            if y.dtype.kind == "f":
                found = f"has float labels ({y.dtype})"
            raise bad(yf, yk, found, LABELS)
        if y.ndim != 1:
            raise bad(yf, yk, f"has shape {y.shape}", f"a vector of {LABELS}, one per image")
        if len(y) != len(x):
            raise bad(
                yf, yk, f"has {len(y)} labels but {xk} has {len(x)} images", "one label per image"
            )
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi > 9:
            raise bad(yf, yk, f"has labels {lo}..{hi}", LABELS)
