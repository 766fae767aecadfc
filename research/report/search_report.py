"""The report of one search study, and the comparison of several.

Optuna's storage is the source of truth for trials (states, values, parameters, the study's
space and objectives); MLflow gives the learning curves and the provenance (run ids, git
commit). Every figure and table says which of them it came from.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import optuna
from omegaconf import OmegaConf
from optuna.trial import FrozenTrial, TrialState

from research.errors import ResearchError
from research.report.document import Figure, Section, Table, figure_png
from research.report.figures import plt
from research.report.search_figures import study_figures
from research.search.driver import SIGNATURE_ATTR
from research.search.summary import fmt as _fmt
from research.search.trial import METRICS_ATTR, RETRIED_ATTR
from research.track import tags as T
from research.track.reader import StoreReader, StudyRuns
from research.track.store import study_dir

TOP = 5


@dataclass
class SearchData:
    """A search study as read back: Optuna's trials plus MLflow's runs."""

    name: str
    study: optuna.Study
    runs: StudyRuns | None
    reader: StoreReader

    @property
    def signature(self) -> dict:
        return json.loads(self.study.user_attrs.get(SIGNATURE_ATTR, "{}") or "{}")

    @property
    def metrics(self) -> list[str]:
        return list(self.signature.get("objectives", {})) or ["value"]

    @property
    def directions(self) -> list[str]:
        return list(self.signature.get("objectives", {}).values()) or ["maximize"]

    @property
    def parent_id(self) -> str:
        return self.study.user_attrs.get(T.PARENT_RUN_ATTR, "?")

    @property
    def tags(self) -> dict[str, str]:
        return self.runs.parent.tags if self.runs else {}

    @property
    def commit(self) -> str:
        commit = self.tags.get(T.GIT_COMMIT, "unknown")
        return commit[:12] + (" (dirty)" if self.tags.get(T.GIT_DIRTY) == "True" else "")

    @property
    def trials(self) -> list[FrozenTrial]:
        return self.study.get_trials(deepcopy=False)

    @property
    def complete(self) -> list[FrozenTrial]:
        return [t for t in self.trials if t.state == TrialState.COMPLETE]

    def ranked(self) -> list[FrozenTrial]:
        """COMPLETE trials best first (single objective) or the Pareto front."""
        if len(self.metrics) > 1:
            return sorted(self.study.best_trials, key=lambda t: t.number)
        sign = -1.0 if self.directions[0] == "maximize" else 1.0
        return sorted(self.complete, key=lambda t: (sign * t.values[0], t.number))

    def source(self) -> str:
        return (
            f"Optuna study `{self.name}` ({len(self.trials)} trials), MLflow parent run "
            f"`{self.parent_id}`, git `{self.commit}`"
        )


def load_search(name: str, storage, reader: StoreReader) -> SearchData:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise ResearchError(f"unknown study {name!r}: its storage holds no such study") from None
    if not study.get_trials(deepcopy=False):
        raise ResearchError(f"study {name!r} has no trials yet: run it first")
    runs = reader.study(name, study.user_attrs.get(T.PARENT_RUN_ATTR))
    return SearchData(name, study, runs, reader)


# --------------------------------------------------------------------------- one study
def search_sections(data: SearchData, base_config=None) -> list[Section]:
    return [
        _summary(data),
        *([_best_config(data, base_config)] if data.complete and len(data.metrics) == 1 else []),
        _figures(data),
        _curves(data),
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
    return max(values) if metric.endswith("/acc") else min(values)


def _summary(data: SearchData) -> Section:
    tags, counts = data.tags, _counts(data)
    objectives = ", ".join(f"{m} ({d})" for m, d in zip(data.metrics, data.directions))
    overview = ", ".join(f"{n} {k}" for k, n in counts.items() if n or k == "complete")
    paragraphs = [
        f"{len(data.trials)} trials: {overview}. Objective(s): {objectives}. Sampler "
        f"`{tags.get('sampler', '?')}`, pruner `{tags.get('pruner', '?')}`, storage "
        f"`{tags.get('storage', '?')}`.",
        f"Command: `{tags.get('command', '?')}`. Shared overrides: "
        f"`{' '.join(data.signature.get('overrides', [])) or '(none)'}`.",
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


def _figures(data: SearchData) -> Section:
    figures = []
    for name, fig in study_figures(data.study, data.metrics):
        figures.append(
            Figure(
                name, f"{name.replace('_', ' ').capitalize()} — {data.source()}.", figure_png(fig)
            )
        )
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
    section.figures.append(Figure("learning_curves", caption, figure_png(fig)))
    counts = _counts(data)
    section.paragraphs.append(
        f"{counts['pruned']} of {len(data.trials)} trials were pruned (stopped early by the "
        f"pruner), {counts['failed']} failed; their partial curves are in their MLflow runs."
    )
    return section


# ------------------------------------------------------------------------ comparison
def best_so_far(data: SearchData) -> list[float]:
    """The best objective after each trial (NaN before the first complete one)."""
    sign = 1.0 if data.directions[0] == "maximize" else -1.0
    best, out = math.nan, []
    for t in sorted(data.trials, key=lambda t: t.number):
        if t.state == TrialState.COMPLETE:
            v = t.values[0]
            if math.isnan(best) or sign * v > sign * best:
                best = v
        out.append(best)
    return out


def comparison_section(studies: list[SearchData]) -> Section:
    """Studies side by side at equal budget; studies with the same sampler are grouped as
    seeds of one method (median and min..max)."""
    metric = studies[0].metrics[0]
    budget = min(len(d.trials) for d in studies)
    groups: dict[str, list[SearchData]] = {}
    for d in studies:
        groups.setdefault(d.tags.get(T.SAMPLER, d.name), []).append(d)
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    rows = []
    for method, members in groups.items():
        curves = [best_so_far(d)[:budget] for d in members]
        finals = [c[-1] for c in curves]
        tests = [_test_of_best(d, budget) for d in members]
        steps = range(budget)
        med = [statistics.median(c[i] for c in curves) for i in steps]
        line = ax.plot(steps, med, label=f"{method} (n={len(members)})")[0]
        if len(members) > 1:
            lo = [min(c[i] for c in curves) for i in steps]
            hi = [max(c[i] for c in curves) for i in steps]
            ax.fill_between(steps, lo, hi, alpha=0.2, color=line.get_color())
        rows.append(
            [
                method,
                ", ".join(d.name for d in members),
                str(budget),
                _spread(finals),
                _spread([t for t in tests if t is not None]),
            ]
        )
    ax.set(xlabel="trial", ylabel=f"best {metric} so far", title=f"Equal budget: {budget} trials")
    ax.grid(alpha=0.3)
    ax.legend()
    sources = "; ".join(d.source() for d in studies)
    caption = f"Median (line) and min..max (band) over the studies of each method. From {sources}."
    table = Table(
        ["method", "studies", "trials", f"best {metric}: median [min..max]", "its test/acc"],
        rows,
        f"At equal budget (the first {budget} trials of each study). From {sources}.",
    )
    return Section(
        "Comparison at equal budget",
        [f"Methods compared on their first {budget} trials each."],
        [table],
        [Figure("comparison", caption, figure_png(fig))],
    )


def _test_of_best(data: SearchData, budget: int) -> float | None:
    sign = -1.0 if data.directions[0] == "maximize" else 1.0
    pool = [t for t in data.complete if t.number < budget]
    if not pool:
        return None
    best = min(pool, key=lambda t: (sign * t.values[0], t.number))
    return best.user_attrs.get(METRICS_ATTR, {}).get("test/acc")


def _spread(values: list[float]) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.4g}"
    return f"{statistics.median(values):.4g} [{min(values):.4g}..{max(values):.4g}]"


def output_dir(root: Path, names: list[str]) -> Path:
    if len(names) == 1:
        return study_dir(root, names[0])
    return study_dir(root, "compare-" + "-".join(names))
