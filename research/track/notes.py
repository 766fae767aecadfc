"""Descriptions the MLflow UI shows: an experiment's and a run's ``mlflow.note.content``,
written from the tags a run is created with (no extra store write for a run), and the
experiment kind that makes MLflow 3's UI treat a study as model training, not a GenAI app.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from research.track import tags as T

#: what MLflow 3's UI reads to tell model training from GenAI experiments
EXPERIMENT_KIND = {T.EXPERIMENT_KIND: "custom_model_development"}

SAMPLER_NAMES = {
    "tpe": "Bayesian search (TPE)",
    "gp": "Bayesian search (Gaussian process)",
    "random": "Random search",
    "qmc": "Quasi-random search",
    "grid": "Grid search",
    "cmaes": "CMA-ES search",
    "nsga2": "NSGA-II search",
}


def _space_keys(tags: Mapping[str, Any]) -> str:
    try:
        keys = list(json.loads(tags.get("space", "{}")))
    except (TypeError, ValueError):
        keys = []
    return ", ".join(f"`{k}`" for k in keys) or "its space"


def _search(tags: Mapping[str, Any]) -> str:
    how = SAMPLER_NAMES.get(str(tags.get(T.SAMPLER)), f"Search ({tags.get(T.SAMPLER)} sampler)")
    return (
        f"{how} over {_space_keys(tags)}: {tags.get('n_trials', '?')} trials, objectives "
        f"{tags.get('objectives', '?')}, pruner {tags.get(T.PRUNER, '?')}, seed "
        f"{tags.get(T.SEED, '?')}. One child run per trial."
    )


def _evolve(tags: Mapping[str, Any]) -> str:
    return (
        f"Neuroevolution ({tags.get(T.ALGORITHM)}, {tags.get(T.ENCODING)} encoding) on task "
        f"`{tags.get(T.TASK)}`, seed {tags.get(T.SEED)}."
    )


def _command(tags: Mapping[str, Any], verb: str = "Started with") -> str:
    command = tags.get(T.COMMAND)
    return f"\n\n{verb}: `{command}`" if command else ""


def run_note(name: str, tags: Mapping[str, Any]) -> str | None:
    """The description of a new run from its tags; None for a run of no known kind."""
    if T.TRIAL_NUMBER in tags:
        return (
            f"Trial {tags[T.TRIAL_NUMBER]} of study `{tags.get(T.STUDY_NAME)}`: "
            f"{tags.get(T.TRIAL_OVERRIDES) or 'the base config'}." + _command(tags, "Retrain with")
        )
    if T.STAGE in tags:
        return f"Stage {tags[T.STAGE]} of the evolution; task settings {tags.get(T.STAGE_TASK)}."
    kind = tags.get(T.STUDY_KIND)
    if T.PARENT in tags or kind is None:
        return None
    if kind == "search":
        return f"Study `{tags.get(T.STUDY_NAME)}`: {_search(tags)}" + _command(tags)
    if kind == "evolve":
        return f"Evolution `{tags.get(T.STUDY_NAME)}`: {_evolve(tags)}" + _command(tags)
    if kind == "train":
        return f"Training run `{name}` (seed {tags.get(T.SEED)})." + _command(tags, "Rerun with")
    return f"A `{kind}` study." + _command(tags)


def experiment_note(experiment: str, tags: Mapping[str, Any]) -> str:
    """The description of a new experiment, from the tags of its first top-level run."""
    kind = tags.get(T.STUDY_KIND)
    what = {
        "search": "a hyperparameter search: the parent run holds the study (best trial, "
        "figures, report, best network as an MLflow model), one child run per trial",
        "evolve": "a neuroevolution study: the parent run holds the champion (as an MLflow "
        "model), its fitness per generation and the report",
        "train": "training runs: one run per training, with its learning curves",
    }.get(str(kind), f"runs of kind {kind}")
    return f"`{experiment}`: {what}." + _command(tags, "First run started with")
