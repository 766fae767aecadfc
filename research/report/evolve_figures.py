"""Figures of an evolution: the Pareto front of (fitness, size), fitness per generation."""

from __future__ import annotations

import numpy as np

from research.report.figures import plt


def pareto_figure(values: np.ndarray, title: str = ""):
    """``values`` (n, 2) as the engine maximises them: fitness, -size."""
    fitness, size = values[:, 0], -values[:, 1]
    order = np.argsort(size)
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    ax.step(size[order], fitness[order], where="post", alpha=0.5)
    ax.scatter(size, fitness, zorder=3)
    ax.set(xlabel="active connections", ylabel="fitness", title=f"Pareto front {title}".strip())
    ax.grid(alpha=0.3)
    return fig


def fitness_scale(curves: dict[str, list[tuple[int, float]]]) -> str:
    """``log`` when the positive values span two decades or more (a jump to "solved" would
    flatten every earlier generation on a linear axis), ``symlog`` when such values include
    zero or negatives, else ``linear``."""
    values = np.array([v for points in curves.values() for _, v in points], dtype=float)
    values = values[np.isfinite(values)]
    positive = values[values > 0]
    if len(positive) == 0 or positive.max() / positive.min() < 100:
        return "linear"
    return "log" if len(positive) == len(values) else "symlog"


def apply_scale(ax, scale: str, curves: dict[str, list[tuple[int, float]]]) -> None:
    if scale == "symlog":
        positive = [v for points in curves.values() for _, v in points if v > 0]
        ax.set_yscale("symlog", linthresh=min(positive))
    else:
        ax.set_yscale(scale)


def fitness_figure(
    curves: dict[str, list[tuple[int, float]]], stages=(), title: str = "", scale: str = "linear"
):
    """Per-generation curves (e.g. fitness/best and fitness/mean), stage boundaries dashed,
    on ``scale`` (see :func:`fitness_scale`)."""
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for label, points in curves.items():
        if points:
            ax.plot(*zip(*points), label=label)
    for generation in stages:
        ax.axvline(generation, color="grey", linestyle="--", alpha=0.6)
    ax.set(xlabel="generation", ylabel="fitness" + ("" if scale == "linear" else f" ({scale})"))
    ax.set_title(title)
    apply_scale(ax, scale, curves)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig
