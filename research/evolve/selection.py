"""Selection schemes by name: DEAP's selection operators, for the GA and the YAML.

An entry is a selection operator with DEAP's signature, ``select(individuals, k, **settings)
-> chosen``; ``study.settings.selection`` names one (``tournament`` by default) and
``selection_settings`` (and, for the tournament, ``tournsize``) are its keyword settings,
bound as DEAP's ``Toolbox.register`` binds them. It runs inside the engine's
:meth:`EngineRNG.deap`, so its draws from Python's ``random`` come from the engine's own
stream. A user's operator of the same shape is named by import path
(``selection: mypkg.sel:truncation``) or by an entry point in ``research.selections``.

Built in: ``tournament`` (``selTournament``), ``roulette`` (``selRoulette``: fitness must be
positive), ``best`` (``selBest``), ``sus`` (``selStochasticUniversalSampling``: fitness
positive), ``lexicase`` (``selLexicase``: every fitness column a case), ``nsga2``
(``selNSGA2``: non-dominated fronts, then crowding distance).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from deap import tools

from research.registry import Registry

#: ``select(individuals, k) -> chosen`` (DEAP's convention), settings bound
Select = Callable[[list, int], list]

SELECTIONS: Registry[Callable[..., list]] = Registry("selection", group="research.selections")
SELECTIONS.register("tournament", tools.selTournament)
SELECTIONS.register("roulette", tools.selRoulette)
SELECTIONS.register("best", tools.selBest)
SELECTIONS.register("sus", tools.selStochasticUniversalSampling)
SELECTIONS.register("lexicase", tools.selLexicase)
SELECTIONS.register("nsga2", tools.selNSGA2)


def make_selection(name: str, settings: dict[str, Any] | None = None) -> Select:
    """The operator ``name`` with its ``settings`` bound; an unknown name or setting is one
    line (the first two parameters, ``individuals`` and ``k``, are not settings)."""
    settings = dict(settings or {})
    SELECTIONS.check_keywords(name, settings, skip=2)
    return partial(SELECTIONS.get(name), **settings)
