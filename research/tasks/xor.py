"""XOR as in NEAT's experiment: four patterns, fitness (4 - sum |out - target|)^2.

Inputs are (a, b, bias) with a constant ``bias_input`` (1.0, NEAT's value; None drops it,
for networks with their own biases). The first output is read as a probability: clipped to
[0, 1], which NEAT's sigmoid output already is, so the fitness lies in [0, 16]. Solved when
every output is on the right side of 0.5 (>= 0.5 for target 1, < 0.5 for target 0).
"""

from __future__ import annotations

import numpy as np

from research.tasks.base import TaskResult, check_bias_input, check_population, forward

PATTERNS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TARGETS = np.array([0.0, 1.0, 1.0, 0.0])


class Xor:
    name = "xor"
    n_outputs = 1

    def __init__(self, bias_input: float | None) -> None:
        self.bias_input = bias_input
        x = PATTERNS
        if bias_input is not None:
            x = np.column_stack([x, np.full(len(x), bias_input)])
        self.x = x
        self.n_inputs = x.shape[1]

    def evaluate(self, net, thetas: np.ndarray) -> TaskResult:
        thetas = check_population(self, net, thetas)
        out = np.clip(forward(net, thetas, self.x)[:, :, 0].astype(np.float64), 0.0, 1.0)
        err = np.abs(out[:, 0] - TARGETS[0])
        for k in range(1, len(TARGETS)):  # fixed order: independent of P
            err += np.abs(out[:, k] - TARGETS[k])
        correct = (out >= 0.5) == (TARGETS == 1)
        return TaskResult(
            (4.0 - err) ** 2, len(thetas), correct.all(axis=1), {"error": err, "outputs": out}
        )


def xor(*, bias_input: float | None = 1.0) -> Xor:
    """XOR with inputs (a, b, ``bias_input``); None: inputs (a, b) only."""
    return Xor(check_bias_input(bias_input))
