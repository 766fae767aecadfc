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


def fitness_figure(curves: dict[str, list[tuple[int, float]]], stages=(), title: str = ""):
    """Per-generation curves (e.g. fitness/best and fitness/mean), stage boundaries dashed."""
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for label, points in curves.items():
        if points:
            ax.plot(*zip(*points), label=label)
    for generation in stages:
        ax.axvline(generation, color="grey", linestyle="--", alpha=0.6)
    ax.set(xlabel="generation", ylabel="fitness", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig
