"""Every engine builds on evolve.engine.Engine: the shared guard, counter, champion, last batch,
statistics and state live there once."""

from __future__ import annotations

import numpy as np
import pytest

from research.evolve import ENGINES, Engine, make_engine
from research.evolve.engine import population_stats

SETTINGS = {"esp": {"groups": [np.arange(0, 3), np.arange(3, 6)], "subpop": 4, "trials": 2}}
MULTI = {"nsga2", "nsga3", "cascade"}


def fitness(name: str, genomes: np.ndarray) -> np.ndarray:
    f = -np.sum(genomes**2, axis=1)
    return np.column_stack([f, -np.abs(genomes).sum(1)]) if name in MULTI else f


@pytest.mark.parametrize("name", ENGINES.names())
def test_each_engine_shares_the_base(name):
    engine = make_engine(name, 6, np.random.default_rng(0), **SETTINGS.get(name, {}))
    assert isinstance(engine, Engine)
    with pytest.raises(RuntimeError, match="tell\\(\\) without ask\\(\\)"):
        engine.tell(np.zeros(4))
    first = engine.ask()
    assert np.array_equal(first, engine.ask())  # asking twice without telling repeats it
    engine.tell(fitness(name, first))
    assert engine.generation == 1 and engine.pending is None
    genomes, values = engine.last
    assert np.array_equal(genomes, first)
    stats = engine.stats()
    expected = population_stats(values)
    assert {k: stats[k] for k in expected} == expected
    genome, best = engine.best()
    assert genome.shape == (6,) and np.isfinite(best).all()


def test_population_stats_is_over_finite_values_and_diversity_is_optional():
    f = np.array([1.0, 3.0, -np.inf])
    assert population_stats(f) == {"fitness/best": 3.0, "fitness/mean": 2.0, "fitness/std": 1.0}
    genomes = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 0.0]])
    assert population_stats(f, genomes)["diversity"] == pytest.approx(np.std([0, 2, 1]) / 2)
