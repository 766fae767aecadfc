"""Optuna's own figures of a study (matplotlib backend), named for the parent run's artifacts.

A figure that Optuna cannot draw for this study (importances need two complete trials with
varying parameters, intermediate values need a pruner's reports) is skipped, not an error.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import optuna
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, LogLocator, MaxNLocator, NullFormatter
from optuna.study import StudyDirection
from optuna.trial import TrialState
from optuna.visualization import matplotlib as ovm

from research.report.figures import DPI, plt

log = logging.getLogger(__name__)


#: trials drawn in colour (with a legend entry) in the intermediate values; the rest grey
TOP_IN_COLOUR = 5


def _tidy_parallel(ax):
    """Optuna's parallel coordinates with room for every axis's tick labels: wider, smaller
    labels, at most four ticks per numeric axis, no minor tick labels on log axes."""
    fig = ax.figure
    colorbar = next((c.colorbar.ax for c in ax.collections if c.colorbar), None)
    twins = [a for a in fig.axes if a is not ax and a is not colorbar]
    fig.set_size_inches(max(8.0, 1.8 * (len(twins) + 1)), 5.0)
    for twin in twins:
        twin.tick_params(axis="y", labelsize=7)
        if twin.get_yscale() == "log":
            twin.yaxis.set_major_locator(LogLocator(base=10, numticks=4))
            twin.yaxis.set_minor_formatter(NullFormatter())
        elif not isinstance(twin.yaxis.get_major_locator(), FixedLocator):
            twin.yaxis.set_major_locator(MaxNLocator(4))
    ax.tick_params(axis="y", labelsize=7)
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right", fontsize=8)
    return ax


def _top_in_colour(ax, study: optuna.Study, metric: str):
    """Optuna's intermediate values with the best :data:`TOP_IN_COLOUR` complete trials in
    colour and named in a short legend ("trial 62 (0.716)"); every other trial grey."""
    sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    ranked = sorted(complete, key=lambda t: (sign * t.value, t.number))
    top = {t.number: t.value for t in ranked if t.intermediate_values}
    top = dict(list(top.items())[:TOP_IN_COLOUR])
    colours = plt.get_cmap("tab10")
    handles, others = [], 0
    for line in ax.get_lines():
        number = int(line.get_label().removeprefix("Trial"))
        if number in top:
            rank = list(top).index(number)
            line.set(color=colours(rank), linewidth=1.8, alpha=1.0, zorder=3)
            line.set_label(f"trial {number} ({top[number]:.4g})")
            handles.append((rank, line))
        else:
            line.set(color="#b0b0b0", linewidth=0.8, alpha=0.5, marker="", zorder=1)
            others += 1
    legend = [h for _, h in sorted(handles, key=lambda p: p[0])]
    if others:
        legend.append(Line2D([], [], color="#b0b0b0", label=f"{others} other trials"))
    ax.legend(handles=legend, fontsize=8, loc="best")
    ax.set(xlabel="generation" if metric.startswith("fitness") else "epoch", ylabel=metric)
    ax.set_title(f"Intermediate values of {metric} (best {len(top)} trials in colour)")
    ax.figure.set_size_inches(8.0, 4.5)
    return ax


def _figure_of(axes):
    if hasattr(axes, "figure"):
        return axes.figure
    return axes.flat[0].figure  # an array of axes


def study_figures(study: optuna.Study, metrics: list[str]) -> Iterator[tuple[str, object]]:
    """(name, matplotlib figure) for history, importances, parallel coordinates, intermediate
    values and — with several objectives — the Pareto front."""
    multi = len(metrics) > 1
    plots = []
    if multi:
        plots.append(("pareto_front", lambda: ovm.plot_pareto_front(study, target_names=metrics)))
        for i, m in enumerate(metrics):
            name = m.replace("/", "_")
            plots.append(
                (
                    f"history_{name}",
                    lambda i=i, m=m: ovm.plot_optimization_history(
                        study, target=lambda t: t.values[i], target_name=m
                    ),
                )
            )
    else:
        metric = metrics[0]
        plots += [
            ("history", lambda: ovm.plot_optimization_history(study, target_name=metric)),
            ("importances", lambda: ovm.plot_param_importances(study, target_name=metric)),
            (
                "parallel_coordinates",
                lambda: _tidy_parallel(ovm.plot_parallel_coordinate(study, target_name=metric)),
            ),
        ]
        if any(t.intermediate_values for t in study.get_trials(deepcopy=False)):
            plots.append(
                (
                    "intermediate_values",
                    lambda: _top_in_colour(ovm.plot_intermediate_values(study), study, metric),
                )
            )
    for name, plot in plots:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                axes = plot()
        except (ValueError, RuntimeError, ZeroDivisionError) as exc:
            log.info("figure %s skipped: %s", name, exc)
            plt.close("all")
            continue
        yield name, _figure_of(axes)


def write_figures(study: optuna.Study, metrics: list[str], folder: Path) -> list[Path]:
    """Every figure of :func:`study_figures` as ``folder/<name>.png``; returns the paths."""
    paths = []
    for name, fig in study_figures(study, metrics):
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        with warnings.catch_warnings():  # matplotlib's layout notes are not news
            warnings.simplefilter("ignore")
            fig.savefig(path, dpi=DPI, bbox_inches="tight")
        close(fig)
        paths.append(path)
    return paths


def close(fig) -> None:
    plt.close(fig)
