"""Search-space declarations map to the right Optuna distributions; bad ones are one line."""

from __future__ import annotations

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from research.errors import ConfigError
from research.search.space import parse_space


def test_every_construct_maps_to_its_distribution():
    space = parse_space(
        {
            "regime": "choice(sgd, momentum, adam)",
            "regime.lr": "tag(log, interval(1e-3, 3.0))",
            "model.hidden": "choice([64], [128, 64])",
            "regime.batch_size": "range(16, 129, 16)",
            "regime.epochs": "int(tag(log, interval(5, 40)))",
            "model.dropout": "interval(0, 0.5)",
        }
    )
    d = {k: v.distribution for k, v in space.items()}
    assert d["regime"] == CategoricalDistribution(("sgd", "momentum", "adam"))
    assert d["regime.lr"] == FloatDistribution(1e-3, 3.0, log=True)
    assert d["model.hidden"] == CategoricalDistribution(("[64]", "[128,64]"))
    assert d["regime.batch_size"] == IntDistribution(16, 128, step=16)
    assert d["regime.epochs"] == IntDistribution(5, 40, log=True)
    assert d["model.dropout"] == FloatDistribution(0.0, 0.5)
    assert space["model.hidden"].override("[128,64]") == "model.hidden=[128,64]"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("interval(3, 1)", "low 3.0 > high 1.0"),
        ("tag(log, interval(0, 1))", "log scale needs low > 0"),
        ("5", "give choice"),
        ("tag(foo, interval(1, 2))", "unknown tag"),
        ("range(1, 1)", "empty"),
        ("interval(1,", "not valid sweep syntax"),
        ("choice(a, a)", "twice"),
    ],
)
def test_bad_declarations_are_one_line_errors(text, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        parse_space({"regime.lr": text})
    assert "\n" not in str(info.value) and "regime.lr" in str(info.value)
