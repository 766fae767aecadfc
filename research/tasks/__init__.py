"""Fitness tasks for neuroevolution, found by name in :data:`TASKS`.

Each task scores a whole population of weight sets of one template network (an MLP or an
Elman net) in one vectorised call: ``make_task("pole_double").evaluate(net, thetas)`` with
``thetas`` of shape (P, net.n_params) returns a :class:`TaskResult`. A user's task is a
factory ``task(**params) -> Task`` named by import path (``task.name: mypkg.tasks.mine``) or
registered by an entry point in ``research.tasks``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from research.errors import ConfigError
from research.registry import Registry
from research.tasks.balance import pole_double, pole_double_nv, pole_single
from research.tasks.base import ChampionTested, StatefulTask, Task, TaskResult
from research.tasks.classify import classify
from research.tasks.compete import compete
from research.tasks.regress import regress
from research.tasks.xor import xor

#: config name -> factory(**params) -> Task
TASKS: Registry[Callable[..., Task]] = Registry("task", group="research.tasks")
for _factory in (classify, xor, regress, pole_single, pole_double, pole_double_nv, compete):
    TASKS.register(_factory.__name__, _factory)


def make_task(name: str, **params) -> Task:
    """The task ``name`` with ``params``; unknown names and parameters and bad values are
    one-line :class:`ConfigError`s."""
    factory = TASKS.get(name)
    allowed = set(inspect.signature(factory).parameters)
    for key in params:
        if key not in allowed:
            raise ConfigError(
                f"task {name!r} has no parameter {key!r}; it takes: " + ", ".join(sorted(allowed))
            )
    return factory(**params)


__all__ = ["TASKS", "ChampionTested", "StatefulTask", "Task", "TaskResult", "make_task"]
