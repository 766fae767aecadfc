"""Named components, one mechanism for all: optimisers, schedules, models, data sets, tasks,
engines, encodings, selections, samplers, pruners and study kinds.

A :class:`Registry` maps a config name to a factory (a class or function) and, for components
whose settings are a config group, to the dataclass *schema* that declares their fields,
defaults and ranges beside the code. Three ways in, tried in this order:

1. ``@REGISTRY.register("name", schema=...)`` beside the component (the built-in ones);
2. an installed package's entry point in the registry's group (``research.optimisers``, ...):
   ``[project.entry-points."research.optimisers"] lion = "mypkg.lion:Lion"``;
3. an import path as the name, Hydra's ``_target_`` convention: ``regime=...`` is a YAML
   whose ``name: mypkg.lion.Lion`` (or ``mypkg.lion:Lion``) names the object itself.

A name that is none of these is one line: ``unknown optimiser 'adamw'; choose one of: ...``.
:meth:`Registry.build` checks keywords against the factory's signature first, so a typo in a
setting is one line naming it and the allowed ones, never a ``TypeError`` mid-run.

Study kinds (:data:`KINDS`) live here rather than beside their code: the config layer looks
them up by name, and the built-in kinds (which compose configs themselves) are named by import
path exactly as a user's plugin kind would be.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from research.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered component: its factory and the schema of its config (if any)."""

    name: str
    factory: T
    schema: type | None = None


def import_object(path: str) -> Any:
    """``pkg.mod:Obj`` or ``pkg.mod.Obj`` -> the object; a one-line ConfigError otherwise."""
    module, sep, attr = path.partition(":")
    if not sep:
        module, _, attr = path.rpartition(".")
    if not module or not attr:
        raise ConfigError(f"{path!r} is not an import path: give package.module.Object")
    try:
        obj = importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"cannot import {module!r} (from {path!r}): {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"{path!r}: module {module!r} has no {attr!r}")
        obj = getattr(obj, part)
    return obj


def is_import_path(name: str) -> bool:
    """A name that points into a module (``a.b.C``, ``a.b:C``) rather than a registry entry."""
    return isinstance(name, str) and (":" in name or "." in name)


def keywords(factory: Callable[..., Any], skip: int = 0) -> tuple[list[str], bool]:
    """(keyword names ``factory`` accepts, whether it takes ``**kwargs``), following a class's
    ``**settings`` up its bases; the first ``skip`` positional parameters are not settings."""
    names: list[str] = []
    targets = (
        [k.__dict__.get("__init__") for k in factory.__mro__]
        if isinstance(factory, type)
        else [factory]
    )
    for target in targets:
        if target is None:
            continue
        params = list(inspect.signature(target).parameters.values())
        if isinstance(factory, type):
            params = params[1:]  # self
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        skipped = {p.name for p in positional[:skip]}
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in skipped:
                continue
            if p.name not in names:
                names.append(p.name)
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return names, False
    return names, True


class Registry(Generic[T]):
    """Components of one kind (``what``: "optimiser", "task", ...) found by name."""

    def __init__(
        self, what: str, *, group: str | None = None, builtins: Mapping[str, str] | None = None
    ) -> None:
        self.what = what
        self.group = group  # entry-point group: research.<plural>
        self._entries: dict[str, Entry[T]] = {}
        self._lazy = dict(builtins or {})  # name -> import path, loaded on first use
        self._plugins_loaded = group is None

    # ------------------------------------------------------------------ registering
    def register(self, name: str, factory: T | None = None, *, schema: type | None = None):
        """Add ``factory`` under ``name`` (usable as a decorator). Re-registering the same
        name replaces it: a plugin may override a built-in on purpose."""

        def add(obj: T) -> T:
            self._entries[name] = Entry(name, obj, schema)
            return obj

        return add if factory is None else add(factory)

    # -------------------------------------------------------------------- looking up
    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=self.group):
            if ep.name not in self._entries:
                self._lazy.setdefault(ep.name, ep.value)

    def _resolve(self, name: str) -> None:
        path = self._lazy.pop(name, None)
        if path is None or name in self._entries:
            return
        obj = import_object(path)
        if name not in self._entries:  # importing the module may have registered it
            self.register(name, obj, schema=getattr(obj, "schema", None))

    def names(self) -> list[str]:
        """Every registered name (built-in, entry points), sorted."""
        self._load_plugins()
        return sorted({*self._entries, *self._lazy})

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if is_import_path(name):
            return True
        self._load_plugins()
        return name in self._entries or name in self._lazy

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def entry(self, name: str) -> Entry[T]:
        """The entry ``name``: registered, from an entry point, or an import path."""
        self._load_plugins()
        if name not in self._entries:
            if name in self._lazy:
                self._resolve(name)
            elif is_import_path(name):
                obj = import_object(name)
                return Entry(name, obj, getattr(obj, "schema", None))
            else:
                raise self.unknown(name)
        return self._entries[name]

    def get(self, name: str) -> T:
        return self.entry(name).factory

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def schema(self, name: str) -> type | None:
        return self.entry(name).schema

    def items(self) -> list[Entry[T]]:
        """Every entry, built-ins and plugins loaded."""
        return [self.entry(name) for name in self.names()]

    def unknown(self, name: Any) -> ConfigError:
        return ConfigError(
            f"unknown {self.what} {name!r}; choose one of: {', '.join(self.names())}"
        )

    # ---------------------------------------------------------------------- building
    def check_keywords(self, name: str, settings: Mapping[str, Any], skip: int = 0) -> None:
        """Each key of ``settings`` is a keyword the factory of ``name`` accepts."""
        allowed, open_ended = keywords(self.get(name), skip)
        if open_ended:
            return
        for key in settings:
            if key not in allowed:
                raise ConfigError(
                    f"unknown setting {key!r} for {self.what} {name!r}; choose from: "
                    + (", ".join(sorted(allowed)) or "(none)")
                )

    def build(self, name: str, *args: Any, **settings: Any) -> Any:
        """``factory(*args, **settings)`` after checking the keywords; a ``TypeError`` or
        ``ValueError`` from the factory becomes one line naming the component."""
        factory = self.get(name)
        self.check_keywords(name, settings, skip=len(args))
        try:
            return factory(*args, **settings)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"bad setting for {self.what} {name!r}: {exc}") from None


#: study kinds: ``train`` (one run), ``search`` (Optuna), ``evolve`` (DEAP engines); a user's
#: kind is an entry point in ``research.kinds`` or an import path in ``study.kind``
KINDS: Registry[Any] = Registry(
    "study kind",
    group="research.kinds",
    builtins={
        "train": "research.kinds.train:KIND",
        "search": "research.kinds.search:KIND",
        "evolve": "research.kinds.evolve:KIND",
    },
)
