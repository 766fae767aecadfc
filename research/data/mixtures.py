"""Generated 2-D mixtures of Gaussians: the mode-collapse test bed of GAN papers, and the
measure they score samples by.

``ring8`` is the mixture of Metz et al. (2017, "Unrolled generative adversarial networks"):
8 Gaussians of standard deviation 0.02 whose means lie evenly on a circle of radius 2. The
label of a point is the index of its mode, so a conditional GAN has 8 classes.
"""

from __future__ import annotations

import numpy as np

from research.data.checks import check_splits
from research.data.dataset import Dataset
from research.errors import ConfigError

#: a sample is "high quality" if within this many standard deviations of its nearest mode
HIGH_QUALITY_STDS = 3.0


def ring_modes(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The (n_modes, 2) means: angles 2 pi k / n_modes, k = 0..n_modes-1."""
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def ring8(
    *,
    seed: int,
    dtype: str,
    n_train: int,
    n_val: int,
    n_test: int,
    radius: float = 2.0,
    std: float = 0.02,
) -> Dataset:
    """8 Gaussians on a ring; label = mode index (drawn uniformly). ``meta`` carries the
    modes and std, which :func:`mode_quality` scores generated samples against."""
    check_splits("ring8", {"n_train": n_train, "n_val": n_val, "n_test": n_test})
    if radius <= 0 or std <= 0:
        raise ConfigError(f"data.radius={radius}, data.std={std} are not allowed: both must be > 0")
    modes = ring_modes(8, radius)
    n = n_train + n_val + n_test
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(8,)))
    y = rng.integers(0, len(modes), n).astype(np.int64)
    x = (modes[y] + std * rng.standard_normal((n, 2))).astype(dtype)
    a, b = n_train, n_train + n_val
    meta = {"source": "generated: 8 Gaussians on a ring", "modes": modes.tolist(), "std": std}
    return Dataset("ring8", "classification", x[:a], y[:a], x[a:b], y[a:b], x[b:], y[b:], 8, meta)


def mode_quality(points: np.ndarray, labels: np.ndarray, modes, std: float) -> dict[str, float]:
    """Score generated ``points`` (conditioned on ``labels``) against the mixture's ``modes``.

    The measure of the unrolled-GAN paper (Metz et al. 2017; also VEEGAN, Srivastava et al.
    2017): a sample is *high quality* if its distance to the nearest mode is at most
    3 standard deviations (3 * ``std``); a mode is *covered* if at least one high-quality sample
    has it as nearest mode. Returns ``modes`` (number covered), ``high_quality`` (fraction of
    samples that are high quality), ``cond_acc`` (fraction of samples whose nearest mode is
    the one they were conditioned on) and ``min_mode_share`` (the least-covered mode's share
    of the high-quality samples times the number of modes: 1 when balanced, 0 when a mode
    is missing).
    """
    modes = np.asarray(modes, dtype=np.float64)
    p = np.asarray(points, dtype=np.float64)
    d2 = ((p[:, None, :] - modes[None, :, :]) ** 2).sum(-1)
    nearest = d2.argmin(1)
    good = np.sqrt(d2[np.arange(len(p)), nearest]) <= HIGH_QUALITY_STDS * std
    counts = np.bincount(nearest[good], minlength=len(modes))
    share = counts.min() / max(counts.sum(), 1) * len(modes)
    return {
        "modes": float(np.sum(counts >= 1)),
        "high_quality": float(good.mean()) if len(p) else 0.0,
        "cond_acc": float(np.mean(nearest == labels)) if len(p) else 0.0,
        "min_mode_share": float(share),
    }
