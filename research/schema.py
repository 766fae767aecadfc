"""The checks a component's config schema runs in ``__post_init__``: one-line errors.

A component declares its settings once, as a dataclass beside its code (fields, types,
defaults) whose ``__post_init__`` checks ranges with these helpers. OmegaConf checks types and
keys while Hydra composes; the ranges are checked when :func:`research.config.validate` turns
the composed group into the dataclass. The config layer prefixes the group
(``regime.lr=-1.0 is not allowed: must be > 0``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from omegaconf import MISSING

from research.errors import ConfigError

#: seeds: numpy's SeedSequence takes any whole number >= 0; 32 bits is what every consumer
#: (numpy, Optuna's samplers, DEAP, MLflow tags) reads the same way
SEED_MAX = 2**32 - 1
SEED_ALLOWED = f"must be a whole number in 0..{SEED_MAX}"

#: experiment and study names: they name folders (studies/<name>/, mlruns/artifacts/<name>/)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
NAME_ALLOWED = "letters, digits, '_', '.', '-' (no path characters), at most 100"


def require(ok: bool, key: str, value: Any, allowed: str) -> None:
    """Raise the one-line error ``key=value is not allowed: allowed`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"{key}={value!r} is not allowed: {allowed}")


def one_of(key: str, value: Any, names) -> None:
    require(value in names, key, value, "choose one of: " + ", ".join(sorted(map(str, names))))


def fraction(key: str, value: float, *, closed: bool = False) -> None:
    ok = 0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0
    require(ok, key, value, "must be in [0, 1]" if closed else "must be in [0, 1)")


def positive(key: str, value: float | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    require(value is not None and value > 0, key, value, "must be > 0")


def at_least(key: str, value: float, low: float) -> None:
    require(value >= low, key, value, f"must be >= {low}")


def within(key: str, value: float, low: float, high: float) -> None:
    """``low <= value <= high`` (whole-number ranges: ``must be in low..high``)."""
    require(low <= value <= high, key, value, f"must be in {low}..{high}")


def seed(key: str, value: Any, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= SEED_MAX
    require(ok, key, value, SEED_ALLOWED)


def name_ok(key: str, value: Any) -> None:
    """A name that becomes a folder: no path characters."""
    require(bool(NAME_PATTERN.match(str(value))), key, value, NAME_ALLOWED)


@dataclass
class StudyConfig:
    """The fields every study kind's schema starts with (``study:`` group). A kind's own
    schema subclasses it and adds its settings, each checked in ``__post_init__``."""

    kind: str = MISSING  # the kind's registered name, or the import path of a plugin's kind
    name: str | None = None  # MLflow experiment and studies/<name>/; defaults to the option
    report: bool = True  # write studies/<name>/report.html at the end and attach it to MLflow

    def __post_init__(self) -> None:
        if self.name is not None:
            name_ok("name", self.name)
