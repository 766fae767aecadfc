"""Pole-balancing tasks (Gomez et al. 2008 set-up): single pole, double pole with velocities
(Markov) and double pole without velocities (non-Markov, Gruau's damping fitness).

The network's first output sets the force: ``force="tanh"`` gives F = 10 tanh(out) N (use a
linear output layer; a zero output is zero force, as in the reference cross-check), and
``force="sigmoid"`` gives F = (out - 0.5) 20 N for an output in [0, 1] (NEAT's sigmoid
output; clipped to [0, 1]). The two agree when out_sigmoid = sigmoid(2 out_linear).
MLPs see only the current observation; Elman nets carry their hidden state from action to
action, starting from zero in every episode.

Episodes run in the compiled kernel (:mod:`research.tasks.compiled`) whenever it can run
the network, else in the numpy reference below (:class:`NetController` driving
:func:`research.tasks.pole.simulate`): the numbers are the same to the last bit.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from research.nn.elman import ElmanNet
from research.nn.population import elman_step_population, mlp_forward_population
from research.tasks import pole
from research.tasks.base import (
    TaskResult,
    check_bias_input,
    check_choice,
    check_int,
    check_population,
    check_positive,
    not_allowed,
)
from research.tasks.compiled import pole_episodes
from research.tasks.pole import PoleParams

FORCE_MAG = 10.0
FORCES = ("tanh", "sigmoid")
TESTS = ("champion", "all")
SUCCESS_STEPS = 100_000


class NetController:
    """Forces from a population of networks, one row of ``thetas`` per individual."""

    def __init__(self, net, thetas: np.ndarray, force: str) -> None:
        self.net = net
        self.thetas = np.ascontiguousarray(thetas, dtype=net.dtype)
        self.force = force
        self.h = net.initial_state(len(thetas), 1) if isinstance(net, ElmanNet) else None

    def forces(self, obs: np.ndarray) -> np.ndarray:
        x = obs[:, None, :]
        if self.h is None:
            out = mlp_forward_population(self.net, self.thetas, x)
        else:
            out, self.h = elman_step_population(self.net, self.thetas, x, self.h)
        raw = out[:, 0, 0].astype(np.float64)
        if self.force == "tanh":
            return FORCE_MAG * np.tanh(raw)
        return (np.clip(raw, 0.0, 1.0) - 0.5) * (2 * FORCE_MAG)

    def keep(self, mask: np.ndarray) -> None:
        self.thetas = self.thetas[mask]
        if self.h is not None:
            self.h = self.h[mask]


def markov_inputs(y: np.ndarray, bias: float | None = 0.5) -> np.ndarray:
    """(n, A) states -> (A, n [+ 1]): x/4.8, xdot/2, th1/0.52, th1dot/2[, th2/0.52, th2dot/2]
    [, bias] (the scaling of NEAT's and ESP's code)."""
    obs = np.empty((y.shape[1], y.shape[0] + (bias is not None)))
    obs[:, 0] = y[0] / 4.8
    obs[:, 1] = y[1] / 2.0
    obs[:, 2] = y[2] / 0.52
    obs[:, 3] = y[3] / 2.0
    if y.shape[0] == 6:
        obs[:, 4] = y[4] / 0.52
        obs[:, 5] = y[5] / 2.0
    if bias is not None:
        obs[:, -1] = bias
    return obs


def velocity_free_inputs(y: np.ndarray, bias: float | None = 0.5) -> np.ndarray:
    """(6, A) states -> (A, 3 [+ 1]): x/4.8, th1/0.52, th2/0.52[, bias]."""
    obs = np.empty((y.shape[1], 3 + (bias is not None)))
    obs[:, 0] = y[0] / 4.8
    obs[:, 1] = y[2] / 0.52
    obs[:, 2] = y[4] / 0.52
    if bias is not None:
        obs[:, 3] = bias
    return obs


def run_episodes(
    task,
    net,
    thetas: np.ndarray,
    start: np.ndarray,
    max_steps: int,
    *,
    track_jiggle=False,
    compiled: bool = True,
) -> pole.Episode:
    """Episodes of ``task``'s networks from ``start``: in the compiled kernel when it can
    run ``net`` (and ``compiled``), else in the numpy reference; the same numbers."""
    if compiled:
        out = pole_episodes(
            net,
            thetas,
            start,
            task.params,
            max_steps,
            velocities=task.velocities,
            bias_input=task.bias_input,
            force=task.force,
            track_jiggle=track_jiggle,
        )
        if out is not None:
            steps, final, jiggle = out
            return pole.Episode(steps, final, jiggle if track_jiggle else None)
    controller = NetController(net, thetas, task.force)
    return pole.simulate(
        controller, start, task.params, max_steps, task.inputs, track_jiggle=track_jiggle
    )


class PoleBalance:
    """Markov pole balancing: fitness = actions balanced from the standard start (at most
    ``max_steps``); solved when the poles stay up for all ``max_steps``."""

    n_outputs = 1
    velocities = True

    def __init__(
        self, name: str, params: PoleParams, max_steps: int, force: str, bias_input: float | None
    ) -> None:
        self.name, self.params, self.max_steps, self.force = name, params, max_steps, force
        self.bias_input = bias_input
        self.n_inputs = params.n_state + (bias_input is not None)
        self.inputs = partial(markov_inputs, bias=bias_input)

    def evaluate(self, net, thetas: np.ndarray) -> TaskResult:
        thetas = check_population(self, net, thetas)
        P = len(thetas)
        ep = run_episodes(self, net, thetas, pole.standard_start(P, self.params), self.max_steps)
        return TaskResult(
            ep.steps.astype(np.float64), P, ep.steps >= self.max_steps, {"steps": ep.steps}
        )


class PoleBalanceNoVelocity:
    """Double pole without velocity inputs (Gruau et al. 1996, as in NEAT and CoSyNE).

    Fitness: Gruau's damping fitness over an ``episode_steps`` (1000) episode. Networks are
    tested further, without counting evaluations: first ``max_steps`` (100,000) actions from
    the standard start, then, if they pass, the 625 generalisation starts
    (``pole.GENERALISATION_STARTS``) for ``generalisation_steps`` (1000) each; solved = at
    least ``generalisation_min`` (200) of them balanced. Which networks: with
    ``test="champion"`` (the literature's protocol) only each generation's fittest, through
    :meth:`test_champion`, which the evolution calls once the whole generation is scored
    (``evaluate`` then tests nobody); with ``test="all"`` every network that balances the
    episode, inside ``evaluate``. ``info``: "steps" (damping episode), "long_steps" (0 = not
    tested) and "generalisation" (starts balanced; 0 = not tested).
    """

    name = "pole_double_nv"
    n_outputs = 1
    velocities = False

    def __init__(
        self,
        params: PoleParams,
        max_steps: int,
        force: str,
        episode_steps: int,
        generalisation_steps: int,
        generalisation_min: int,
        bias_input: float | None,
        test: str,
    ) -> None:
        self.params, self.max_steps, self.force = params, max_steps, force
        self.bias_input = bias_input
        self.n_inputs = 3 + (bias_input is not None)
        self.tests_champion = test == "champion"
        self.inputs = partial(velocity_free_inputs, bias=bias_input)
        self.episode_steps = episode_steps
        self.generalisation_steps = generalisation_steps
        self.generalisation_min = generalisation_min

    def _run(self, net, thetas, start, max_steps, **kw) -> pole.Episode:
        return run_episodes(self, net, thetas, start, max_steps, **kw)

    def evaluate(self, net, thetas: np.ndarray) -> TaskResult:
        thetas = check_population(self, net, thetas)
        P = len(thetas)
        start = pole.standard_start(P, self.params)
        ep = self._run(net, thetas, start, self.episode_steps, track_jiggle=True)
        fitness = pole.damping_fitness(ep.steps, ep.jiggle_sum, self.episode_steps)
        info = {"steps": ep.steps}
        if self.tests_champion:
            info["long_steps"] = np.zeros(P, np.int64)
            info["generalisation"] = np.zeros(P, np.int64)
            return TaskResult(fitness, P, np.zeros(P, bool), info)
        balanced = ep.steps >= self.episode_steps
        long_steps, general, solved = self._tests(net, thetas, balanced)
        info.update(long_steps=long_steps, generalisation=general)
        return TaskResult(fitness, P, solved, info)

    def test_champion(self, net, theta: np.ndarray) -> tuple[int, int, bool]:
        """(steps balanced of ``max_steps``, generalisation starts balanced, solved) for one
        network; a network that falls within the episode is not tested further (0, 0)."""
        theta = check_population(self, net, np.asarray(theta)[None, :])
        episode = self._run(net, theta, pole.standard_start(1, self.params), self.episode_steps)
        long_steps, general, solved = self._tests(net, theta, episode.steps >= self.episode_steps)
        return int(long_steps[0]), int(general[0]), bool(solved[0])

    def _tests(self, net, thetas, balanced: np.ndarray):
        P = len(thetas)
        long_steps = np.zeros(P, np.int64)
        general = np.zeros(P, np.int64)
        solved = np.zeros(P, bool)
        candidates = np.flatnonzero(balanced)
        if candidates.size:
            start = pole.standard_start(len(candidates), self.params)
            long = self._run(net, thetas[candidates], start, self.max_steps)
            long_steps[candidates] = long.steps
            passed = candidates[long.steps >= self.max_steps]
            if passed.size:
                grid = pole.generalisation_starts()
                G = len(grid)
                runs = self._run(
                    net,
                    np.repeat(thetas[passed], G, axis=0),
                    np.tile(grid, (len(passed), 1)),
                    self.generalisation_steps,
                )
                balanced = runs.steps >= self.generalisation_steps
                general[passed] = balanced.reshape(len(passed), G).sum(axis=1)
                solved[passed] = general[passed] >= self.generalisation_min
        return long_steps, general, solved


# ---------------------------------------------------------------- factories (TASKS)
def _double(short_length, short_mass) -> PoleParams:
    return PoleParams(
        short_length=check_positive("short_length", short_length),
        short_mass=check_positive("short_mass", short_mass),
    )


def _checked(max_steps: int, force: str, bias_input: float | None):
    """The settings every pole task takes: ``max_steps``, ``force`` and ``bias_input``."""
    return (
        check_int("max_steps", max_steps, 1),
        check_choice("force", force, FORCES),
        check_bias_input(bias_input),
    )


def _at_most(name: str, value: int, high: int = pole.GENERALISATION_STARTS) -> int:
    if value > high:
        raise not_allowed(name, value, f"must be at most {high} (the generalisation starts)")
    return value


def pole_single(
    *, max_steps: int = SUCCESS_STEPS, force: str = "tanh", bias_input: float | None = 0.5
) -> PoleBalance:
    """One pole with velocities: inputs x/4.8, xdot/2, th/0.52, thdot/2[, bias_input]."""
    return PoleBalance("pole_single", pole.single_pole(), *_checked(max_steps, force, bias_input))


def pole_double(
    *,
    max_steps: int = SUCCESS_STEPS,
    force: str = "tanh",
    short_length: float = 0.05,
    short_mass: float = 0.01,
    bias_input: float | None = 0.5,
) -> PoleBalance:
    """Two poles with velocities (6 inputs [+ bias_input]); ``short_length`` (half-length)
    and ``short_mass`` are the staging hook."""
    params = _double(short_length, short_mass)
    return PoleBalance("pole_double", params, *_checked(max_steps, force, bias_input))


def pole_double_nv(
    *,
    max_steps: int = SUCCESS_STEPS,
    force: str = "tanh",
    short_length: float = 0.05,
    short_mass: float = 0.01,
    episode_steps: int = 1000,
    generalisation_steps: int = 1000,
    generalisation_min: int = 200,
    bias_input: float | None = 0.5,
    test: str = "champion",
) -> PoleBalanceNoVelocity:
    """Two poles, no velocities (3 inputs [+ bias_input]), damping fitness; ``test``: which
    networks take the 100,000-step and generalisation tests (champion | all)."""
    episode_steps = check_int("episode_steps", episode_steps, pole.DAMPING_WINDOW + 1)
    params = _double(short_length, short_mass)
    max_steps, force, bias_input = _checked(max_steps, force, bias_input)
    return PoleBalanceNoVelocity(
        params,
        max_steps,
        force,
        episode_steps,
        check_int("generalisation_steps", generalisation_steps, 1),
        _at_most("generalisation_min", check_int("generalisation_min", generalisation_min, 0)),
        bias_input,
        check_choice("test", test, TESTS),
    )
