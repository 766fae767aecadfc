"""Config schemas, composition and flattening.

Every config group option (``conf/<group>/<option>.yaml``) extends a dataclass schema stored in
Hydra's ConfigStore as ``<group>/base_<name>``. OmegaConf checks types and keys while Hydra
composes; the schemas' ``__post_init__`` checks ranges and names when :func:`validate` turns
the composed config into objects. Both happen before any run or study exists, and every
problem becomes one :class:`~research.errors.ConfigError` line naming the key, the bad value
and what is allowed.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from research import threads
from research.data.checks import check_splits
from research.errors import ConfigError, EnvironmentFault

DTYPES = ("float32", "float64")


def _require(ok: bool, key: str, value: Any, allowed: str) -> None:
    """Raise the one-line error ``key=value: allowed`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"{key}={value!r} is not allowed: {allowed}")


def _one_of(key: str, value: Any, names) -> None:
    _require(value in names, key, value, "choose one of: " + ", ".join(sorted(names)))


def _fraction(key: str, value: float, *, closed: bool = False) -> None:
    ok = 0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0
    _require(ok, key, value, "must be in [0, 1]" if closed else "must be in [0, 1)")


def _positive(key: str, value: float | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    _require(value is not None and value > 0, key, value, "must be > 0")


#: seeds: numpy's SeedSequence takes any whole number >= 0; 32 bits is what every consumer
#: (numpy, Optuna's samplers, DEAP, MLflow tags) reads the same way
SEED_MAX = 2**32 - 1
SEED_ALLOWED = f"must be a whole number in 0..{SEED_MAX}"


def _seed(key: str, value: Any, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= SEED_MAX
    _require(ok, key, value, SEED_ALLOWED)


# --------------------------------------------------------------------------------------- data
@dataclass
class DataConfig:
    """Which data set to load; the other fields are the loader's keyword arguments."""

    name: str = MISSING


@dataclass
class Mnist1dData(DataConfig):
    name: str = "mnist1d"
    val_fraction: float = 0.2
    cache_dir: str | None = None
    n_train: int | None = None

    def __post_init__(self) -> None:
        _fraction("val_fraction", self.val_fraction)
        _positive("n_train", self.n_train, allow_none=True)


@dataclass
class DigitsData(DataConfig):
    name: str = "digits"
    val_fraction: float = 0.2
    test_fraction: float = 0.2

    def __post_init__(self) -> None:
        _fraction("val_fraction", self.val_fraction)
        _fraction("test_fraction", self.test_fraction)


@dataclass
class MnistData(DataConfig):
    name: str = "mnist"
    path: str | None = None
    n_train: int = 50000
    n_val: int = 10000

    def __post_init__(self) -> None:
        _require(0 < self.n_train <= 60000, "n_train", self.n_train, "must be in 1..60000")
        _require(
            0 <= self.n_val <= 60000 - self.n_train,
            "n_val",
            self.n_val,
            "must be in 0..60000-n_train",
        )


@dataclass
class XorData(DataConfig):
    name: str = "xor"


@dataclass
class ParityData(DataConfig):
    name: str = "parity"
    n_bits: int = 4

    def __post_init__(self) -> None:
        _require(1 <= self.n_bits <= 16, "n_bits", self.n_bits, "must be in 1..16")


@dataclass
class SpiralsData(DataConfig):
    name: str = "spirals"
    n_per_class: int = 200
    noise: float = 0.1
    val_fraction: float = 0.2
    test_fraction: float = 0.2

    def __post_init__(self) -> None:
        _positive("n_per_class", self.n_per_class)
        _require(self.noise >= 0, "noise", self.noise, "must be >= 0")
        _fraction("val_fraction", self.val_fraction)
        _fraction("test_fraction", self.test_fraction)


@dataclass
class LogisticMapData(DataConfig):
    name: str = "logistic_map"
    n_train: int = 100
    n_val: int = 100
    n_test: int = 100
    r: float = 4.0
    x0: float | None = None

    def __post_init__(self) -> None:
        for key in ("n_train", "n_val", "n_test"):
            _positive(key, getattr(self, key))
        _require(0 < self.r <= 4, "r", self.r, "must be in (0, 4]")
        if self.x0 is not None:
            _require(0 < self.x0 < 1, "x0", self.x0, "must be in (0, 1)")


@dataclass
class SineData(DataConfig):
    name: str = "sine"
    n_train: int = 200
    n_val: int = 100
    n_test: int = 100
    noise: float = 0.0
    low: float = -3.14159
    high: float = 3.14159

    def __post_init__(self) -> None:
        for key in ("n_train", "n_val", "n_test"):
            _positive(key, getattr(self, key))
        _require(self.noise >= 0, "noise", self.noise, "must be >= 0")
        _require(self.low < self.high, "low", self.low, f"must be < high ({self.high})")


DATA_SCHEMAS = {
    "mnist1d": Mnist1dData,
    "digits": DigitsData,
    "mnist": MnistData,
    "xor": XorData,
    "parity": ParityData,
    "spirals": SpiralsData,
    "logistic_map": LogisticMapData,
    "sine": SineData,
}


# -------------------------------------------------------------------------------------- model
@dataclass
class ModelConfig:
    name: str = MISSING
    dtype: str = "float32"

    def __post_init__(self) -> None:
        _one_of("dtype", self.dtype, DTYPES)


def _check_activation(key: str, name: str) -> None:
    from research.nn import ACTIVATIONS

    _one_of(key, name, ACTIVATIONS)


def _check_output_and_cost(output: str, cost: str) -> None:
    from research.nn import COSTS, OUTPUTS

    _one_of("output", output, OUTPUTS)
    _one_of("cost", cost, COSTS)


@dataclass
class MLPModel(ModelConfig):
    """Multilayer perceptron: ``hidden`` widths, one activation for all hidden layers unless
    ``activations`` gives one per layer."""

    name: str = "mlp"
    hidden: list[int] = field(default_factory=lambda: [100])
    activation: str = "relu"
    activations: list[str] | None = None
    output: str = "softmax"
    cost: str = "log_likelihood"
    init: str = "fan_in"
    dropout: float = 0.0
    batch_norm: bool = False
    bias: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        from research.nn import INITIALISERS

        for width in self.hidden:
            _require(width >= 1, "hidden", list(self.hidden), "layer widths must be >= 1")
        _check_activation("activation", self.activation)
        if self.activations is not None:
            _require(
                len(self.activations) == len(self.hidden),
                "activations",
                list(self.activations),
                f"give one per hidden layer ({len(self.hidden)})",
            )
            for name in self.activations:
                _check_activation("activations", name)
        _check_output_and_cost(self.output, self.cost)
        _one_of("init", self.init, INITIALISERS)
        _fraction("dropout", self.dropout)


@dataclass
class RBFModel(ModelConfig):
    """Radial basis function network (Gaussian units, linear output, quadratic cost)."""

    name: str = "rbf"
    n_centres: int = 10
    normalised: bool = False
    centres: str = "kmeans"
    beta: float | None = None
    solver: str = "pinv"
    passes: int = 1
    mu: float = 1.0
    bias: bool = True
    finetune: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive("n_centres", self.n_centres)
        _one_of("centres", self.centres, ("kmeans", "random"))
        _positive("beta", self.beta, allow_none=True)
        _one_of("solver", self.solver, ("pinv", "nlms", "gd"))
        _positive("passes", self.passes)
        _positive("mu", self.mu)


@dataclass
class ElmanModel(ModelConfig):
    """Elman recurrent net: one recurrent hidden layer of width ``hidden[0]``."""

    name: str = "elman"
    hidden: list[int] = field(default_factory=lambda: [8])
    activation: str = "tanh"
    output: str = "linear"
    cost: str = "quadratic"
    init: str = "fan_in"
    bias: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        from research.nn import INITIALISERS

        _require(
            len(self.hidden) == 1 and self.hidden[0] >= 1,
            "hidden",
            list(self.hidden),
            "an Elman net has one recurrent layer: give [width], width >= 1",
        )
        _check_activation("activation", self.activation)
        _check_output_and_cost(self.output, self.cost)
        _one_of("init", self.init, INITIALISERS)


MODEL_SCHEMAS = {"mlp": MLPModel, "rbf": RBFModel, "elman": ElmanModel}


# ------------------------------------------------------------------------------------- regime
@dataclass
class ScheduleConfig:
    """Learning-rate schedule (see ``research.train.schedules``)."""

    name: str = "constant"
    decay: float = 0.0
    step_size: int = 10
    gamma: float = 0.5
    factor: float = 0.5
    patience: int = 5
    min_delta: float = 0.0
    min_lr: float = 0.0

    def __post_init__(self) -> None:
        from research.train.schedules import SCHEDULES

        _one_of("schedule.name", self.name, SCHEDULES)
        _require(self.decay >= 0, "schedule.decay", self.decay, "must be >= 0")
        _positive("schedule.step_size", self.step_size)
        _require(0 < self.gamma <= 1, "schedule.gamma", self.gamma, "must be in (0, 1]")
        _require(0 < self.factor < 1, "schedule.factor", self.factor, "must be in (0, 1)")
        _require(self.patience >= 0, "schedule.patience", self.patience, "must be >= 0")
        _require(self.min_lr >= 0, "schedule.min_lr", self.min_lr, "must be >= 0")


@dataclass
class EarlyStoppingConfig:
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    patience: int | None = None
    monitor: str = "val/loss"
    mode: str = "min"
    min_delta: float = 0.0
    restore_best: bool = True

    def __post_init__(self) -> None:
        if self.patience is not None:
            _require(self.patience >= 1, "early_stopping.patience", self.patience, "must be >= 1")
        _one_of("early_stopping.mode", self.mode, ("min", "max"))
        _require(self.min_delta >= 0, "early_stopping.min_delta", self.min_delta, "must be >= 0")


@dataclass
class RegimeConfig:
    """How a network is trained. Subclasses add the optimiser's own hyperparameters, which
    are passed to it by name (see :func:`optimiser_params`)."""

    name: str = MISSING
    lr: float = 0.1
    epochs: int = 30
    batch_size: int = 10
    l1: float = 0.0
    l2: float = 0.0
    clip_norm: float | None = None
    eval_train: bool = True
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)

    def __post_init__(self) -> None:
        _positive("lr", self.lr)
        _require(self.epochs >= 0, "epochs", self.epochs, "must be >= 0")
        _positive("batch_size", self.batch_size)
        _require(self.l1 >= 0, "l1", self.l1, "must be >= 0")
        _require(self.l2 >= 0, "l2", self.l2, "must be >= 0")
        _positive("clip_norm", self.clip_norm, allow_none=True)


@dataclass
class SGDRegime(RegimeConfig):
    name: str = "sgd"


@dataclass
class MomentumRegime(RegimeConfig):
    name: str = "momentum"
    mu: float = 0.9

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(0 <= self.mu < 1, "mu", self.mu, "must be in [0, 1)")


@dataclass
class NesterovRegime(MomentumRegime):
    name: str = "nesterov"


@dataclass
class AdagradRegime(RegimeConfig):
    name: str = "adagrad"
    eps: float = 1e-8

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive("eps", self.eps)


@dataclass
class RMSpropRegime(RegimeConfig):
    name: str = "rmsprop"
    lr: float = 1e-3
    rho: float = 0.9
    eps: float = 1e-8

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(0 <= self.rho < 1, "rho", self.rho, "must be in [0, 1)")
        _positive("eps", self.eps)


@dataclass
class AdadeltaRegime(RegimeConfig):
    name: str = "adadelta"
    lr: float = 1.0
    rho: float = 0.95
    eps: float = 1e-6

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(0 <= self.rho < 1, "rho", self.rho, "must be in [0, 1)")
        _positive("eps", self.eps)


@dataclass
class AdamRegime(RegimeConfig):
    name: str = "adam"
    lr: float = 1e-3
    batch_size: int = 64
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(0 <= self.beta1 < 1, "beta1", self.beta1, "must be in [0, 1)")
        _require(0 <= self.beta2 < 1, "beta2", self.beta2, "must be in [0, 1)")
        _positive("eps", self.eps)


@dataclass
class BoltzmannRegime(RegimeConfig):
    """Boltzmann training: Gaussian weight perturbations accepted by the Metropolis rule."""

    name: str = "boltzmann"
    t0: float = 1.0
    k: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive("t0", self.t0)
        _positive("k", self.k)


@dataclass
class CauchyRegime(BoltzmannRegime):
    """Cauchy training: heavy-tailed perturbations, fast T0/(1+t) annealing."""

    name: str = "cauchy"


@dataclass
class CauchyBackpropRegime(BoltzmannRegime):
    """Wasserman's hybrid: a ``mix`` of a Cauchy step and a backprop step."""

    name: str = "cauchy_backprop"
    mix: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        _fraction("mix", self.mix, closed=True)


REGIME_SCHEMAS = {
    "sgd": SGDRegime,
    "momentum": MomentumRegime,
    "nesterov": NesterovRegime,
    "adagrad": AdagradRegime,
    "rmsprop": RMSpropRegime,
    "adadelta": AdadeltaRegime,
    "adam": AdamRegime,
    "boltzmann": BoltzmannRegime,
    "cauchy": CauchyRegime,
    "cauchy_backprop": CauchyBackpropRegime,
}


def optimiser_params(regime: RegimeConfig) -> dict[str, Any]:
    """The optimiser's own hyperparameters: the fields a regime adds to :class:`RegimeConfig`."""
    base = {f.name for f in fields(RegimeConfig)}
    return {f.name: getattr(regime, f.name) for f in fields(regime) if f.name not in base}


# ----------------------------------------------------------------------------------- tracking
@dataclass
class TrackingConfig:
    """Where runs are logged. ``local``: ``sqlite:///<root>/mlruns/mlflow.db`` with artifacts in
    ``<root>/mlruns/artifacts``. ``server``: ``uri`` (or ``$MLFLOW_TRACKING_URI``)."""

    kind: str = "local"
    uri: str | None = None
    root: str | None = None
    experiment: str | None = None
    flush_every: int = 200
    flush_seconds: float = 10.0
    log_weights: bool = True
    log_figure: bool = True

    def __post_init__(self) -> None:
        _one_of("kind", self.kind, ("local", "server"))
        if self.experiment is not None:  # it names a folder under mlruns/artifacts/
            _require(
                bool(NAME_PATTERN.match(str(self.experiment))),
                "experiment",
                self.experiment,
                NAME_ALLOWED,
            )
        _positive("flush_every", self.flush_every)
        _require(self.flush_seconds >= 0, "flush_seconds", self.flush_seconds, "must be >= 0")


# -------------------------------------------------------------------------------------- study
OBJECTIVE_DIRECTIONS = ("maximize", "minimize")
#: what a trial can be scored on: the final metrics of ``fit`` plus the model's size and time
OBJECTIVE_METRICS = (
    "val/acc",
    "val/loss",
    "val/rmse",
    "train/acc",
    "train/loss",
    "train/rmse",
    "test/acc",
    "test/loss",
    "test/rmse",
    "n_params",
    "time/fit",
)
#: what a trial that runs an evolution (``study.inner``) can be scored on
EVOLVE_METRICS = ("fitness", "evals_to_solve", "evals", "solved")


@dataclass
class StudyConfig:
    """A study: many runs under one MLflow parent run. ``kind`` selects the driver."""

    kind: str = MISSING
    name: str | None = None  # MLflow experiment and studies/<name>/; defaults to the option
    report: bool = True  # write studies/<name>/report.html at the end and attach it to MLflow

    def __post_init__(self) -> None:
        if self.name is not None:
            _require(
                bool(NAME_PATTERN.match(str(self.name))),
                "name",
                self.name,
                NAME_ALLOWED,
            )


@dataclass
class SearchStudy(StudyConfig):
    """A Bayesian (or random, grid, ...) hyperparameter search driven by Optuna.

    ``params`` maps config keys to sweeps in Hydra's grammar; ``objectives`` maps metric names
    to ``maximize``/``minimize`` (several entries: multi-objective, Pareto front).
    """

    kind: str = "search"
    sampler: str = "tpe"
    pruner: str = "median"
    n_trials: int = 30
    workers: int = 1
    # empty: val/acc (maximize), or fitness for an inner evolution. (A non-empty default would
    # be merged with, not replaced by, a study file's objectives.)
    objectives: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)  # shared by every trial
    storage: str | None = None
    seed: int | None = None  # of the sampler; defaults to the root seed
    n_startup_trials: int = 10
    prune_after_trials: int = 5  # the pruner compares with this many finished trials first
    prune_after_epochs: int = 3  # and never stops a trial before this epoch
    allow_space_change: bool = False
    retry_crashed: int = 1
    inner: str | None = None  # an evolve study option: each trial is then an evolution

    def __post_init__(self) -> None:
        super().__post_init__()
        from research.search.samplers import PRUNERS, SAMPLERS

        _one_of("sampler", self.sampler, SAMPLERS)
        _one_of("pruner", self.pruner, PRUNERS)
        _require(self.n_trials >= 1, "n_trials", self.n_trials, "must be >= 1")
        _require(1 <= self.workers <= 64, "workers", self.workers, "must be in 1..64")
        _require(self.n_startup_trials >= 0, "n_startup_trials", self.n_startup_trials, ">= 0")
        _require(
            self.prune_after_trials >= 0, "prune_after_trials", self.prune_after_trials, ">= 0"
        )
        _require(
            self.prune_after_epochs >= 0, "prune_after_epochs", self.prune_after_epochs, ">= 0"
        )
        _require(self.retry_crashed >= 0, "retry_crashed", self.retry_crashed, "must be >= 0")
        _seed("seed", self.seed, allow_none=True)
        if not self.objectives:
            self.objectives = {"fitness" if self.inner else "val/acc": "maximize"}
        for metric, direction in self.objectives.items():
            _one_of("objectives", metric, EVOLVE_METRICS if self.inner else OBJECTIVE_METRICS)
            _one_of(f"objectives.{metric}", direction, OBJECTIVE_DIRECTIONS)


EVOLVE_OBJECTIVES = ("fitness", "size")


@dataclass
class EvolveStudy(StudyConfig):
    """Neuroevolution with DEAP: an ``algorithm`` (engine) evolves genomes that an ``encoding``
    turns into the weights of the ``model`` network, scored by the ``task``.

    ``objectives``: ``fitness`` (the task's, maximised) and optionally ``size`` (active
    connections, |w| >= ``prune_below``, minimised) for multi-objective algorithms. ``stages``:
    task-parameter overrides evolved in turn before the goal task (see evolve/staging.py).
    """

    kind: str = "evolve"
    algorithm: str = "cmaes"
    settings: dict[str, Any] = field(default_factory=dict)
    encoding: str = "direct"
    encoding_settings: dict[str, Any] = field(default_factory=dict)
    generations: int = 200
    max_evals: int | None = None
    stop_on_solve: bool = True
    objectives: list[str] = field(default_factory=lambda: ["fitness"])
    prune_below: float = 0.0
    stages: list[dict[str, Any]] = field(default_factory=list)
    advance_at: float | None = None
    stage_generations: int | None = None
    force_advance: bool = False
    backtrack: bool = False
    checkpoint_every: int = 1
    processes: int = 1  # spread each generation's evaluation over this many processes
    seed: int | None = None  # of the evolution; defaults to the root seed

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.generations >= 1, "generations", self.generations, "must be >= 1")
        _positive("max_evals", self.max_evals, allow_none=True)
        _require(bool(self.objectives), "objectives", [], "give fitness and optionally size")
        for name in self.objectives:
            _one_of("objectives", name, EVOLVE_OBJECTIVES)
        _require(
            self.objectives[0] == "fitness",
            "objectives",
            list(self.objectives),
            "the first objective must be fitness",
        )
        _require(self.prune_below >= 0, "prune_below", self.prune_below, "must be >= 0")
        _positive("stage_generations", self.stage_generations, allow_none=True)
        _positive("checkpoint_every", self.checkpoint_every)
        _require(1 <= self.processes <= 256, "processes", self.processes, "must be in 1..256")
        _seed("seed", self.seed, allow_none=True)
        if self.stages:
            _require(
                self.advance_at is not None or self.stage_generations is not None,
                "stages",
                "[...]",
                "staging needs advance_at and/or stage_generations (with force_advance)",
            )


STUDY_SCHEMAS = {"search": SearchStudy, "evolve": EvolveStudy}


# --------------------------------------------------------------------------------------- root
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
NAME_ALLOWED = "letters, digits, '_', '.', '-' (no path characters), at most 100"


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


GROUPS = {"data": DATA_SCHEMAS, "model": MODEL_SCHEMAS, "regime": REGIME_SCHEMAS}


def _store_schemas() -> None:
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)
    for group, schemas in GROUPS.items():
        for name, schema in schemas.items():
            cs.store(group=group, name=f"base_{name}", node=schema)
    cs.store(group="tracking", name="base_tracking", node=TrackingConfig)
    for kind, schema in STUDY_SCHEMAS.items():
        cs.store(group="study", name=f"base_{kind}", node=schema)


_store_schemas()


def conf_dir() -> Path:
    """The repository's ``conf/`` (a source checkout or editable install), else the copy a
    wheel ships as ``research.conf`` (pyproject.toml maps it)."""
    beside = Path(__file__).resolve().parents[1] / "conf"
    if (beside / "config.yaml").is_file():
        return beside
    return Path(str(resources.files("research.conf")))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _explain(exc: BaseException) -> str:
    """One line from a Hydra/OmegaConf error, keeping the key and the allowed choices."""
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    missing = re.search(r"Could not find '([^']+)'", text)
    if missing:
        group = missing.group(1).split("/")[0]
        options = [
            line for line in lines if not line.startswith(("Available", "Config search", "In "))
        ]
        avail = re.search(
            r"Available options in '[^']+':\s*(.*?)(?:\n\s*\n|Config search|$)", text, re.S
        )
        names = avail.group(1).split() if avail else options
        names = [n for n in names if not n.startswith("base_")]
        return (
            f"unknown {group} {missing.group(1).split('/', 1)[-1]!r}; choose one of: "
            + ", ".join(names)
        )
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


def compose(overrides: list[str] | tuple[str, ...] = (), config_name: str = "config") -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with Hydra command-line ``overrides``.

    Raises :class:`ConfigError` (one line) for unknown keys, wrong types, unknown group options
    and malformed overrides.
    """
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            cfg = hydra_compose(config_name=config_name, overrides=list(overrides))
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(_explain(exc)) from None
    except yaml.YAMLError as exc:  # a config file (a user's study) that is not valid YAML
        raise ConfigError(_explain_yaml(exc)) from None
    except RecursionError:
        raise ConfigError(
            "a config file includes itself (its defaults list names it, directly or through "
            "another file): remove that entry"
        ) from None
    finally:
        GlobalHydra.instance().clear()
    return cfg


def _explain_yaml(exc: yaml.YAMLError) -> str:
    """One line from a YAML error: the file, line and column, and what is wrong there."""
    mark = getattr(exc, "problem_mark", None)
    problem = (getattr(exc, "problem", None) or _first_line(exc)).strip()
    if "\t" in problem or "\\t" in problem or "tab" in problem:
        problem += " (indent with spaces; YAML does not allow tabs)"
    where = ""
    if mark is not None:
        name = "" if mark.name.startswith("<") else f"{mark.name}, "
        where = f" ({name}line {mark.line + 1}, column {mark.column + 1})"
    return f"a config file is not valid YAML: {problem}{where}"


def validate(cfg: DictConfig) -> dict[str, Any]:
    """Check ranges and names of every group; return the groups as schema objects.

    The error names the full key: ``regime.lr=-1.0 is not allowed: must be > 0``.
    """
    try:  # every interpolation, resolved once: a bad one is a line naming its key
        OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(_explain(exc)) from None
    _require(bool(NAME_PATTERN.match(str(cfg.name))), "name", cfg.name, NAME_ALLOWED)
    _seed("seed", cfg.seed)
    task = cfg.get("task")
    if isinstance(task, DictConfig) and task.get("seed") is not None:
        _seed("task.seed", task.seed)
    _require(threads.is_valid(cfg.blas_threads), "blas_threads", cfg.blas_threads, threads.ALLOWED)
    objects: dict[str, Any] = {}
    groups = ["data", "model", "regime", "tracking"]
    if cfg.get("study") is not None:
        groups.append("study")
    for group in groups:
        if not isinstance(cfg[group], DictConfig):
            raise ConfigError(
                f"{group}={OmegaConf.to_yaml(cfg[group]).splitlines()[0]!r}... is not allowed: "
                f"its config file must hold a mapping of keys, not a {type(cfg[group]).__name__}"
            )
        _check_finite(group, OmegaConf.to_container(cfg[group], resolve=True))
    for group in groups:
        try:
            objects[group] = OmegaConf.to_object(cfg[group])
        except ConfigError as exc:
            raise ConfigError(f"{group}.{exc}") from None
        except OmegaConfBaseException as exc:
            raise ConfigError(_explain(exc)) from None
    check_splits(objects["data"].name, asdict(objects["data"]))  # together, not one by one
    check_memory(cfg, objects)
    check_environment(objects)
    return objects


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


# ------------------------------------------------------------------------------------ memory
#: per data set at its defaults: (inputs, outputs, examples); generated sets are sized from
#: their parameters in :func:`_data_shape`
DATA_SHAPES = {
    "mnist1d": (40, 10, 5000),
    "digits": (64, 10, 1797),
    "mnist": (784, 10, 70000),
    "xor": (2, 2, 4),
    "parity": (4, 2, 16),
    "spirals": (2, 2, 400),
    "logistic_map": (1, 1, 300),
    "sine": (1, 1, 400),
}
#: pole, xor tasks: (inputs, outputs) at most; classify/regress/compete read their data set
TASK_SHAPES = {
    "pole_single": (5, 1),
    "pole_double": (7, 1),
    "pole_double_nv": (4, 1),
    "xor": (3, 1),
}
#: activations of a batch, evaluation chunks: rows at most (research.train.fit.EVAL_CHUNK)
EVAL_ROWS = 4096
#: training keeps weights, gradients, two optimiser moments and the best weights
TRAIN_COPIES = 5
GIB = 2**30


def machine_memory() -> int | None:
    """Bytes of RAM this process may use: the machine's, or its cgroup's limit if lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            total = min(total, int(limit))
    except OSError:
        pass
    return total if total > 0 else None


def _number(value: Any, default: float) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return float(value) if ok else float(default)


def _data_shape(name: str, params: dict[str, Any]) -> tuple[int, int, float, str | None]:
    """(inputs, outputs, examples, the key that sets the examples) of a data set."""
    n_in, n_out, n = DATA_SHAPES.get(name, (1, 1, 1))
    counts = {
        "spirals": ("n_per_class",),
        "logistic_map": ("n_train", "n_val", "n_test"),
        "sine": ("n_train", "n_val", "n_test"),
    }.get(name, ())
    if name == "parity":
        bits = int(_number(params.get("n_bits"), 4))
        return bits, 2, 2.0**bits, None
    if not counts:
        return n_in, n_out, float(n), None
    values = {k: _number(params.get(k), 1) for k in counts}
    total = sum(values.values()) * (2 if name == "spirals" else 1)
    return n_in, n_out, total, max(values, key=values.get)


def _net_params(model, n_in: int, n_out: int) -> tuple[float, float, str, Any]:
    """(parameters, units in a forward pass, the key that sizes it, its value) of a model."""
    if model.name == "rbf":
        k = float(model.n_centres)
        return k * (n_in + n_out + 2) + n_out, k, "model.n_centres", model.n_centres
    hidden = [float(h) for h in getattr(model, "hidden", [])]
    bias = 1.0 if getattr(model, "bias", True) else 0.0
    if model.name == "elman":
        h = hidden[0]
        return h * (n_in + h + bias) + n_out * (h + bias), h, "model.hidden", list(model.hidden)
    sizes = [float(n_in), *hidden, float(n_out)]
    params = sum((a + bias) * b for a, b in zip(sizes, sizes[1:]))
    return params, sum(sizes), "model.hidden", list(model.hidden)


def _population(study, n_genes: float) -> tuple[float, str | None, Any]:
    """(genomes an engine holds and evaluates at once, the setting that sizes it, its value)."""
    settings = dict(study.settings or {})
    algorithm = study.algorithm
    if algorithm == "cmaes":
        key = "lambda_"
        size = _number(settings.get(key), 4 + 3 * math.log(max(n_genes, 1.0)))
    elif algorithm == "esp":
        key = "subpop"
        size = _number(settings.get(key), 20) * _number(settings.get("trials"), 10)
    elif algorithm == "ga":
        pop = _number(settings.get("pop"), 50)
        offspring = _number(settings.get("lambda_"), pop)  # lambda_ defaults to pop
        key = "lambda_" if offspring > pop else "pop"
        size = pop + offspring
    else:  # nsga2, nsga3, cascade, cosyne: parents and offspring
        key = "pop"
        size = 2 * _number(settings.get(key), 100)
    shown = settings.get(key)
    return size, (f"study.settings.{key}" if shown is not None else None), shown


def estimate_memory(cfg, objects: dict[str, Any]) -> list[tuple[float, str, Any, str]]:
    """What the config will hold in memory at once, by part: (bytes, the key that sizes the
    part, its value, what it is). Lower bounds: inputs and outputs as the data or task has
    them at least, no interpreter or library overhead."""
    model, data = objects["model"], objects["data"]
    study = objects.get("study")
    width = 8 if getattr(model, "dtype", "float32") == "float64" else 4
    n_in, n_out, n_examples, data_key = _data_shape(data.name, asdict(data))
    parts = []
    if data_key is not None:
        value = getattr(data, data_key)
        parts.append(
            (n_examples * (n_in + n_out) * 8, f"data.{data_key}", value, "for its examples")
        )
    if study is not None and study.kind == "evolve":
        task = cfg.get("task") or {}
        name = task.get("name") if isinstance(task, DictConfig) else None
        if name in TASK_SHAPES:
            n_in, n_out = TASK_SHAPES[name]
        elif isinstance(task, DictConfig) and task.get("data") in DATA_SHAPES:
            n_in, n_out = DATA_SHAPES[task.get("data")][:2]
        else:
            n_in, n_out = 1, 1
        if model.name == "elman":
            n_in = 1
        n_genes, units, key, value = _net_params(model, n_in, n_out)
        size, pop_key, pop_value = _population(study, n_genes)
        genomes = size * (n_genes * (8 + 2 * width) + units * 8)  # genome, weights, forward
        if pop_key is not None and size > n_genes:
            parts.append((genomes, pop_key, pop_value, f"for {size:,.0f} genomes"))
        else:
            what = f"for {size:,.0f} genomes of {n_genes:,.0f} genes"
            parts.append((genomes, key, value, what))
        if study.algorithm == "cmaes":  # covariance, its eigenvectors and their product
            parts.append((3 * n_genes**2 * 8, key, value, "for CMA-ES's covariance matrices"))
        return parts
    if model.name == "elman" and n_in > 1:  # a sequence of n_in scalars, one per step
        steps, n_in = n_in, 1
    else:
        steps = 1
    params, units, key, value = _net_params(model, n_in, n_out)
    batch = min(float(objects["regime"].batch_size), max(n_examples, 1.0))
    chunk = min(float(EVAL_ROWS), max(n_examples, 1.0))
    activations = max(3 * batch, 2 * chunk) * steps * units * width
    need = params * width * TRAIN_COPIES + activations
    if model.name == "rbf":  # the design matrix and its pseudo-inverse, k-means distances
        need += 4 * n_examples * float(model.n_centres) * 8
    parts.append((need, key, value, "to train (weights, optimiser state, activations)"))
    return parts


def _gib(n: float) -> str:
    gib = n / GIB
    return f"{gib:,.0f}" if gib < 1e9 else f"{gib:.2g}"


def check_memory(cfg, objects: dict[str, Any]) -> None:
    """Refuse a config that cannot fit in this machine's memory, naming the key that sizes
    the biggest part: a failed allocation would otherwise come mid-run, or swap for hours."""
    total = machine_memory()
    if total is None:
        return
    parts = estimate_memory(cfg, objects)
    need = sum(p[0] for p in parts)
    if need <= total:
        return
    size, key, value, what = max(parts, key=lambda p: p[0])
    raise ConfigError(
        f"{key}={value!r} needs about {_gib(need)} GiB {what}; this machine has {_gib(total)} GiB"
    )


# ------------------------------------------------------------------------------- environment
SQLITE_MAGIC = b"SQLite format 3\x00"


def _writable_dir(path: Path, what: str) -> None:
    """``path``, or the nearest folder that would hold it, is a folder this process can write."""
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        if probe == path:
            raise EnvironmentFault(f"{what} {path} is a file, not a folder")
        raise EnvironmentFault(f"{what} {path} cannot be made: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise EnvironmentFault(f"{what} {probe} is read-only: make it writable or choose another")


def check_environment(objects: dict[str, Any]) -> None:
    """The folders and files a run writes, checked before it starts: a root that is a file or
    read-only, an MLflow store that is not an SQLite database. An
    :class:`~research.errors.EnvironmentFault` (exit status 1) naming the file."""
    from research.track.store import project_root

    tracking = objects["tracking"]
    root = project_root(tracking.root)
    _writable_dir(root, "the project root")
    if tracking.kind == "local":
        mlruns = root / "mlruns"
        _writable_dir(mlruns, "the MLflow store folder")
        _writable_dir(mlruns / "artifacts", "the MLflow artifact folder")
        db = mlruns / "mlflow.db"
        if db.is_dir():
            raise EnvironmentFault(f"the MLflow store {db} is a folder, not an SQLite database")
        if db.exists():
            try:
                with db.open("rb") as f:
                    head = f.read(len(SQLITE_MAGIC))
            except OSError as exc:
                raise EnvironmentFault(
                    f"cannot read the MLflow store {db}: {exc.strerror}"
                ) from None
            if head and head != SQLITE_MAGIC:
                raise EnvironmentFault(
                    f"the MLflow store {db} is not an SQLite database: move it away (a new "
                    "store is made) or point tracking.root elsewhere"
                )
            if not os.access(db, os.R_OK | os.W_OK):
                raise EnvironmentFault(f"the MLflow store {db} is read-only")
    study = objects.get("study")
    if study is not None:
        _writable_dir(root / "studies", "the studies folder")
        if study.name is not None and NAME_PATTERN.match(str(study.name)):
            _writable_dir(root / "studies" / study.name, "the study folder")


def flatten(cfg: DictConfig | dict, prefix: str = "") -> dict[str, Any]:
    """Flatten a config to dotted keys (``regime.schedule.name``) for MLflow params; a password
    in a URL value (``study.storage``, ``tracking.uri``) becomes ``***``."""
    from research.track.redact import redact_value  # research.track imports mlflow: lazily

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
    return OmegaConf.to_yaml(cfg, resolve=True)


__all__ = [
    "Config",
    "DataConfig",
    "ModelConfig",
    "RegimeConfig",
    "TrackingConfig",
    "DictConfig",
    "ListConfig",
    "compose",
    "conf_dir",
    "flatten",
    "optimiser_params",
    "to_yaml",
    "validate",
]
