"""Learning-rate schedules: values at chosen epochs/updates worked by hand, plateau halving
with patience and a floor, and one-line errors."""

from __future__ import annotations

import pytest

from research.errors import ConfigError
from research.train.schedules import SCHEDULES, make_schedule


def test_registry_names():
    assert set(SCHEDULES) == {"constant", "inverse", "step", "exponential", "plateau"}


def test_constant_ignores_epoch_update_and_observations():
    s = make_schedule("constant", 0.3)
    s.observe(1.0)
    s.observe(2.0)
    assert [s.lr(e, u) for e, u in [(0, 0), (5, 100), (50, 10_000)]] == [0.3, 0.3, 0.3]


def test_inverse_decays_with_the_update_count():
    s = make_schedule("inverse", 0.5, decay=0.1)
    # eta0 / (1 + eta0 * lambda * t) = 0.5 / (1 + 0.05 t)
    assert s.lr(0, 0) == 0.5
    assert s.lr(3, 20) == pytest.approx(0.5 / 2.0)  # 1 + 0.05 * 20 = 2
    assert s.lr(9, 180) == pytest.approx(0.5 / 10.0)  # 1 + 0.05 * 180 = 10
    assert make_schedule("inverse", 0.5).lr(0, 10**6) == 0.5  # decay 0: constant


def test_step_drops_by_gamma_every_step_size_epochs():
    s = make_schedule("step", 1.0, step_size=3, gamma=0.5)
    # epochs 0-2: 1, 3-5: 0.5, 6-8: 0.25, 9: 0.125
    got = [s.lr(epoch, 0) for epoch in range(10)]
    assert got == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]


def test_exponential_multiplies_by_gamma_each_epoch():
    s = make_schedule("exponential", 2.0, gamma=0.9)
    assert s.lr(0, 0) == 2.0
    assert s.lr(1, 999) == pytest.approx(1.8)
    assert s.lr(2, 0) == pytest.approx(1.62)  # 2 * 0.81


def test_plateau_halves_after_patience_epochs_without_improvement_down_to_min_lr():
    s = make_schedule("plateau", 1.0, factor=0.5, patience=2, min_lr=0.2)
    seen = []
    for value in [1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.94, 0.99, 0.95, 0.96, 0.97, 0.98]:
        s.observe(value)
        seen.append(s.lr(0, 0))
    # 1.0 best, 0.9 best, 0.95 bad 1, 0.92 bad 2 -> 0.5, 0.91 bad 1, 0.93 bad 2 -> 0.25,
    # 0.94 bad 1, 0.99 bad 2 -> max(0.125, 0.2) = 0.2, then it stays at the floor
    assert seen == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2, 0.2]
    assert s.reductions == 3  # the floor is not a reduction


def test_plateau_improvement_must_exceed_min_delta_and_resets_the_count():
    s = make_schedule("plateau", 0.8, patience=2, min_delta=0.1)
    for value in [1.0, 0.95, 0.7]:  # 0.95 is not better by 0.1 (bad 1); 0.7 is (reset)
        s.observe(value)
    assert s.lr(0, 0) == 0.8 and s.best == 0.7 and s.bad_epochs == 0
    s.observe(0.65)  # bad 1
    s.observe(float("nan"))  # bad 2 -> halve
    assert s.lr(0, 0) == 0.4


def test_plateau_state_dict_resumes():
    a = make_schedule("plateau", 1.0, patience=2)
    for value in [1.0, 2.0, 2.0, 2.0]:
        a.observe(value)
    b = make_schedule("plateau", 1.0, patience=2)
    b.load_state_dict(a.state_dict())
    a.observe(2.0)
    b.observe(2.0)
    assert a.lr(0, 0) == b.lr(0, 0) == 0.25


def test_schedules_return_python_floats():
    for name in SCHEDULES:
        assert type(make_schedule(name, 0.1).lr(3, 7)) is float


def test_unknown_schedule_is_a_one_line_config_error():
    with pytest.raises(ConfigError) as info:
        make_schedule("cosine", 0.1)
    message = str(info.value)
    assert "unknown schedule 'cosine'" in message and "plateau" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "kw", "fragment"),
    [
        ("step", {"gamma": 1.5}, "gamma=1.5 is not allowed: must be in (0, 1]"),
        ("step", {"step_size": 0}, "step_size=0 is not allowed: must be > 0"),
        ("exponential", {"gamma": 0.0}, "gamma=0.0"),
        ("inverse", {"decay": -1.0}, "decay=-1.0"),
        ("plateau", {"factor": 1.0}, "factor=1.0 is not allowed: must be in (0, 1)"),
        ("plateau", {"patience": -1}, "patience=-1"),
        ("plateau", {"min_lr": -0.1}, "min_lr=-0.1"),
        (
            "constant",
            {"gamma": 0.5},
            "unknown setting 'gamma' for schedule 'constant'; choose from: (none)",
        ),
        ("step", {"decay": 0.5}, "choose from: gamma, step_size"),
    ],
)
def test_bad_schedule_parameters_are_one_line_config_errors(name, kw, fragment):
    with pytest.raises(ConfigError) as info:
        make_schedule(name, 0.1, **kw)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_non_positive_initial_rate_is_a_config_error():
    with pytest.raises(ConfigError, match=r"lr=0.0 is not allowed: must be > 0"):
        make_schedule("constant", 0.0)
