"""The paired statistic on constructed pairs whose answer is known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from research.report.stats import paired, sign_flip_p, verdict


def test_the_sign_flip_p_value_is_the_share_of_sign_patterns_as_extreme():
    # 6 positive differences: only "all +" and "all -" are as extreme: 2 / 64
    assert sign_flip_p(np.array([1.0, 2, 3, 4, 5, 6])) == pytest.approx(2 / 64)
    # +1 and -1: every pattern's |mean| is 0 or 1; observed 0 -> all 4 patterns count
    assert sign_flip_p(np.array([1.0, -1.0])) == 1.0
    # 3 pairs (1, 2, -0.5): |mean| >= 2.5/3 for patterns +,+,- / -,-,+ / +,+,+ / -,-,-: 4 of 8
    assert sign_flip_p(np.array([1.0, 2.0, -0.5])) == pytest.approx(4 / 8)


def test_a_clear_difference_over_enough_seeds_is_significant():
    a = [0.72, 0.73, 0.71, 0.74, 0.72, 0.73, 0.75, 0.72]
    b = [0.69, 0.70, 0.68, 0.70, 0.69, 0.71, 0.70, 0.69]
    result = paired(a, b)
    assert result.p == pytest.approx(2 / 256) and result.significant
    assert 0 < result.low <= result.mean <= result.high
    assert result.mean == pytest.approx(np.mean(np.subtract(a, b)))
    text = verdict("tpe", "random", "val/acc", result)
    assert ": significant at 0.05." in text and "not significant" not in text


def test_a_mixed_difference_is_said_to_be_not_significant():
    result = paired([0.70, 0.69, 0.71, 0.68, 0.70], [0.69, 0.70, 0.70, 0.69, 0.70])
    assert not result.significant and result.low < 0 < result.high
    text = verdict("tpe", "random", "val/acc", result)
    assert "not significant at 0.05" in text
    # 5 pairs can never reach p < 0.05: the sentence says so
    assert "smallest possible p is 0.0625" in text


def test_the_interval_is_the_same_every_time():
    a, b = [0.7, 0.72, 0.69, 0.71], [0.68, 0.7, 0.7, 0.69]
    assert paired(a, b) == paired(a, b)


def test_fewer_than_two_pairs_is_refused():
    with pytest.raises(ValueError, match="two or more pairs"):
        paired([0.7], [0.6])
