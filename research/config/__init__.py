"""Config composition and validation: Hydra composes ``conf/``, the schemas check it.

Every config group option (``conf/<group>/<option>.yaml``) extends a dataclass schema that
lives beside its component and is stored in Hydra's ConfigStore as ``<group>/base_<name>``
(:mod:`research.config.schema`). OmegaConf checks types and keys while Hydra composes
(:mod:`research.config.compose`); :func:`validate` turns each group into the schema its
registry names, whose ``__post_init__`` checks ranges, then checks memory and folders
(:mod:`research.config.validate`, :mod:`research.config.memory`,
:mod:`research.config.environment`). Both happen before any run or study exists, and every
problem becomes one :class:`~research.errors.ConfigError` line naming the key, the bad value
and what is allowed (:mod:`research.config.explain`: the expected type, the nearest key).
Hydra's command-line flags (``--cfg``, ``--info``, ``--help``) are read in
:mod:`research.config.cli`, ``-m`` sweeps expanded and validated in
:mod:`research.config.sweep`.
"""

from omegaconf import DictConfig, ListConfig

from research.config.compose import compose, conf_dir
from research.config.memory import check_memory, estimate_memory
from research.config.schema import Config
from research.config.validate import validate
from research.schema import NAME_PATTERN
from research.track.params import flatten, to_yaml  # their home now; re-exported for callers
from research.track.settings import TrackingConfig
from research.train.regime import RegimeConfig, optimiser_params

__all__ = [
    "NAME_PATTERN",
    "Config",
    "DictConfig",
    "ListConfig",
    "RegimeConfig",
    "TrackingConfig",
    "check_memory",
    "compose",
    "conf_dir",
    "estimate_memory",
    "flatten",
    "optimiser_params",
    "to_yaml",
    "validate",
]
