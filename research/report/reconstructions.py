"""What an autoencoder does to a few validation examples: each column one example, rows the
clean input, the corrupted input it is given (a denoising autoencoder's noise), and the
reconstruction. Square inputs (MNIST 28x28, digits 8x8) are shown as images, others
(MNIST-1D's 40 steps) as curves."""

from __future__ import annotations

import math

import numpy as np

from research.report.figures import plt

ROWS = ("input", "corrupted", "reconstruction")
#: the artifact a run (a search trial's too) logs it as; the search report reads it back
RECONSTRUCTIONS = "reconstructions.png"


def reconstruction_figure(model, x: np.ndarray, rng: np.random.Generator, title: str = ""):
    """The figure for the rows of ``x`` (a handful): ``model.corrupt(x, rng)`` then
    ``model.predict`` of the corrupted input."""
    x = np.asarray(x, dtype=model.dtype).reshape(len(x), -1)
    corrupted = model.corrupt(x, rng)
    rows = (x, corrupted, model.predict(corrupted))
    side = math.isqrt(x.shape[1])
    square = side * side == x.shape[1]
    fig, axes = plt.subplots(
        3, len(x), figsize=(1.3 * len(x), 4.2), squeeze=False, constrained_layout=True
    )
    for r, (label, values) in enumerate(zip(ROWS, rows, strict=True)):
        for c in range(len(x)):
            ax = axes[r][c]
            if square:
                ax.imshow(values[c].reshape(side, side), cmap="gray", vmin=0, vmax=1)
            else:
                ax.plot(values[c], lw=1)
                ax.set_ylim(float(x.min()) - 0.5, float(x.max()) + 0.5)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig
