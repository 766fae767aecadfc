"""Variation operators for numpy individuals, in DEAP's calling convention.

They run inside :meth:`EngineRNG.deap`, so those drawing from Python's ``random`` draw from
the engine's own stream. DEAP's own ``cxBlend`` and ``mutGaussian`` work on ndarrays as they
are (they assign gene by gene) and are used directly. ``cx_two_point`` copies the swapped
slices: with ndarrays, ``a[i:j], b[i:j] = b[i:j], a[i:j]`` would swap views and leave both
parents equal.
"""

from __future__ import annotations

import random

import numpy as np


def cx_two_point(ind1: np.ndarray, ind2: np.ndarray):
    """Exchange the genes between two random cut points (DEAP's cxTwoPoint, copying)."""
    size = len(ind1)
    if size < 2:
        return ind1, ind2
    a = random.randint(1, size)
    b = random.randint(1, size - 1)
    if b >= a:
        b += 1
    else:
        a, b = b, a
    ind1[a:b], ind2[a:b] = ind2[a:b].copy(), ind1[a:b].copy()
    return ind1, ind2


def mut_cauchy(ind: np.ndarray, scale: float, indpb: float, gen: np.random.Generator):
    """Each gene, with probability ``indpb``, gets Cauchy(0, scale) noise: heavy tails give
    the occasional long jump (density 1 / (pi scale (1 + (x/scale)^2))). Drawn from the
    engine's Generator."""
    mask = gen.random(len(ind)) < indpb
    ind[mask] += scale * gen.standard_cauchy(int(mask.sum()))
    return (ind,)
