"""Composing ``conf/`` with Hydra, and turning Hydra's and YAML's errors into one line."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import yaml
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

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


def explain(exc: BaseException) -> str:
    """One line from a Hydra/OmegaConf error, keeping the key and the allowed choices."""
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    missing = re.search(r"Could not find '([^']+)'", text)
    if missing:
        return _unknown_option(missing.group(1), text, lines)
    key = re.search(r"full_key:\s*(\S+)", text)
    head = lines[0] if lines else type(exc).__name__
    cause = exc.__cause__
    if cause is not None and head.startswith("Could not override"):
        inner = str(cause).strip().splitlines()
        if inner:
            return f"{head.rstrip('.')}: {inner[0]}"
    if key and key.group(1) not in head:
        return f"{key.group(1)}: {head}"
    return head


def _unknown_option(path: str, text: str, lines: list[str]) -> str:
    """``unknown <group> '<option>'; choose one of: ...`` from Hydra's missing-option error."""
    group = path.split("/")[0]
    options = [line for line in lines if not line.startswith(("Available", "Config search", "In "))]
    avail = re.search(
        r"Available options in '[^']+':\s*(.*?)(?:\n\s*\n|Config search|$)", text, re.S
    )
    names = avail.group(1).split() if avail else options
    names = [n for n in names if not n.startswith("base_")]
    return f"unknown {group} {path.split('/', 1)[-1]!r}; choose one of: " + ", ".join(names)


def compose(overrides: list[str] | tuple[str, ...] = (), config_name: str = "config") -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with Hydra command-line ``overrides``.

    Raises :class:`ConfigError` (one line) for unknown keys, wrong types, unknown group options
    and malformed overrides. A group option that only names a plugin's component by import
    path (no ``base_*`` schema in its defaults) is composed again on top of that component's
    schema, so its fields can be overridden like a built-in's.
    """
    store_schemas()
    try:
        return _compose(list(overrides), config_name)
    except ConfigError:
        plugged = _plugin_overrides(list(overrides), config_name)
        if not plugged:
            raise
    return _compose(plugged, config_name)


def _compose(overrides: list[str], config_name: str, hydra: bool = False) -> DictConfig:
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            return hydra_compose(
                config_name=config_name, overrides=overrides, return_hydra_config=hydra
            )
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
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
