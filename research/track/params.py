"""A composed config as MLflow sees it: flat dotted params and the YAML artifact."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from research.track.redact import redact_value


def flatten(cfg: DictConfig | dict, prefix: str = "") -> dict[str, Any]:
    """Flatten a config to dotted keys (``regime.schedule.name``) for MLflow params; a password
    in a URL value (``study.storage``, ``tracking.uri``) becomes ``***``."""
    node = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    out: dict[str, Any] = {}
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = redact_value(value)
    return out


def to_yaml(cfg: DictConfig) -> str:
    """The config as YAML, interpolations resolved (the run's ``config.yaml`` artifact)."""
    return OmegaConf.to_yaml(cfg, resolve=True)
