"""The staging rule: advance on the threshold, on solving, on the cap; backtrack when stuck."""

from __future__ import annotations

from research.evolve.staging import StageState, Staging

STAGES = ({"short_length": 0.2}, {"short_length": 0.1})


def test_the_population_advances_when_the_threshold_is_reached_and_stays_on_the_goal():
    rule = Staging(STAGES, advance_at=10.0, stage_generations=None)
    s = StageState()
    assert rule.task_params({"short_length": 0.05, "m": 1}, 0) == {"short_length": 0.2, "m": 1}
    assert rule.task_params({"short_length": 0.05, "m": 1}, 2) == {"short_length": 0.05, "m": 1}
    assert not rule.update(s, 1, 5.0, False) and s.stage == 0
    assert rule.update(s, 2, 10.0, False) and s.stage == 1 and s.since == 0
    assert rule.update(s, 3, 3.0, True) and s.stage == 2  # solving the stage also advances
    assert rule.is_goal(s)
    assert not rule.update(s, 4, 1e9, True) and s.stage == 2
    assert s.history == [(2, 1), (3, 2)]


def test_a_stage_cap_forces_the_advance_or_backtracks():
    forced = Staging(STAGES, advance_at=None, stage_generations=3, force_advance=True)
    s = StageState()
    assert [forced.update(s, g, 0.0, False) for g in (1, 2, 3)] == [False, False, True]
    assert s.stage == 1
    back = Staging(STAGES, advance_at=100.0, stage_generations=2, backtrack=True)
    s = StageState(stage=1)
    assert [back.update(s, g, 1.0, False) for g in (1, 2)] == [False, True]
    assert s.stage == 0  # stalled on stage 1: back to stage 0 to consolidate
    s0 = StageState()
    assert [back.update(s0, g, 1.0, False) for g in (1, 2)] == [False, False]  # no stage -1
