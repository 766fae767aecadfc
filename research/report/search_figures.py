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
from optuna.visualization import matplotlib as ovm

from research.report.figures import plt

log = logging.getLogger(__name__)


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
        plots += [
            ("history", lambda: ovm.plot_optimization_history(study, target_name=metrics[0])),
            ("importances", lambda: ovm.plot_param_importances(study)),
            ("parallel_coordinates", lambda: ovm.plot_parallel_coordinate(study)),
        ]
        if any(t.intermediate_values for t in study.get_trials(deepcopy=False)):
            plots.append(("intermediate_values", lambda: ovm.plot_intermediate_values(study)))
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
            fig.savefig(path, dpi=100, bbox_inches="tight")
        close(fig)
        paths.append(path)
    return paths


def close(fig) -> None:
    plt.close(fig)
