"""Config schemas, composition and flattening.

Every config group option (``conf/<group>/<option>.yaml``) extends a dataclass schema stored in
Hydra's ConfigStore as ``<group>/base_<name>``. OmegaConf checks types and keys while Hydra
composes; the schemas' ``__post_init__`` checks ranges and names when :func:`validate` turns
the composed config into objects. Both happen before any run or study exists, and every
problem becomes one :class:`~research.errors.ConfigError` line naming the key, the bad value
and what is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from research.errors import ConfigError

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
                "letters, digits, '_', '.', '-' (no path characters), at most 100",
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
    finally:
        GlobalHydra.instance().clear()
    return cfg


def validate(cfg: DictConfig) -> dict[str, Any]:
    """Check ranges and names of every group; return the groups as schema objects.

    The error names the full key: ``regime.lr=-1.0 is not allowed: must be > 0``.
    """
    _require(
        bool(NAME_PATTERN.match(str(cfg.name))),
        "name",
        cfg.name,
        "letters, digits, '_', '.', '-' (no path characters), at most 100",
    )
    objects: dict[str, Any] = {}
    groups = ["data", "model", "regime", "tracking"]
    if cfg.get("study") is not None:
        groups.append("study")
    for group in groups:
        try:
            objects[group] = OmegaConf.to_object(cfg[group])
        except ConfigError as exc:
            raise ConfigError(f"{group}.{exc}") from None
        except OmegaConfBaseException as exc:
            raise ConfigError(_explain(exc)) from None
    return objects


def flatten(cfg: DictConfig | dict, prefix: str = "") -> dict[str, Any]:
    """Flatten a config to dotted keys (``regime.schedule.name``) for MLflow params."""
    node = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    out: dict[str, Any] = {}
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
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
