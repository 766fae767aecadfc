"""Validating a composed config generically: each group becomes its schema's object.

OmegaConf checks types and keys while Hydra composes; here every interpolation is resolved
once, numbers must be finite, and each group is turned into the schema its registry names
(whose ``__post_init__`` checks ranges), then the checks that need several groups at once:
data splits, memory, folders. Every problem is one :class:`~research.errors.ConfigError`
line naming the full key (``regime.lr=-1.0 is not allowed: must be > 0``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, fields
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from research import schema as S
from research import threads
from research.config.environment import check_environment
from research.config.explain import explain, unknown_key
from research.config.memory import check_memory
from research.config.schema import Config, schema_of
from research.data.checks import check_splits
from research.errors import ConfigError

GROUPS = ("data", "model", "regime", "tracking")


def validate(cfg: DictConfig) -> dict[str, Any]:
    """Check ranges and names of every group; return the groups as schema objects."""
    try:  # every interpolation, resolved once: a bad one is a line naming its key
        OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(explain(exc)) from None
    _check_root_keys(cfg)
    S.name_ok("name", cfg.name)
    S.seed("seed", cfg.seed)
    task = cfg.get("task")
    if isinstance(task, DictConfig) and task.get("seed") is not None:
        S.seed("task.seed", task.seed)
    S.require(threads.is_valid(cfg.blas_threads), "blas_threads", cfg.blas_threads, threads.ALLOWED)
    groups = [*GROUPS, "study"] if cfg.get("study") is not None else list(GROUPS)
    for group in groups:
        if not isinstance(cfg[group], DictConfig):
            raise ConfigError(
                f"{group}={OmegaConf.to_yaml(cfg[group]).splitlines()[0]!r}... is not allowed: "
                f"its config file must hold a mapping of keys, not a {type(cfg[group]).__name__}"
            )
        _check_finite(group, OmegaConf.to_container(cfg[group], resolve=True))
    objects = {group: _to_object(cfg, group) for group in groups}
    check_splits(objects["data"].name, asdict(objects["data"]))  # together, not one by one
    check_memory(cfg, objects)
    check_environment(objects)
    return objects


def _check_root_keys(cfg: DictConfig) -> None:
    """A key Hydra's ``+`` added at the top that the root config does not know
    (``+stduy=bayes``) is a typo, not a setting: nothing would ever read it."""
    known = [f.name for f in fields(Config)]
    for key in cfg:
        if key not in known and key != "hydra":
            raise ConfigError(unknown_key(str(key), None, known))


def _to_object(cfg: DictConfig, group: str) -> Any:
    """The group as its schema's object. A group composed without its schema (a plugin's
    YAML that only names its component) is merged into the schema first, and the merged
    group replaces it in ``cfg``: the run logs every field with its default. Range errors
    get the group's prefix."""
    node = cfg[group]
    schema = schema_of(group, node)  # an unknown name: the registry's line, unprefixed
    if schema is None:
        return node
    try:
        if OmegaConf.get_type(node) is not schema:
            plain = OmegaConf.to_container(node, resolve=True)  # another type: its values
            node = OmegaConf.merge(OmegaConf.structured(schema), plain)
            cfg[group] = node
        obj = OmegaConf.to_object(node)
    except ConfigError as exc:
        raise ConfigError(f"{group}.{exc}") from None
    except OmegaConfBaseException as exc:
        raise ConfigError(explain(exc)) from None
    known = {f.name for f in fields(schema)}
    extra = [k for k in node if k not in known]  # added with Hydra's ``+``: a typo
    if extra:
        siblings = [f"{group}.{k}" for k in known]
        raise ConfigError(unknown_key(f"{group}.{extra[0]}", None, siblings))
    return obj


def _check_finite(key: str, value: Any) -> None:
    """Refuse NaN and infinities anywhere in a group: a learning rate, temperature, penalty,
    interval or step size that is not a finite number only ever diverges or hangs."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(f"{key}.{k}", v)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_finite(f"{key}[{i}]", v)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key}={value!r} is not allowed: must be a finite number")
