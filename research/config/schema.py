"""The root config and where each group's schema is found.

Every group option (``conf/<group>/<option>.yaml``) extends a dataclass schema stored in
Hydra's ConfigStore as ``<group>/base_<name>``. The schemas live beside their components and
are found through the components' registries: ``data`` in :data:`research.data.DATASETS`,
``model`` in :data:`research.nn.build.MODELS`, ``regime`` in
:data:`research.train.base.OPTIMISERS`, ``study`` in :data:`research.registry.KINDS` (by
``kind``); ``tracking`` has one schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from research.data import DATASETS
from research.nn.build import MODELS
from research.registry import KINDS, Registry
from research.track.settings import TrackingConfig
from research.train import OPTIMISERS


@dataclass
class Config:
    """The root config. ``study`` is absent for a single training run."""

    data: Any = MISSING
    model: Any = MISSING
    regime: Any = MISSING
    tracking: Any = MISSING
    study: Any = None
    task: Any = None  # evolution studies: what the networks are scored on (conf/task/)
    name: str = "train"
    seed: int = 0
    blas_threads: Any = "auto"  # per process: auto, null (BLAS's default) or an int >= 1


#: group -> (the registry of its schemas, the key of a group that names its entry)
REGISTRIES: dict[str, tuple[Registry[Any], str]] = {
    "data": (DATASETS, "name"),
    "model": (MODELS, "name"),
    "regime": (OPTIMISERS, "name"),
    "study": (KINDS, "kind"),
}
#: groups with a single schema
FIXED: dict[str, type] = {"tracking": TrackingConfig}


def schema_of(group: str, node: Any) -> type | None:
    """The schema of a composed group: fixed, or its registry's entry named by the group's
    ``name`` (``kind`` for a study). An unknown name is the registry's one-line error."""
    if group in FIXED:
        return FIXED[group]
    registry, key = REGISTRIES[group]
    return registry.schema(str(node.get(key)))


def store_schemas() -> None:
    """Put every registered schema in Hydra's ConfigStore as ``<group>/base_<name>`` (the
    study kinds load here, when a config is first composed: they import the config layer)."""
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)
    cs.store(group="tracking", name="base_tracking", node=TrackingConfig)
    for group, (registry, _) in REGISTRIES.items():
        for entry in registry.items():
            if entry.schema is not None:
                cs.store(group=group, name=f"base_{entry.name}", node=entry.schema)
