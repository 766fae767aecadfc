"""Task abilities are Protocols checked with isinstance; TASKS is a Registry."""

from __future__ import annotations

import pytest

from research.errors import ConfigError
from research.tasks import TASKS, ChampionTested, StatefulTask, Task, make_task
from research.tasks.pole import GENERALISATION_STARTS, generalisation_starts


def test_abilities_are_read_from_the_protocols():
    nv = make_task("pole_double_nv")
    assert isinstance(nv, Task) and isinstance(nv, ChampionTested) and nv.tests_champion
    assert not isinstance(nv, StatefulTask)
    xor = make_task("xor")
    assert isinstance(xor, Task)
    assert not isinstance(xor, ChampionTested) and not isinstance(xor, StatefulTask)
    compete = make_task("compete", data="xor")
    assert isinstance(compete, StatefulTask)


def test_the_generalisation_starts_are_one_constant():
    assert GENERALISATION_STARTS == 625 == len(generalisation_starts())


def test_a_users_task_is_named_by_import_path():
    assert make_task("research.tasks.xor.xor").name == make_task("xor").name
    assert "xor" in TASKS


def test_unknown_tasks_and_parameters_stay_one_line():
    with pytest.raises(ConfigError, match=r"^unknown task 'nosuch'; choose one of: classify, "):
        make_task("nosuch")
    with pytest.raises(ConfigError, match=r"^task 'xor' has no parameter 'nosuch'; it takes: "):
        make_task("xor", nosuch=1)
