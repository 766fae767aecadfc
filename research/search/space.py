"""Search spaces written in the grammar of Hydra's sweepers, parsed by Hydra's own parser.

    params:
      regime: choice(sgd, momentum, adam)          -> categorical over group options
      regime.lr: tag(log, interval(1e-3, 3.0))     -> float, log scale
      model.hidden: choice([64], [128, 64])        -> categorical over list values
      regime.batch_size: range(16, 129, 16)        -> int 16, 32, ..., 128
      regime.epochs: int(interval(5, 40))          -> int, uniform

Each entry becomes one Optuna distribution; a sampled value becomes one Hydra override.
A conditional space (an architecture search) adds keys searched only when a categorical key
has one value, in ``study.when``:

    params:
      model: choice(mlp, cnn, gru)
    when:
      model=cnn:
        model.channels: choice([25,25,25], [32,64,64])   -> parameter "model:cnn/model.channels"

Nothing here ever ``eval``s config text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep
from hydra.errors import HydraException
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from research.errors import ConfigError

TAGS = {"log"}
SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Dimension:
    """One searched key: its Optuna distribution and how a value becomes an override."""

    key: str
    distribution: BaseDistribution
    text: str  # the declaration as written, for messages and the parent run's tags
    #: (key, value): searched only in trials where ``key`` took ``value`` (None: always)
    when: tuple[str, Any] | None = None

    @property
    def name(self) -> str:
        """The Optuna parameter's name: the key, after its condition when it has one
        (``model:cnn/model.hidden``: two families may search one key over different choices;
        MLflow allows ':' and '/' in a param name, not '=' or brackets)."""
        if self.when is None:
            return self.key
        return f"{self.when[0]}:{_as_override_text(self.when[1])}/{self.key}"

    def applies(self, params: Mapping[str, Any]) -> bool:
        """Whether a trial whose sampled values are ``params`` searches this key."""
        return self.when is None or params.get(self.when[0]) == self.when[1]

    def override(self, value: Any) -> str:
        """The Hydra override that sets ``key`` to the sampled ``value``."""
        return f"{self.key}={_as_override_text(value)}"


def _as_override_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _element_text(value: Any) -> Any:
    """Categorical choices must be scalars: lists and dicts become their override text."""
    if isinstance(value, SCALARS):
        return value
    if isinstance(value, list):
        return "[" + ",".join(str(_element_text(v)) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_element_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _fail(key: str, text: str, why: str) -> ConfigError:
    return ConfigError(f"study.params.{key}={text!r} is not allowed: {why}")


def parse_dimension(key: str, text: str, parser: OverridesParser | None = None) -> Dimension:
    """Parse one ``key: sweep`` entry into a :class:`Dimension`."""
    parser = parser or OverridesParser.create()
    try:
        override = parser.parse_override(f"{key}={text}")
    except HydraException as exc:
        first = str(exc).strip().splitlines()[0]
        raise _fail(key, text, f"not valid sweep syntax ({first})") from None
    sweep = override.value()
    tags = getattr(sweep, "tags", set()) or set()
    if tags - TAGS:
        raise _fail(key, text, f"unknown tag(s) {sorted(tags - TAGS)}; allowed: log")
    log = "log" in tags
    if isinstance(sweep, ChoiceSweep):
        if log:
            raise _fail(key, text, "tag(log, ...) applies to interval() and range() only")
        choices = tuple(_element_text(v) for v in sweep.list)
        if not choices:
            raise _fail(key, text, "choice() needs at least one option")
        if len(set(map(repr, choices))) != len(choices):
            raise _fail(key, text, "choice() lists an option twice")
        for choice in choices:
            if isinstance(choice, float) and not math.isfinite(choice):
                raise _fail(key, text, f"choice() options must be finite numbers (got {choice})")
        return Dimension(key, CategoricalDistribution(choices), text)
    if isinstance(sweep, IntervalSweep):
        low, high = sweep.start, sweep.end
        _check_bounds(key, text, low, high, log)
        if isinstance(low, int) and isinstance(high, int):
            return Dimension(key, IntDistribution(low, high, log=log), text)
        return Dimension(key, FloatDistribution(float(low), float(high), log=log), text)
    if isinstance(sweep, RangeSweep):
        start, stop, step = sweep.start, sweep.stop, sweep.step
        for what, end in (("start", start), ("stop", stop), ("step", step)):
            if isinstance(end, float) and not math.isfinite(end):
                raise _fail(key, text, f"range() needs a finite {what} (got {end})")
        if step is None or step <= 0:
            raise _fail(key, text, "range() needs a positive step")
        # its ends by arithmetic: listing range(0, 1e15) would never end
        count = math.ceil((stop - start) / step) if stop is not None and start is not None else 0
        if count <= 0:
            raise _fail(key, text, "range() is empty (stop is exclusive, as in Python)")
        low, high = start, start + (count - 1) * step
        _check_bounds(key, text, low, high, log)
        if log and step != 1:
            raise _fail(key, text, "tag(log, range(...)) needs step 1 (Optuna's rule)")
        if all(isinstance(v, int) for v in (start, stop, step)):
            return Dimension(
                key, IntDistribution(int(low), int(high), log=log, step=int(step)), text
            )
        return Dimension(
            key,
            FloatDistribution(float(low), float(high), step=None if log else float(step), log=log),
            text,
        )
    raise _fail(
        key, text, "give choice(...), range(...) or interval(...), optionally in tag(log, ...)"
    )


def _check_bounds(key: str, text: str, low, high, log: bool) -> None:
    if low is None or high is None:
        raise _fail(key, text, "give both bounds")
    for end in (low, high):
        if isinstance(end, float) and not math.isfinite(end):
            raise _fail(key, text, f"interval ends must be finite numbers (got {end})")
    if low > high:
        raise _fail(key, text, f"low {low} > high {high}")
    if log and low <= 0:
        raise _fail(key, text, f"a log scale needs low > 0 (got {low})")


def parse_space(params: Mapping[str, Any]) -> dict[str, Dimension]:
    """Parse a study's ``params`` mapping (key -> sweep text); a ``null`` entry is not searched
    (how a command line removes a key: ``study.params={model.dropout:null}``)."""
    params = {k: v for k, v in params.items() if v is not None}
    if not params:
        raise ConfigError("study.params is empty: declare at least one searched key")
    parser = OverridesParser.create()
    return {key: parse_dimension(key, str(text), parser) for key, text in params.items()}


def parse_when(when: Mapping[str, Any], space: Mapping[str, Dimension]) -> dict[str, Dimension]:
    """Parse ``study.when`` (``"key=value" -> {key: sweep}``) against the unconditional
    ``space``: each condition must name a categorical key of ``space`` and one of its choices."""
    parser = OverridesParser.create()
    out: dict[str, Dimension] = {}
    for condition, params in when.items():
        key, _, value = str(condition).partition("=")
        dist = space[key].distribution if key in space else None
        if not isinstance(dist, CategoricalDistribution):
            raise ConfigError(
                f"study.when.{condition} is not allowed: a condition is KEY=VALUE with KEY a "
                f"choice() of study.params (choose from: {', '.join(sorted(space))})"
            )
        chosen = next((c for c in dist.choices if _as_override_text(c) == value), None)
        if chosen is None:
            options = ", ".join(str(_as_override_text(c)) for c in dist.choices)
            raise ConfigError(
                f"study.when.{condition} is not allowed: {value!r} is not one of "
                f"study.params.{key}'s choices ({options})"
            )
        for sub, text in (params or {}).items():
            if text is None:
                continue
            dim = parse_dimension(sub, str(text), parser)
            dim = Dimension(dim.key, dim.distribution, dim.text, (key, chosen))
            out[dim.name] = dim
    return out


def suggest(trial, name: str, dist: BaseDistribution) -> Any:
    """Ask ``trial`` (an ``optuna.Trial``) for parameter ``name`` of distribution ``dist``,
    through the public ``suggest_*`` methods."""
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
