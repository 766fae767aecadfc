"""A toy task: the logical AND of two inputs (plus a bias input), scored like XOR."""

from __future__ import annotations

import numpy as np

from research.tasks.base import TaskResult, check_population, forward

PATTERNS = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
TARGETS = np.array([0.0, 0.0, 0.0, 1.0])


class AndGate:
    name = "and_gate"
    n_inputs = 3
    n_outputs = 1

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def evaluate(self, net, thetas: np.ndarray) -> TaskResult:
        thetas = check_population(self, net, thetas)
        out = np.clip(forward(net, thetas, PATTERNS)[:, :, 0].astype(np.float64), 0.0, 1.0)
        err = np.abs(out - TARGETS).sum(axis=1)
        solved = ((out >= self.threshold) == (TARGETS == 1)).all(axis=1)
        return TaskResult((4.0 - err) ** 2, len(thetas), solved)


def and_gate(*, threshold: float = 0.5) -> AndGate:
    """AND with inputs (a, b, 1); solved when every output is on the right side of
    ``threshold``."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold={threshold!r} must be in (0, 1)")
    return AndGate(float(threshold))
