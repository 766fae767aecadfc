"""A toy selection scheme with DEAP's signature: truncation, the fittest half cycled."""

from __future__ import annotations

from operator import attrgetter


def truncation(individuals, k, fit_attr="fitness"):
    """``k`` individuals taken in turn from the fitter half (no randomness)."""
    ranked = sorted(individuals, key=attrgetter(fit_attr), reverse=True)
    half = ranked[: max(1, len(ranked) // 2)]
    return [half[i % len(half)] for i in range(k)]
