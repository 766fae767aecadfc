"""The ``data`` group: one schema per data set, beside its loader (:mod:`research.data.loaders`).

A schema's fields are the loader's keyword arguments (``name`` picks the loader); its
``__post_init__`` checks their ranges, and ``shape()`` says how big the data set is for the
config layer's memory estimate: (inputs, outputs, examples, the key that sets the examples).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from omegaconf import MISSING

from research import schema as S


@dataclass
class DataConfig:
    """Which data set to load; the other fields are the loader's keyword arguments."""

    #: (inputs, outputs, examples) of a data set whose size no setting changes
    size: ClassVar[tuple[int, int, float]] = (1, 1, 1.0)

    name: str = MISSING

    def shape(self) -> tuple[int, int, float, str | None]:
        """(inputs, outputs, examples, the key that sets the examples: None if fixed)."""
        return (*self.size, None)


def _counts(data: DataConfig, n_in: int, n_out: int, *keys: str, per: int = 1):
    """The shape of a generated set whose examples are counted by ``keys``."""
    values = {k: float(getattr(data, k)) for k in keys}
    return n_in, n_out, sum(values.values()) * per, max(values, key=values.get)


@dataclass
class Mnist1dData(DataConfig):
    size: ClassVar[tuple[int, int, float]] = (40, 10, 5000.0)

    name: str = "mnist1d"
    val_fraction: float = 0.2
    cache_dir: str | None = None
    n_train: int | None = None

    def __post_init__(self) -> None:
        S.fraction("val_fraction", self.val_fraction)
        S.positive("n_train", self.n_train, allow_none=True)


@dataclass
class DigitsData(DataConfig):
    size: ClassVar[tuple[int, int, float]] = (64, 10, 1797.0)

    name: str = "digits"
    val_fraction: float = 0.2
    test_fraction: float = 0.2

    def __post_init__(self) -> None:
        S.fraction("val_fraction", self.val_fraction)
        S.fraction("test_fraction", self.test_fraction)


@dataclass
class MnistData(DataConfig):
    size: ClassVar[tuple[int, int, float]] = (784, 10, 70000.0)

    name: str = "mnist"
    path: str | None = None
    n_train: int = 50000
    n_val: int = 10000

    def __post_init__(self) -> None:
        S.require(0 < self.n_train <= 60000, "n_train", self.n_train, "must be in 1..60000")
        S.require(
            0 <= self.n_val <= 60000 - self.n_train,
            "n_val",
            self.n_val,
            "must be in 0..60000-n_train",
        )


@dataclass
class XorData(DataConfig):
    size: ClassVar[tuple[int, int, float]] = (2, 2, 4.0)

    name: str = "xor"


@dataclass
class ParityData(DataConfig):
    name: str = "parity"
    n_bits: int = 4

    def __post_init__(self) -> None:
        S.require(1 <= self.n_bits <= 16, "n_bits", self.n_bits, "must be in 1..16")

    def shape(self) -> tuple[int, int, float, str | None]:
        return self.n_bits, 2, 2.0**self.n_bits, None


@dataclass
class RecallData(DataConfig):
    """Recall the first symbol of a long random sequence (research/data/sequences.py)."""

    name: str = "recall"
    length: int = 50
    n_symbols: int = 4
    n_train: int = 2000
    n_val: int = 500
    n_test: int = 500

    def __post_init__(self) -> None:
        S.require(self.length >= 2, "length", self.length, "must be >= 2")
        S.require(self.n_symbols >= 2, "n_symbols", self.n_symbols, "must be >= 2")
        S.require(self.n_train >= 1, "n_train", self.n_train, "must be >= 1")
        S.require(self.n_val >= 0 and self.n_test >= 0, "n_val", self.n_val, "must be >= 0")

    def shape(self) -> tuple[int, int, float, str | None]:
        n = float(self.n_train + self.n_val + self.n_test)
        return self.length * self.n_symbols, self.n_symbols, n, "n_train"


@dataclass
class Ring8Data(DataConfig):
    """8 Gaussians on a ring, radius 2, std 0.02 (research/data/mixtures.py): label = mode."""

    name: str = "ring8"
    n_train: int = 5000
    n_val: int = 1000
    n_test: int = 1000
    radius: float = 2.0
    std: float = 0.02

    def __post_init__(self) -> None:
        S.require(self.n_train >= 1, "n_train", self.n_train, "must be >= 1")
        S.require(self.n_val >= 0, "n_val", self.n_val, "must be >= 0")
        S.require(self.n_test >= 0, "n_test", self.n_test, "must be >= 0")
        S.positive("radius", self.radius)
        S.positive("std", self.std)

    def shape(self) -> tuple[int, int, float, str | None]:
        return _counts(self, 2, 8, "n_train", "n_val", "n_test")


@dataclass
class SpiralsData(DataConfig):
    name: str = "spirals"
    n_per_class: int = 200
    noise: float = 0.1
    val_fraction: float = 0.2
    test_fraction: float = 0.2

    def __post_init__(self) -> None:
        S.positive("n_per_class", self.n_per_class)
        S.at_least("noise", self.noise, 0)
        S.fraction("val_fraction", self.val_fraction)
        S.fraction("test_fraction", self.test_fraction)

    def shape(self) -> tuple[int, int, float, str | None]:
        return _counts(self, 2, 2, "n_per_class", per=2)


@dataclass
class _SeriesData(DataConfig):
    """A generated regression set, one input and one output, of ``n_train``/``n_val``/
    ``n_test`` examples; subclasses set ``name`` and may redeclare the counts' defaults."""

    n_train: int = 100
    n_val: int = 100
    n_test: int = 100

    def __post_init__(self) -> None:
        for key in ("n_train", "n_val", "n_test"):
            S.positive(key, getattr(self, key))

    def shape(self) -> tuple[int, int, float, str | None]:
        return _counts(self, 1, 1, "n_train", "n_val", "n_test")


@dataclass
class LogisticMapData(_SeriesData):
    name: str = "logistic_map"
    r: float = 4.0
    x0: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        S.require(0 < self.r <= 4, "r", self.r, "must be in (0, 4]")
        if self.x0 is not None:
            S.require(0 < self.x0 < 1, "x0", self.x0, "must be in (0, 1)")


@dataclass
class SineData(_SeriesData):
    name: str = "sine"
    n_train: int = 200
    noise: float = 0.0
    low: float = -3.14159
    high: float = 3.14159

    def __post_init__(self) -> None:
        super().__post_init__()
        S.at_least("noise", self.noise, 0)
        S.require(self.low < self.high, "low", self.low, f"must be < high ({self.high})")
