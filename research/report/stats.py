"""Is one method better than another over paired seeds? A difference, its interval and a test.

Studies of two methods that share a seed (``study.seed``: the same start, the same data) make
a pair, and the question is whether the paired differences are centred away from zero:

- the exact **sign-flip permutation test** (two-sided): under "no difference" each paired
  difference is as likely positive as negative, so the p-value is the share of the 2^n sign
  patterns whose mean is at least as far from zero as the observed one. It assumes nothing
  about the distribution, and it says honestly that few pairs cannot show anything: with
  n pairs the smallest p is 2 / 2^n (0.0625 for 5 pairs, 0.03125 for 6);
- a **percentile bootstrap interval** of the mean difference (seeded: the same report twice),
  to say how large the difference may be.

Both are SciPy's (``scipy.stats.permutation_test``, ``scipy.stats.bootstrap``).

The verdict comes from the test at ``ALPHA``: "significant" or "not significant", never a bare
"A wins".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05
RESAMPLES = 10_000
EXACT_UP_TO = 16  # pairs; above, the sign patterns are sampled (RESAMPLES of them)


@dataclass(frozen=True)
class Paired:
    """The paired differences ``a - b`` of two methods, summarised."""

    n: int
    mean: float
    low: float  # the bootstrap interval of the mean difference
    high: float
    p: float  # two-sided sign-flip permutation test
    confidence: float = 0.95

    @property
    def significant(self) -> bool:
        return self.p < ALPHA


def sign_flip_p(diffs: np.ndarray, rng: np.random.Generator | None = None) -> float:
    """Two-sided p-value of the sign-flip permutation test of ``mean(diffs) == 0`` (SciPy's
    ``permutation_test`` over the signs of the pairs: exact up to ``EXACT_UP_TO`` pairs)."""
    exact = len(diffs) <= EXACT_UP_TO
    return float(
        stats.permutation_test(
            (np.asarray(diffs, dtype=float),),
            np.mean,
            permutation_type="samples",
            alternative="two-sided",
            n_resamples=np.inf if exact else RESAMPLES,
            rng=rng or np.random.default_rng(0),
        ).pvalue
    )


def paired(a: list[float], b: list[float], confidence: float = 0.95, seed: int = 0) -> Paired:
    """``a`` and ``b`` are the two methods' values, pair by pair (the same seed at index i)."""
    if len(a) != len(b) or len(a) < 2:
        raise ValueError(f"need two or more pairs of equal length, got {len(a)} and {len(b)}")
    diffs = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    interval = stats.bootstrap(
        (diffs,),
        np.mean,
        confidence_level=confidence,
        n_resamples=RESAMPLES,
        method="percentile",
        rng=rng,
    ).confidence_interval
    p = sign_flip_p(diffs, rng)
    return Paired(
        len(diffs), float(diffs.mean()), float(interval.low), float(interval.high), p, confidence
    )


def verdict(name_a: str, name_b: str, metric: str, result: Paired) -> str:
    """One sentence: the mean difference, its interval, the test, and what it means."""
    said = "significant" if result.significant else "not significant"
    floor = 2.0 / 2**result.n
    note = (
        f" (with {result.n} pairs no difference can reach p < {ALPHA}: the smallest possible "
        f"p is {floor:.4g}; run more seeds)"
        if floor >= ALPHA
        else ""
    )
    return (
        f"{name_a} - {name_b} in {metric}: mean {result.mean:+.4g} over {result.n} paired seeds, "
        f"{result.confidence:.0%} bootstrap interval [{result.low:+.4g}, {result.high:+.4g}]; "
        f"paired sign-flip test p = {result.p:.3g}: {said} at {ALPHA}{note}."
    )
