"""Selection schemes by name (SELECTIONS, over DEAP's operators) inside the GA."""

from __future__ import annotations

import numpy as np
import pytest

from research.errors import ConfigError
from research.evolve import SELECTIONS, make_engine


def sphere(genomes: np.ndarray) -> np.ndarray:
    """Positive, maximised at 0.5 (roulette and SUS need positive fitness)."""
    return 1.0 / (1.0 + np.sum((genomes - 0.5) ** 2, axis=1))


def run(generations: int = 12, **settings) -> tuple[list[float], object]:
    engine = make_engine("ga", 6, np.random.default_rng(1), pop=16, **settings)
    best = []
    for _ in range(generations):
        genomes = engine.ask()
        engine.tell(sphere(genomes))
        best.append(float(engine.best()[1][0]))
    return best, engine


def test_the_built_in_selections_are_deaps_six():
    assert set(SELECTIONS) >= {"tournament", "roulette", "best", "sus", "lexicase", "nsga2"}


@pytest.mark.parametrize("name", ["tournament", "roulette", "best", "sus", "lexicase", "nsga2"])
@pytest.mark.parametrize("strategy", ["mu_plus_lambda", "simple"])
def test_each_built_in_selection_runs_in_the_ga(name, strategy):
    best, engine = run(selection=name, strategy=strategy)
    assert len(engine.ask()) == 16 - (1 if strategy == "simple" else 0)
    assert engine.parents.shape == (16, 6)
    assert all(b >= a for a, b in zip(best, best[1:]))  # the elite keeps the best
    assert best[-1] > best[0]


def test_the_default_is_the_tournament_of_tournsize_and_unchanged():
    default, _ = run()
    explicit, _ = run(selection="tournament", tournsize=3)
    settings, _ = run(selection="tournament", selection_settings={"tournsize": 3})
    assert default == explicit == settings
    other, _ = run(tournsize=5)
    assert other != default


def test_a_selection_round_trips_through_state_dict():
    _, a = run(6, selection="lexicase")
    b = make_engine("ga", 6, np.random.default_rng(99), pop=16, selection="lexicase")
    b.load_state_dict(a.state_dict())
    for _ in range(4):
        ga, gb = a.ask(), b.ask()
        assert np.array_equal(ga, gb)
        a.tell(sphere(ga))
        b.tell(sphere(gb))


def test_an_unknown_selection_is_one_line():
    with pytest.raises(ConfigError) as info:
        make_engine("ga", 4, np.random.default_rng(0), selection="nosuch")
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith("unknown selection 'nosuch'; choose one of: best, lexicase")


def test_an_unknown_selection_setting_is_one_line():
    with pytest.raises(ConfigError, match="unknown setting 'k' for selection 'best'"):
        make_engine(
            "ga", 4, np.random.default_rng(0), selection="best", selection_settings={"k": 2}
        )
    with pytest.raises(ConfigError, match="tournsize=0 is not allowed: must be >= 1"):
        make_engine("ga", 4, np.random.default_rng(0), tournsize=0)


def test_a_users_selection_is_named_by_import_path(tmp_path, monkeypatch):
    (tmp_path / "my_selection.py").write_text(
        "from deap import tools\n\n"
        "def worst_first(individuals, k, keep=1):\n"
        "    return tools.selBest(individuals, keep) + tools.selWorst(individuals, k - keep)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    best, engine = run(selection="my_selection.worst_first", selection_settings={"keep": 2})
    assert len(best) == 12 and engine.parents.shape == (16, 6)
