"""Best-so-far against wall time, on a synthetic study whose timestamps are known."""

from __future__ import annotations

import datetime as dt

from optuna.trial import FrozenTrial, TrialState

from research.report.wall_time import best_at, best_by_time, elapsed

T0 = dt.datetime(2026, 12, 1, 12, 0, 0)


def trial(number: int, start: float, end: float | None, value=None, state=TrialState.COMPLETE):
    return FrozenTrial(
        number=number,
        state=state,
        value=value,
        datetime_start=T0 + dt.timedelta(seconds=start),
        datetime_complete=None if end is None else T0 + dt.timedelta(seconds=end),
        params={},
        distributions={},
        user_attrs={},
        system_attrs={},
        intermediate_values={},
        trial_id=number,
    )


#: two workers: trial 1 ends before trial 0; trial 2 is pruned (no value); trial 4 still runs
TRIALS = [
    trial(0, 0.0, 30.0, 0.60),
    trial(1, 1.0, 12.0, 0.50),
    trial(2, 12.0, 15.0, None, TrialState.PRUNED),
    trial(3, 30.0, 50.0, 0.70),
    trial(4, 50.0, None, None, TrialState.RUNNING),
    trial(5, 15.0, 40.0, 0.55),
]


def test_the_curve_follows_completion_times_not_trial_numbers():
    assert best_by_time(TRIALS, "maximize") == [
        (12.0, 0.50),  # trial 1 finished first
        (30.0, 0.60),
        (40.0, 0.60),  # trial 5 (0.55) does not beat 0.60
        (50.0, 0.70),
    ]
    assert best_by_time(TRIALS, "minimize") == [(12.0, 0.5), (30.0, 0.5), (40.0, 0.5), (50.0, 0.5)]


def test_the_best_at_a_moment_is_the_last_point_not_after_it():
    curve = best_by_time(TRIALS, "maximize")
    assert best_at(curve, 11.9) is None  # nothing had completed
    assert best_at(curve, 12.0) == 0.50
    assert best_at(curve, 45.0) == 0.60
    assert best_at(curve, 1e9) == 0.70


def test_a_study_lasts_from_its_first_start_to_its_last_end():
    assert elapsed(TRIALS) == 50.0
    assert elapsed([]) == 0.0
