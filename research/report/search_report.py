"""The report of one search study, and the comparison of several.

Optuna's storage is the source of truth for trials (states, values, parameters, the study's
space and objectives); MLflow gives the learning curves and the provenance (run ids, git
commit). Every figure and table says which of them it came from.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf
from optuna.trial import FrozenTrial, TrialState

from research.report.document import Figure, Section, Table, figure_png
from research.report.figures import plt
from research.report.search_compare import best_so_far, comparison_section
from research.report.search_data import SearchData, load_search
from research.report.search_figures import study_figures
from research.report.search_outputs import outputs_section
from research.report.search_trials import by_choice_sections, trials_section
from research.search.spec import without_repeats
from research.search.summary import fmt as _fmt
from research.search.trial import METRICS_ATTR, RETRIED_ATTR
from research.track import tags as T
from research.track.store import study_dir

__all__ = [  # what the study kind and the report command use
    "SearchData",
    "best_so_far",
    "comparison_section",
    "load_search",
    "output_dir",
    "search_sections",
]

TOP = 5


# --------------------------------------------------------------------------- one study
def search_sections(data: SearchData, base_config=None) -> list[Section]:
    return [
        _summary(data),
        *([_best_config(data, base_config)] if data.complete and len(data.metrics) == 1 else []),
        _figures(data),
        _curves(data),
        *outputs_section(data),
        *by_choice_sections(data),
        trials_section(data),
    ]


def _counts(data: SearchData) -> dict[str, int]:
    trials = data.trials
    retried = sum(1 for t in trials if t.user_attrs.get(RETRIED_ATTR))
    return {
        "complete": sum(t.state == TrialState.COMPLETE for t in trials),
        "pruned": sum(t.state == TrialState.PRUNED for t in trials),
        "failed": sum(t.state == TrialState.FAIL for t in trials) - retried,
        "crashed and retried": retried,
        "running": sum(t.state == TrialState.RUNNING for t in trials),
    }


def _peak(data: SearchData, trial: FrozenTrial, metric: str) -> float | None:
    """The best per-epoch value of ``metric`` in the trial's MLflow run (None if not logged)."""
    run_id = trial.user_attrs.get(T.RUN_ATTR)
    if not run_id or not metric.startswith(("val/", "train/")):
        return None
    values = [v for s, v in data.reader.history(run_id, metric) if s > 0]
    if not values:
        return None
    maximize = data.directions[data.metrics.index(metric)] == "maximize"
    return max(values) if maximize else min(values)


def _summary(data: SearchData) -> Section:
    tags, counts = data.tags, _counts(data)
    objectives = ", ".join(f"{m} ({d})" for m, d in zip(data.metrics, data.directions))
    overview = ", ".join(f"{n} {k}" for k, n in counts.items() if n or k == "complete")
    paragraphs = [
        f"{len(data.trials)} trials: {overview}. Objective(s): {objectives}. Sampler "
        f"`{tags.get('sampler', '?')}`, pruner `{tags.get('pruner', '?')}`, storage "
        f"`{tags.get('storage', '?')}`."
        + (
            f" Each completed trial is scored by the mean over {k} training seeds, each with "
            "its own validation split (`study.seeds_per_trial`)."
            if (k := data.signature.get("seeds_per_trial", 1)) > 1
            else ""
        ),
        f"Command: `{tags.get('command', '?')}`. Shared overrides: "
        f"`{' '.join(without_repeats(data.signature.get('overrides', []))) or '(none)'}`.",
        f"Source: {data.source()}.",
    ]
    ranked = data.ranked()[:TOP] if len(data.metrics) == 1 else data.ranked()
    extra = [
        m
        for m in ("test/acc", "test/rmse")
        if m not in data.metrics
        and any(m in t.user_attrs.get(METRICS_ATTR, {}) for t in data.trials)
    ]
    peak_metric = data.metrics[0] if len(data.metrics) == 1 else None
    header = ["trial", *data.metrics, *extra]
    if peak_metric:
        header.append(f"best epoch {peak_metric}")
    header += ["parameters", "MLflow run"]
    rows = []
    for t in ranked:
        metrics = t.user_attrs.get(METRICS_ATTR, {})
        row = [str(t.number), *(_fmt(v) for v in t.values), *(_fmt(metrics.get(m)) for m in extra)]
        if peak_metric:
            row.append(_fmt(_peak(data, t, peak_metric)))
        row.append(", ".join(f"{k}={_fmt(v)}" for k, v in t.params.items()))
        row.append(t.user_attrs.get(T.RUN_ATTR, "-"))
        rows.append(row)
    title = "Pareto front" if len(data.metrics) > 1 else f"Best {len(ranked)} trials"
    caption = (
        f"{title} from {data.source()}. The objective is the final epoch's value; "
        "'best epoch' is the best value any epoch reached (final vs peak)."
    )
    table = Table(header, rows, caption) if rows else Table(["note"], [["no trial completed"]])
    return Section(f"Summary: {data.name}", paragraphs, [table])


def _best_config(data: SearchData, base_config) -> Section:
    best = data.ranked()[0]
    rows = []
    for key, value in best.params.items():
        base = "-"
        if base_config is not None:
            node = OmegaConf.select(base_config, key)
            if hasattr(node, "keys") and "name" in node:  # a config group: its option name
                node = node["name"]
            base = _fmt(OmegaConf.to_container(node) if hasattr(node, "keys") else node)
        rows.append([key, str(base), _fmt(value)])
    return Section(
        f"Best configuration (trial {best.number})",
        [f"Retrain it exactly: `{_command(data, best)}`"],
        [
            Table(
                ["key", "base config", f"trial {best.number}"],
                rows,
                "The searched keys of the best trial against the base config "
                f"(conf/ + shared overrides); run `{best.user_attrs.get(T.RUN_ATTR)}`.",
            )
        ],
    )


def _command(data: SearchData, trial: FrozenTrial) -> str:
    run_id = trial.user_attrs.get(T.RUN_ATTR)
    for run in data.runs.children if data.runs else []:
        if run.run_id == run_id:
            return run.tags.get(T.COMMAND, "?")
    return "?"


FIGURE_CAPTIONS = {
    "history": "Objective of every trial and the best so far",
    "importances": "Parameter importances (fANOVA) for the objective",
    "parallel_coordinates": "Parallel coordinates: each line a complete trial, coloured by its "
    "objective",
    "intermediate_values": "Per-epoch values reported to the pruner: the best trials in colour "
    "(legend: trial and its objective), all others grey",
    "pareto_front": "Pareto front of the objectives",
}


def _figures(data: SearchData) -> Section:
    figures = []
    for name, fig in study_figures(data.study, data.metrics):
        what = FIGURE_CAPTIONS.get(name, name.replace("_", " ").capitalize())
        figures.append(Figure(f"{data.name}-{name}", f"{what} — {data.source()}.", figure_png(fig)))
    return Section("Optimisation", [], [], figures)


def _curves(data: SearchData) -> Section:
    """Per-epoch validation curves of the top trials (from their MLflow runs)."""
    top = data.ranked()[:TOP]
    metric = next((m for m in data.metrics if m.startswith("val/")), "val/acc")
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    used = []
    for t in top:
        run_id = t.user_attrs.get(T.RUN_ATTR)
        points = data.reader.history(run_id, metric) if run_id else []
        if points:
            ax.plot(*zip(*points), label=f"trial {t.number}")
            used.append(run_id)
    section = Section("Learning curves of the best trials")
    if not used:
        plt.close(fig)
        section.paragraphs.append("No per-epoch curves were logged for the best trials.")
        return section
    ax.set(xlabel="epoch", ylabel=metric, title=f"{metric} per epoch, best {len(used)} trials")
    ax.grid(alpha=0.3)
    ax.legend()
    runs = ", ".join(f"`{r}`" for r in used)
    caption = f"{metric} per epoch from MLflow runs {runs}; git `{data.commit}`."
    section.figures.append(Figure(f"{data.name}-learning_curves", caption, figure_png(fig)))
    counts = _counts(data)
    section.paragraphs.append(
        f"{counts['pruned']} of {len(data.trials)} trials were pruned (stopped early by the "
        f"pruner), {counts['failed']} failed; their partial curves are in their MLflow runs."
    )
    return section


def output_dir(root: Path, names: list[str]) -> Path:
    if len(names) == 1:
        return study_dir(root, names[0])
    return study_dir(root, "compare-" + "-".join(names))
