"""A toy study kind, ``seeds``: the root config trained once per seed, each a child run of one
parent run that gets the mean and spread of the final metrics."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from omegaconf import OmegaConf

from research.kinds.base import Kind, Outcome
from research.registry import KINDS
from research.schema import StudyConfig, require
from research.track import Tracker
from research.track import tags as T


@dataclass
class SeedsStudy(StudyConfig):
    kind: str = "seeds"
    seeds: int = 3
    metric: str = "val/acc"

    def __post_init__(self) -> None:
        super().__post_init__()
        require(1 <= self.seeds <= 100, "seeds", self.seeds, "must be in 1..100")


class SeedsKind(Kind):
    name = "seeds"
    schema = SeedsStudy
    on_interrupt = "the runs are marked KILLED in MLflow"

    def run(self, cfg, groups, args, command) -> Outcome:
        study = groups["study"]
        name = study.name or "seeds"
        train = KINDS.get("train")
        tracker = Tracker.from_config(groups["tracking"])
        values = []
        tags = {T.STUDY_KIND: self.name, T.STUDY_NAME: name}
        with tracker.run(name, name, tags=tags) as parent:
            for seed in range(study.seeds):
                seeded = OmegaConf.merge(cfg, {"seed": seed})
                with tracker.run(name, f"seed-{seed}", parent=parent, tags={T.SEED: seed}) as run:
                    result = train.run_in_trial(seeded, groups, run, lambda step, m: False)
                values.append(result.metrics[study.metric])
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            mean = statistics.fmean(values)
            parent.log_metrics({f"{study.metric}/mean": mean, f"{study.metric}/std": spread}, 0)
        return Outcome([f"{study.metric} over {len(values)} seeds: {mean:.4f} +- {spread:.4f}"])


KIND = SeedsKind()
