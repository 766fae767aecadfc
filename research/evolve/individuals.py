"""DEAP individual types: numpy float64 genomes with a fitness whose every objective is
maximised (weights +1).

The creator classes are made once, at import, under names of our own
(``ResearchFitness{M}`` / ``ResearchIndividual{M}`` for M = 1..MAX_OBJECTIVES objectives)
so that other code creating e.g. ``creator.FitnessMax`` cannot collide with them. Engines keep
their populations as plain arrays (what ``state_dict`` stores) and wrap them into individuals
only around DEAP calls. Numpy individuals need two precautions: crossovers must copy slices
(a swapped slice of an ndarray is a view), and halls of fame must compare genomes with
``numpy.array_equal`` — see :func:`hall_of_fame`.
"""

from __future__ import annotations

import numpy as np
from deap import base, creator, tools

MAX_OBJECTIVES = 8

for _m in range(1, MAX_OBJECTIVES + 1):
    if not hasattr(creator, f"ResearchFitness{_m}"):
        creator.create(f"ResearchFitness{_m}", base.Fitness, weights=(1.0,) * _m)
    if not hasattr(creator, f"ResearchIndividual{_m}"):
        creator.create(
            f"ResearchIndividual{_m}",
            np.ndarray,
            fitness=getattr(creator, f"ResearchFitness{_m}"),
        )


def individual_class(n_objectives: int) -> type:
    return getattr(creator, f"ResearchIndividual{n_objectives}")


def individual(genome: np.ndarray, values=None, n_objectives: int | None = None):
    """A fresh individual holding a float64 copy of ``genome``; fitness ``values`` if given."""
    if values is not None:
        values = tuple(float(v) for v in np.atleast_1d(values))
        n_objectives = len(values)
    cls = individual_class(n_objectives or 1)
    ind = np.array(genome, dtype=np.float64, copy=True).view(cls)
    cls.__init__(ind)  # creator's __init__ gives the instance its own Fitness
    if values is not None:
        ind.fitness.values = values
    return ind


def individuals(genomes: np.ndarray, values: np.ndarray | None = None) -> list:
    """Rows of ``genomes`` as individuals; ``values`` (P,) or (P, M) as their fitness."""
    if values is None:
        return [individual(g) for g in genomes]
    values = np.asarray(values, dtype=np.float64).reshape(len(genomes), -1)
    return [individual(g, v) for g, v in zip(genomes, values)]


def genomes_of(inds) -> np.ndarray:
    return np.array([np.asarray(i, dtype=np.float64) for i in inds], dtype=np.float64)


def values_of(inds) -> np.ndarray:
    """(P, M) fitness values of evaluated individuals."""
    return np.array([i.fitness.values for i in inds], dtype=np.float64)


def hall_of_fame(maxsize: int | None) -> tools.HallOfFame:
    """A hall of fame for numpy genomes (``None``: a :class:`deap.tools.ParetoFront`)."""
    if maxsize is None:
        return tools.ParetoFront(similar=np.array_equal)
    return tools.HallOfFame(maxsize, similar=np.array_equal)


def hof_state(hof: tools.HallOfFame) -> dict[str, np.ndarray]:
    """Genomes and values of a hall of fame, best first (DEAP's ``items`` order)."""
    if len(hof) == 0:
        return {"genomes": np.zeros((0, 0)), "values": np.zeros((0, 0))}
    return {"genomes": genomes_of(hof.items), "values": values_of(hof.items)}


def load_hof(hof: tools.HallOfFame, state: dict[str, np.ndarray]) -> None:
    """Restore ``hof`` exactly, order included (``keys`` ascending mirror ``items``
    descending, as ``HallOfFame.insert`` keeps them)."""
    items = individuals(state["genomes"], state["values"]) if len(state["genomes"]) else []
    hof.items = items
    hof.keys = [i.fitness for i in reversed(items)]
