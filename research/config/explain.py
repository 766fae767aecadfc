"""One line from a Hydra/OmegaConf error: the key, the bad value and what is allowed.

A wrong type says what the structured config's field expects (``regime.lr expects a float,
got 'abc'``); an unknown key or group names the nearest one (``did you mean regime.lr?``,
difflib over the composed config's dotted keys and the config groups).
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import re
import types
import typing
from collections.abc import Iterable
from typing import Any

from omegaconf import DictConfig

#: OmegaConf's words for a type it could not convert to -> ours
CONVERSIONS = {"Float": float, "Integer": int, "Boolean": bool, "String": str}


def explain(exc: BaseException) -> str:
    """One line from a Hydra/OmegaConf error, keeping the key and the allowed choices."""
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    missing = re.search(r"Could not find '([^']+)'", text)
    if missing:
        return _unknown_option(missing.group(1), text, lines)
    head = lines[0] if lines else type(exc).__name__
    sweep = re.match(r"(?:Ambiguous value for argument|Sweep parameters) '(.+)'", head)
    if sweep:
        return (
            f"{sweep.group(1)} is a sweep: add -m (--multirun) to run one job per value, "
            "or write a list as key=[a,b]"
        )
    cause = exc.__cause__
    merging = re.match(r"Error merging override (.+)$", head)
    if merging and cause is not None:
        typed = wrong_type(merging.group(1), cause)
        if typed:
            return typed
    if cause is not None and head.startswith("Could not override"):
        inner = str(cause).strip().splitlines()
        if inner:
            return f"{head.rstrip('.')}: {inner[0]}"
    key = re.search(r"full_key:\s*(\S+)", text)
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
    names = [n for n in names if not n.startswith(("base_", "_plugin_"))]
    return f"unknown {group} {path.split('/', 1)[-1]!r}; choose one of: " + ", ".join(names)


# ------------------------------------------------------------------------------ wrong types
def wrong_type(override: str, cause: BaseException) -> str | None:
    """``<key> expects <type>, got '<value>'`` for an override OmegaConf could not convert,
    the type read from the structured config's field (``None`` if it cannot be told)."""
    key, _, value = override.partition("=")
    key = key.lstrip("+~")
    field_type = _field_type(getattr(cause, "object_type", None), getattr(cause, "key", None))
    full_key = str(getattr(cause, "full_key", "") or "")
    message = str(cause).splitlines()[0] if str(cause) else ""
    if full_key != key and full_key.startswith(key + "["):  # one element of a list is wrong
        element = _converted_to(message)
        field_type = list[element] if element is not None else list
    if field_type is None:
        field_type = _converted_to(message)
    wanted = describe(field_type) if field_type is not None else None
    if wanted is None:
        return None
    return f"{key} expects {wanted}, got {value!r}"


def _field_type(owner: Any, name: Any) -> Any:
    """The annotation of field ``name`` of dataclass ``owner`` (None if there is none)."""
    if not (isinstance(owner, type) and dataclasses.is_dataclass(owner)) or name is None:
        return None
    try:
        hints = typing.get_type_hints(owner)
    except Exception:  # noqa: BLE001 - an annotation that does not resolve: no hint
        return None
    return hints.get(str(name))


def _converted_to(message: str) -> type | None:
    """The type OmegaConf's message says a value could not become."""
    found = re.search(r"converted to (\w+)", message)
    if found:
        return CONVERSIONS.get(found.group(1))
    if "is not a valid bool" in message:
        return bool
    if "is not a ListConfig" in message:
        return list
    if "to string" in message:
        return str
    return None


ARTICLES = {float: "a float", int: "an int", bool: "a bool (true or false)", str: "a string"}


def describe(hint: Any) -> str | None:
    """A type as the error says it: ``a float``, ``a list of ints``, ``a float or null``."""
    if hint in ARTICLES:
        return ARTICLES[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        kinds = [describe(a) for a in args if a is not type(None)]
        if None in kinds or not kinds:
            return None
        return " or ".join(kinds) + (" or null" if type(None) in args else "")
    if hint in (list, tuple) or origin in (list, tuple):
        inner = ARTICLES.get(args[0]) if args else None
        return "a list" + (f" of {inner.split(' ')[1]}s" if inner else "")
    if hint is dict or origin is dict or dataclasses.is_dataclass(hint):
        return "a mapping of keys"
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return "one of " + ", ".join(m.name for m in hint)
    return None


# ------------------------------------------------------------------------------ unknown keys
def unknown_key(key: str, cfg: DictConfig | None, groups: Iterable[str]) -> str:
    """``unknown key 'regime.lrr'; did you mean regime.lr?``: the nearest of the composed
    config's dotted keys and the config groups; else the keys that are there."""
    keys = sorted(set(dotted_keys(cfg) if cfg is not None else []) | set(groups))
    near = nearest(key, keys)
    if near:
        return f"unknown key {key!r}; did you mean {near}?"
    parent = key.rsplit(".", 1)[0] if "." in key else ""
    here = [k[len(parent) + 1 :] if parent else k for k in keys if _child_of(k, parent)]
    if not here:
        return f"unknown key {key!r}"
    where = f"{parent} has" if parent else "choose one of"
    return f"unknown key {key!r}; {where}: " + ", ".join(here)


def nearest(key: str, keys: list[str]) -> str | None:
    """The closest of ``keys`` to ``key`` (difflib): a key beside it by its last part, else,
    when its parent is not a key either (the typo is there), any key by its full path."""
    parent, _, leaf = key.rpartition(".")
    siblings = {k.rpartition(".")[2]: k for k in keys if _child_of(k, parent)}
    found = difflib.get_close_matches(leaf, list(siblings), n=1, cutoff=0.6)
    if found:
        return siblings[found[0]]
    if parent and parent not in keys:
        found = difflib.get_close_matches(key, keys, n=1, cutoff=0.75)
        return found[0] if found else None
    return None


def _child_of(key: str, parent: str) -> bool:
    if not parent:
        return "." not in key
    return key.startswith(parent + ".") and "." not in key[len(parent) + 1 :]


def dotted_keys(node: Any, prefix: str = "") -> list[str]:
    """Every key of a composed config as a full dotted path (mappings only, not lists)."""
    out = []
    if isinstance(node, DictConfig):
        for k in node:
            path = f"{prefix}.{k}" if prefix else str(k)
            if path == "hydra":
                continue
            out.append(path)
            child = node._get_node(k)
            if isinstance(child, DictConfig) and not child._is_none():
                out.extend(dotted_keys(child, path))
    return out
