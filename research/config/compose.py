"""Composing ``conf/`` with Hydra, and turning Hydra's and YAML's errors into one line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.object_type import ObjectType
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from research.config.explain import explain, unknown_key
from research.config.schema import REGISTRIES, store_schemas
from research.errors import ConfigError
from research.registry import is_import_path


def conf_dir() -> Path:
    """The repository's ``conf/`` (a source checkout or editable install), else the copy a
    wheel ships as ``research.conf`` (pyproject.toml maps it)."""
    beside = Path(__file__).resolve().parents[2] / "conf"
    if (beside / "config.yaml").is_file():
        return beside
    return Path(str(resources.files("research.conf")))


def compose(
    overrides: list[str] | tuple[str, ...] = (), config_name: str = "config", hydra: bool = False
) -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with Hydra command-line ``overrides``.

    Raises :class:`ConfigError` (one line) for unknown keys, wrong types, unknown group options
    and malformed overrides. A group option that only names a plugin's component by import
    path (no ``base_*`` schema in its defaults) is composed again on top of that component's
    schema, so its fields can be overridden like a built-in's. With ``hydra``, the result
    holds Hydra's own node too (``hydra.runtime.choices``, ``config_sources``...).
    """
    store_schemas()
    try:
        try:
            return _compose(list(overrides), config_name, hydra)
        except ConfigError:
            plugged = _plugin_overrides(list(overrides), config_name)
            if not plugged:
                raise
        return _compose(plugged, config_name, hydra)
    except UnknownKey as exc:
        raise ConfigError(_suggest(exc.key, list(overrides), config_name)) from None


class UnknownKey(ConfigError):
    """An override names a key the config does not have (``regime.lrr``, ``regmie``)."""

    def __init__(self, key: str, line: str) -> None:
        super().__init__(line)
        self.key = key


def _suggest(key: str, overrides: list[str], config_name: str) -> str:
    """The one line for an unknown ``key``, naming the nearest key of the config composed
    with the other group selections (or with none, if those fail too) and the groups."""
    others = [o for o in overrides if _key_of(o) != key]
    selections = [o for o in others if "." not in _key_of(o) or _key_of(o).startswith("hydra.")]
    cfg = None
    for attempt in (selections, [o for o in selections if _key_of(o).startswith("hydra.")]):
        try:
            cfg = _compose(attempt, config_name)
            break
        except ConfigError:
            continue
    try:
        groups = list(config_groups(selections))
    except (HydraException, OmegaConfBaseException, ValueError):
        groups = []
    return unknown_key(key, cfg, groups)


def _key_of(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def config_groups(overrides: list[str] | tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Every config group of the search path (``conf/``, the ConfigStore and the folders a
    ``hydra.searchpath`` override adds) with its options, but Hydra's own groups and the
    stored schemas (``base_*``)."""
    fixed = [o for o in overrides if _key_of(o).startswith("hydra.")]
    with config_loader() as loader:
        return {
            group: [
                name
                for name in loader.get_group_options(group, ObjectType.CONFIG, "config", fixed)
                if not name.startswith(HIDDEN_OPTIONS)
            ]
            for group in sorted(loader.list_groups(""))
            if group != "hydra"
        }


#: options that are schemas or generated, not a user's choice
HIDDEN_OPTIONS = ("base_", "_plugin_")


@contextmanager
def config_loader() -> Iterator[Any]:
    """Hydra's config loader over ``conf/`` and the ConfigStore (group listings, globs)."""
    store_schemas()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            yield GlobalHydra.instance().config_loader()
    finally:
        GlobalHydra.instance().clear()


def _compose(overrides: list[str], config_name: str, hydra: bool = False) -> DictConfig:
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            return hydra_compose(
                config_name=config_name, overrides=overrides, return_hydra_config=hydra
            )
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        merged = _new_dict_key(exc, overrides)
        if merged is not None:
            raise ConfigError(merged) from None
        key = _unknown(exc)
        if key is not None:
            raise UnknownKey(key, explain(exc)) from None
        raise ConfigError(explain(exc)) from None
    except yaml.YAMLError as exc:  # a config file (a user's study) that is not valid YAML
        raise ConfigError(_explain_yaml(exc)) from None
    except RecursionError:
        raise ConfigError(
            "a config file includes itself (its defaults list names it, directly or through "
            "another file): remove that entry"
        ) from None
    finally:
        GlobalHydra.instance().clear()


def _unknown(exc: BaseException) -> str | None:
    """The key of ``Could not override 'K'`` when the config has no key K."""
    head = re.match(r"Could not override '([^']+)'", str(exc))
    if head and isinstance(exc.__cause__, (ConfigAttributeError, ConfigKeyError)):
        return head.group(1)
    return None


def _new_dict_key(exc: BaseException, overrides: list[str]) -> str | None:
    """The line for ``KEY={...}`` adding a key to an existing dict (Hydra merges the two; a
    new key needs the ``+`` form), or None for anything else."""
    head = re.match(r"Could not override '([^']+)'", str(exc))
    cause = exc.__cause__
    if not head or not isinstance(cause, (ConfigAttributeError, ConfigKeyError)):
        return None
    key, full = head.group(1), str(getattr(cause, "full_key", "") or "")
    if not full.startswith(key + "."):
        return None
    given = next((o for o in overrides if _key_of(o) == key), f"{key}=...")
    return (
        f"{key} has no key {full[len(key) + 1 :]!r}, and {key}={{...}} merges into it: "
        f"to add keys write +{given.lstrip('+~')}"
    )


def _plugin_overrides(overrides: list[str], config_name: str) -> list[str]:
    """``overrides`` with each group option that names a plugin component by import path
    replaced by a stored option composing the component's schema first, then the option's
    file: ``[]`` if there is none (composing the group selections alone)."""
    selections = [o for o in overrides if "." not in o.split("=", 1)[0] or o.startswith("hydra.")]
    try:
        cfg = _compose(selections, config_name, hydra=True)
    except ConfigError:
        return []
    choices = cfg.hydra.runtime.choices
    cs = ConfigStore.instance()
    plugged = []
    for group, (registry, key) in REGISTRIES.items():
        node = cfg.get(group)
        name = node.get(key) if isinstance(node, DictConfig) else None
        if not is_import_path(name) or choices.get(group) is None:
            continue
        schema = registry.schema(name)
        if schema is None or OmegaConf.get_type(node) is schema:
            continue
        base = "base_" + re.sub(r"\W", "_", name)
        option = f"_plugin_{choices[group]}"
        cs.store(group=group, name=base, node=schema)
        cs.store(group=group, name=option, node={"defaults": [base, choices[group], "_self_"]})
        plugged.append(f"{group}={option}")
    if not plugged:
        return []
    groups = {o.split("=", 1)[0] for o in plugged}
    return [o for o in overrides if o.split("=", 1)[0] not in groups] + plugged


def _explain_yaml(exc: yaml.YAMLError) -> str:
    """One line from a YAML error: the file, line and column, and what is wrong there."""
    mark = getattr(exc, "problem_mark", None)
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    problem = (getattr(exc, "problem", None) or first).strip()
    if "\t" in problem or "\\t" in problem or "tab" in problem:
        problem += " (indent with spaces; YAML does not allow tabs)"
    where = ""
    if mark is not None:
        name = "" if mark.name.startswith("<") else f"{mark.name}, "
        where = f" ({name}line {mark.line + 1}, column {mark.column + 1})"
    return f"a config file is not valid YAML: {problem}{where}"
