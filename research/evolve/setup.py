"""An evolution study resolved: task(s), template network, encoding and engine built once, so
every bad value is a one-line ConfigError before any run, folder or checkpoint exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from research.errors import ConfigError
from research.evolve import make_encoding, make_engine, neuron_groups
from research.evolve.engine import Engine
from research.evolve.staging import Staging
from research.nn.build import MODELS
from research.tasks import StatefulTask, Task, make_task

#: study settings a rerun may change without starting a new evolution
RESUMABLE = ("generations", "max_evals", "stop_on_solve", "report", "processes", "checkpoint_every")
#: the models an evolution can evolve (a template network whose theta is the genome)
EVOLVABLE = ("mlp", "perceptron", "elman")


@dataclass
class EvolveSetup:
    """The resolved study: built (and so validated) before any run exists."""

    name: str
    study: Any
    task_name: str
    task_params: dict[str, Any]
    staging: Staging
    model_cfg: Any
    net: Any
    encoding: Any
    seed: int
    root: Path
    signature: str  # what may not change when the study is resumed (JSON)
    cfg: Any = None  # the composed config (the parent run logs it)

    def make_task(self, stage: int) -> Task:
        return make_task(self.task_name, **self.staging.task_params(self.task_params, stage))

    def make_engine(self) -> Engine:
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0xE70]))
        settings = dict(plain(self.study.settings))
        if self.study.algorithm == "esp":  # one subpopulation per hidden neuron of the net
            if self.study.encoding != "direct":
                raise ConfigError("algorithm=esp evolves neurons: it needs study.encoding=direct")
            settings["groups"] = neuron_groups(self.net)
        return make_engine(self.study.algorithm, self.encoding.n_genes, rng, **settings)

    def decode(self, genomes: np.ndarray) -> np.ndarray:
        """Genomes -> network weights, connections below ``prune_below`` removed."""
        thetas = np.asarray(self.encoding.decode(genomes), dtype=self.net.dtype)
        if self.study.prune_below > 0:
            thetas = np.where(np.abs(thetas) < self.study.prune_below, 0, thetas)
        return thetas

    def objectives(self, fitness: np.ndarray, thetas: np.ndarray) -> np.ndarray:
        """(P,) fitness, or (P, M) columns all to maximise: fitness, -active connections."""
        if len(self.study.objectives) == 1:
            return fitness
        size = np.count_nonzero(thetas, axis=1).astype(np.float64)
        return np.column_stack([fitness, -size])


def plain(node) -> Any:
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node


def setup(cfg, groups: dict[str, Any], root: Path) -> EvolveSetup:
    """Build task(s), network, encoding and engine once: every bad value is a ConfigError."""
    study, model = groups["study"], groups["model"]
    if cfg.get("task") is None:
        raise ConfigError("an evolve study needs a task: add task=pole_single (or xor, ...)")
    task_cfg = dict(plain(cfg.task))
    task_name = task_cfg.pop("name")
    staging = Staging(
        tuple(dict(plain(s)) for s in study.stages),
        study.advance_at,
        study.stage_generations,
        study.backtrack,
        study.force_advance,
    )
    seed = int(cfg.seed if study.seed is None else study.seed)
    tasks = [
        make_task(task_name, **staging.task_params(task_cfg, stage))
        for stage in range(staging.n_stages)
    ]
    net = _template(model, tasks[0], seed)
    encoding = make_encoding(study.encoding, net, **dict(plain(study.encoding_settings)))
    ev = EvolveSetup(
        name=study.name or "evolve",
        study=study,
        task_name=task_name,
        task_params=task_cfg,
        staging=staging,
        model_cfg=model,
        net=net,
        encoding=encoding,
        seed=seed,
        root=root,
        signature=signature(cfg),
        cfg=cfg,
    )
    ev.make_engine()  # unknown algorithm or setting: fail now
    if study.processes > 1 and isinstance(tasks[0], StatefulTask):
        raise ConfigError(
            f"study.processes={study.processes} is not allowed with task {task_name!r}: it "
            "keeps state between generations (its opponents); use study.processes=1"
        )
    return ev


def _template(model, task: Task, seed: int):
    """The network whose weights the genomes become."""
    if model.name not in EVOLVABLE:
        raise ConfigError(f"model={model.name!r} cannot be evolved: use mlp or elman")
    if getattr(model, "dropout", 0) or getattr(model, "batch_norm", False):
        raise ConfigError("an evolved mlp needs model.dropout=0 and model.batch_norm=false")
    return MODELS[model.name](model, task.n_inputs, task.n_outputs, np.random.default_rng(seed))


def signature(cfg) -> str:
    """What may not change when the study is resumed; budgets and how it runs may."""
    fixed = {k: v for k, v in plain(cfg.study).items() if k not in RESUMABLE}
    return json.dumps(
        {"study": fixed, "task": plain(cfg.task), "model": plain(cfg.model)},
        sort_keys=True,
        default=str,
    )
