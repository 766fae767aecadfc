"""What every fitness task shares: the result type, the protocols (what every task does, and
the abilities some have), network checks and the population forward pass of the data tasks.

Abilities are checked with ``isinstance`` against the runtime-checkable protocols below, never
by probing attributes: :class:`StatefulTask` (keeps state between generations, e.g.
competitive coevolution's opponents: checkpointed with the evolution, one process only) and
:class:`ChampionTested` (gives each generation's fittest network long tests of its own, e.g.
the pole tasks' generalisation test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from research.errors import ConfigError
from research.nn.elman import ElmanNet
from research.nn.mlp import MLP
from research.nn.population import elman_step_population, mlp_forward_population


@dataclass(frozen=True)
class TaskResult:
    """Scores of one population: higher fitness is better."""

    fitness: np.ndarray  # (P,) float64
    evals: int  # evaluations as the literature counts them: one per individual
    solved: np.ndarray  # (P,) bool: meets the task's goal (incl. any generalisation test)
    info: dict[str, np.ndarray] = field(default_factory=dict)  # e.g. "steps", "generalisation"


@runtime_checkable
class Task(Protocol):
    """Scores a whole population of weight sets of one template network in one call."""

    name: str
    n_inputs: int  # network inputs the task feeds (incl. any bias input)
    n_outputs: int

    def evaluate(self, net, thetas: np.ndarray) -> TaskResult:
        """``net``: template MLP or ElmanNet whose layout defines the genome; ``thetas``:
        (P, net.n_params)."""
        ...


@runtime_checkable
class StatefulTask(Protocol):
    """A task whose state changes between generations; it resumes from ``state_dict``."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class ChampionTested(Protocol):
    """A task that can test a generation's fittest network further (when
    ``tests_champion``): ``test_champion(net, theta) -> (long_steps, generalisation, solved)``.
    """

    tests_champion: bool

    def test_champion(self, net, theta: np.ndarray) -> tuple[int, int, bool]: ...


def net_inputs(net) -> int:
    if isinstance(net, MLP):
        return net.sizes[0]
    if isinstance(net, ElmanNet):
        return net.n_inputs
    raise ConfigError(f"a task evaluates an mlp or elman network, not {type(net).__name__}")


def net_outputs(net) -> int:
    return net.sizes[-1] if isinstance(net, MLP) else net.n_outputs


def check_population(task: Task, net, thetas: np.ndarray, n_inputs: int | None = None):
    """The (P, n_params) weights, after checking the network fits the task."""
    n_in = task.n_inputs if n_inputs is None else n_inputs
    if net_inputs(net) != n_in:
        raise ConfigError(
            f"the network has {net_inputs(net)} inputs; task {task.name!r} feeds {n_in}"
        )
    if net_outputs(net) != task.n_outputs:
        raise ConfigError(
            f"the network has {net_outputs(net)} outputs; task {task.name!r} needs {task.n_outputs}"
        )
    thetas = np.asarray(thetas)
    if thetas.ndim != 2 or thetas.shape[1] != net.n_params:
        raise ConfigError(
            f"weights of shape {thetas.shape} do not fit the network: need (P, {net.n_params})"
        )
    return thetas


def forward(net, thetas: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Outputs (P, B, n_out) of the population on inputs ``x``: (B, n_in) for an MLP or
    for one step of an Elman net from a zero state; (B, T, n_in) runs T Elman steps (or an
    MLP on the flattened sequence) and reads the last step."""
    if isinstance(net, ElmanNet):
        if x.ndim == 2 and net.n_inputs != x.shape[1]:
            x = x[:, :, None]  # (B, T) series of one input per step
        seq = x if x.ndim == 3 else x[:, None, :]
        h = net.initial_state(len(thetas), len(x))
        for t in range(seq.shape[1]):
            y, h = elman_step_population(net, thetas, seq[:, t], h)
        return y
    return mlp_forward_population(net, thetas, x.reshape(len(x), -1))


def chunked(net, thetas: np.ndarray, x: np.ndarray, chunk: int, score) -> list[np.ndarray]:
    """Per-individual scores for consecutive chunks of ``chunk`` individuals, so the
    (P, B, width) activations never exist all at once: ``score(outputs (c, B, n_out))``
    returns a tuple of (c,) arrays, concatenated here over the chunks."""
    parts = [score(forward(net, thetas[i : i + chunk], x)) for i in range(0, len(thetas), chunk)]
    return [np.concatenate(cols) for cols in zip(*parts)]


# ---------------------------------------------------------------- parameter checks
def not_allowed(name: str, value, allowed: str) -> ConfigError:
    return ConfigError(f"task.{name}={value!r} is not allowed: {allowed}")


def check_bias_input(value) -> float | None:
    """A constant bias input's value, or None for no bias input."""
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value)
    ):
        raise not_allowed("bias_input", value, "give a finite number, or null for no bias input")
    return None if value is None else float(value)


def check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise not_allowed(name, value, f"must be an integer >= {low}")
    return int(value)


def check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < np.inf:
        raise not_allowed(name, value, "must be a finite number > 0")
    return float(value)


def check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise not_allowed(name, value, "choose one of: " + ", ".join(choices))
    return value
