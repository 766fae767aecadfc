"""Early stopping: the stopping epoch, the best epoch and the reason, in both modes."""

from __future__ import annotations

import pytest

from research.errors import ConfigError
from research.train.early_stopping import EarlyStopping


def feed(stopper: EarlyStopping, key: str, values) -> int | None:
    """Epochs are numbered from 1; return the epoch at which ``update`` said stop."""
    for epoch, value in enumerate(values, start=1):
        if stopper.update({key: value, "train/loss": 0.0}, epoch):
            return epoch
    return None


def test_min_mode_stops_patience_epochs_after_the_best():
    stopper = EarlyStopping("val/loss", "min", patience=3)
    # best 0.7 at epoch 3; epochs 4, 5, 6 do not beat it -> stop at 6
    stopped = feed(stopper, "val/loss", [1.0, 0.8, 0.7, 0.75, 0.71, 0.72, 0.1])
    assert stopped == 6
    assert stopper.best == 0.7 and stopper.best_epoch == 3
    assert stopper.reason == "val/loss did not improve by 0.0 for 3 epochs (best 0.7 at epoch 3)"


def test_max_mode_stops_patience_epochs_after_the_best():
    stopper = EarlyStopping("val/acc", "max", patience=2)
    # 0.5, 0.6, 0.9 (best, epoch 3), 0.8, 0.95 (best, epoch 5), 0.9, 0.94 -> stop at 7
    stopped = feed(stopper, "val/acc", [0.5, 0.6, 0.9, 0.8, 0.95, 0.9, 0.94, 1.0])
    assert stopped == 7
    assert stopper.best == 0.95 and stopper.best_epoch == 5
    assert "val/acc did not improve" in stopper.reason and "at epoch 5" in stopper.reason


def test_improvements_smaller_than_min_delta_do_not_count():
    stopper = EarlyStopping("val/loss", "min", patience=2, min_delta=0.05)
    # 1.0 best; 0.97 and 0.96 improve by < 0.05 -> stop at 3 with best still epoch 1
    assert feed(stopper, "val/loss", [1.0, 0.97, 0.96, 0.5]) == 3
    assert stopper.best_epoch == 1
    assert "did not improve by 0.05 for 2 epochs (best 1 at epoch 1)" in stopper.reason


def test_never_stops_while_improving():
    stopper = EarlyStopping(patience=1)
    assert feed(stopper, "val/loss", [5.0, 4.0, 3.0, 2.0, 1.0]) is None
    assert stopper.best_epoch == 5 and stopper.reason == ""


def test_missing_monitor_lists_the_available_metrics():
    stopper = EarlyStopping("val/acc", "max", patience=3)
    with pytest.raises(ConfigError) as info:
        stopper.update({"val/loss": 1.0, "train/loss": 2.0}, 1)
    message = str(info.value)
    assert "'val/acc'" in message and "train/loss, val/loss" in message
    assert "\n" not in message


def test_state_dict_resumes():
    a = EarlyStopping(patience=3)
    feed(a, "val/loss", [1.0, 0.5, 0.6])
    b = EarlyStopping(patience=3)
    b.load_state_dict(a.state_dict())
    assert (b.best, b.best_epoch, b.wait) == (0.5, 2, 1)
    assert b.update({"val/loss": 0.7}, 4) is False
    assert b.update({"val/loss": 0.7}, 5) is True


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"mode": "median"}, "mode='median' is not allowed: choose one of: max, min"),
        ({"patience": 0}, "patience=0 is not allowed: must be >= 1"),
        ({"min_delta": -0.1}, "min_delta=-0.1 is not allowed: must be >= 0"),
    ],
)
def test_bad_settings_are_one_line_config_errors(kwargs, fragment):
    with pytest.raises(ConfigError) as info:
        EarlyStopping(**kwargs)
    assert fragment in str(info.value) and "\n" not in str(info.value)
