"""What a conditional GAN generates: samples of each class beside the real data. 2-D data
(ring8) as a scatter plot over the real points; other data as one generated curve per class
(MNIST-1D's 40 steps) or image (square inputs)."""

from __future__ import annotations

import math

import numpy as np

from research.report.figures import plt

#: the artifact a run (a search trial's too) logs it as; the search report reads it back
SAMPLES = "samples.png"


def samples_figure(model, x_real: np.ndarray, n_classes: int, rng, title: str = ""):
    """Generated examples (``model.sample(labels, rng)``) of every class."""
    if x_real.reshape(len(x_real), -1).shape[1] == 2:
        labels = np.repeat(np.arange(n_classes), 250)
        fake = model.sample(labels, rng)
        fig, ax = plt.subplots(figsize=(5, 5), constrained_layout=True)
        ax.scatter(*x_real[:2000].T, s=4, c="lightgrey", label="real")
        scatter = ax.scatter(*fake.T, s=3, c=labels, cmap="tab10", label="generated")
        ax.legend(*scatter.legend_elements(), title="class", fontsize=7, loc="center")
        ax.set_aspect("equal")
    else:
        labels = np.arange(n_classes)
        fake = model.sample(labels, rng).reshape(n_classes, -1)
        side = math.isqrt(fake.shape[1])
        fig, axes = plt.subplots(
            1, n_classes, figsize=(1.3 * n_classes, 1.8), squeeze=False, constrained_layout=True
        )
        for c, ax in enumerate(axes[0]):
            if side * side == fake.shape[1]:
                ax.imshow(fake[c].reshape(side, side), cmap="gray")
            else:
                ax.plot(fake[c], lw=1)
            ax.set(xticks=[], yticks=[], title=f"class {c}")
    if title:
        fig.suptitle(title, fontsize=9)
    return fig
