"""``-m`` / ``--multirun``: the jobs of a sweep, expanded as Hydra's BasicSweeper does.

Hydra's override parser reads every override; each sweep (``a=1,2``, ``range(1,4)``,
``choice(x,y)``, ``group=glob(*)``) is enumerated by Hydra's ``sweep_string_iterator`` and
the jobs are the cartesian product, in command-line order, as
``BasicSweeper.split_arguments`` builds them (a fixed override keeps its own text). Every job
is then composed and validated before the first one runs (:func:`prepare`).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hydra.core.object_type import ObjectType
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from research.config.compose import HIDDEN_OPTIONS, compose, config_loader
from research.config.explain import explain
from research.config.validate import validate
from research.errors import ConfigError, ResearchError
from research.registry import KINDS
from research.schema import NAME_PATTERN


@dataclass
class Job:
    """One job of a sweep: its overrides (all of them, as a single run's command line) and
    the swept ones that tell it apart; once prepared, its config, groups and kind."""

    index: int
    overrides: list[str]
    swept: list[str]
    cfg: Any = None
    groups: dict[str, Any] = field(default_factory=dict)
    kind: Any = None

    @property
    def name(self) -> str:
        return f"job-{self.index}"

    @property
    def label(self) -> str:
        return " ".join(self.swept) or "(no sweep)"


class _Options:
    """Hydra's config loader for ``glob(...)``, without the stored schemas (``base_*``) and
    with the search path the command's ``hydra.*`` overrides give."""

    def __init__(self, loader: Any, fixed: list[str]) -> None:
        self.loader, self.fixed = loader, fixed

    def get_group_options(self, group: str, results_filter=ObjectType.CONFIG, *_: Any, **__: Any):
        names = self.loader.get_group_options(group, results_filter, "config", self.fixed)
        return [n for n in names if not n.startswith(HIDDEN_OPTIONS)]


@dataclass
class Sweep:
    """The jobs of a command line, and its sweep overrides as written (``regime.lr=0.1,1``)."""

    jobs: list[Job]
    sweeps: list[str]


def expand(overrides: list[str]) -> Sweep:
    """The jobs of ``overrides``: the cartesian product of every sweep, one job if none."""
    fixed = [o for o in overrides if o.split("=", 1)[0].startswith("hydra.")]
    try:
        with config_loader() as loader:
            parser = OverridesParser.create(config_loader=_Options(loader, fixed))
            parsed = parser.parse_overrides(list(overrides))
            axes: OrderedDict[str, list[str]] = OrderedDict()
            swept: set[str] = set()
            for text, override in zip(overrides, parsed, strict=True):
                key = override.get_key_element()
                axes[key] = _values(text, key, override)  # given twice: the last one counts
                if override.is_sweep_override():
                    swept.add(key)
                else:
                    swept.discard(key)
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(explain(exc)) from None
    jobs = []
    for i, combo in enumerate(itertools.product(*axes.values())):
        labels = [o for key, o in zip(axes, combo, strict=True) if key in swept]
        jobs.append(Job(i, list(combo), labels))
    sweeps = [
        t
        for t, o in zip(overrides, parsed, strict=True)
        if o.is_sweep_override() and o.get_key_element() in swept
    ]
    return Sweep(jobs, sweeps)


def _values(text: str, key: str, override: Any) -> list[str]:
    """``key=value`` for each value of a sweep override; a fixed override as written."""
    if not override.is_sweep_override():
        return [text]
    if not override.is_discrete_sweep():
        raise ConfigError(
            f"{text} is a continuous range: -m runs lists (a,b), range(...), choice(...) and "
            "glob(...); search a range with +study=bayes"
        )
    values = [f"{key}={v}" for v in override.sweep_string_iterator()]
    if not values:
        raise ConfigError(f"{text} gives no value to run: it matches no option")
    return values


def prepare(jobs: list[Job]) -> list[Job]:
    """Compose and validate every job before any runs: a bad value in job 3 is one line
    naming the job, before job 0 starts. Studies get names of their own (:func:`name_studies`)."""
    compose_jobs(jobs)
    for job in jobs:
        with _named(job):
            job.groups = validate(job.cfg)
            job.kind = KINDS.get(job.groups["study"].kind if "study" in job.groups else "train")
            job.kind.validate(job.cfg, job.groups)
    return jobs


def compose_jobs(jobs: list[Job]) -> list[Job]:
    """Compose every job (a bad one is a line naming it) and name their studies."""
    for job in jobs:
        with _named(job):
            job.cfg = compose(job.overrides)
    name_studies(jobs)
    return jobs


@contextmanager
def _named(job: Job) -> Iterator[None]:
    """A bad input of ``job`` says which job it is: ``job-2 (regime.lr=-1): ...``."""
    try:
        yield
    except ResearchError as exc:
        exc.args = (f"{job.name} ({job.label}): {exc}",)  # the same kind and exit status
        raise exc from None


def name_studies(jobs: list[Job]) -> list[Job]:
    """Jobs that would run the same study (``-m +study=bayes study.seed=1,2``) get the
    study's name with their swept values (``bayes-seed1``, ``bayes-seed2``) unless the
    sweep names them itself (the composed config and the job's overrides both say it).
    Returns the renamed jobs; names that still clash are refused."""
    studies = [j for j in jobs if j.cfg.get("study") is not None]
    names = Counter(str(j.cfg.study.name) for j in studies)
    final, renamed = Counter(), []
    for job in studies:
        name = str(job.cfg.study.name)
        if names[name] > 1 and not any(_key(o) == "study.name" for o in job.swept):
            name = _suffixed(name, job.swept)
            job.overrides.append(f"study.name={name}")
            job.cfg.study.name = name
            renamed.append(job)
        final[name] += 1
    clash = [n for n, count in final.items() if count > 1]
    if clash:
        raise ConfigError(
            f"several jobs of the sweep would run study {clash[0]!r}: give each job its own "
            "study.name, or leave study.name out of the sweep (each job's name then gets its "
            "swept values, e.g. bayes-seed1)"
        )
    return renamed


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _suffixed(name: str, swept: list[str]) -> str:
    """``bayes`` + ``study.seed=1 regime=adam`` -> ``bayes-seed1-adam``: a group's option
    as it is, a key by its last part; characters a study name cannot hold become ``_``."""
    parts = []
    for override in swept:
        key, _, value = override.partition("=")
        key = key.lstrip("+~")
        if key == "study":
            continue  # the study's own option: its name says it already
        parts.append(value if "." not in key else key.rsplit(".", 1)[1] + value)
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join([name, *parts])).strip("_")[:100]
    return text if NAME_PATTERN.match(text) else name


def experiment_of(cfg: DictConfig) -> str:
    """The MLflow experiment a training job's run goes to."""
    return str(cfg.tracking.get("experiment") or cfg.name)
