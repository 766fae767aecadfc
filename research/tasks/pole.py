"""Cart-pole physics, vectorised over a population: Wieland's equations as in Stanley's NEAT
code and Gomez's ESP/CoSyNE code (cart 1 kg, long pole 0.1 kg, short pole 0.01 kg,
half-lengths 0.5 m and 0.05 m, hinge friction mu_p = 2e-6, g = 9.8).

For each pole i, with m~_i = m_i (1 - 3/4 cos^2 th_i) and
F~_i = m_i l_i thd_i^2 sin th_i + 3/4 m_i cos th_i (mu_p thd_i / (m_i l_i) + G sin th_i),
G = -9.8 (the code's sign convention):

    xdd    = (F + sum_i F~_i) / (M + sum_i m~_i)
    thdd_i = -3/4 (xdd cos th_i + G sin th_i + mu_p thd_i / (m_i l_i)) / l_i

One action applies the force for two fourth-order Runge-Kutta steps of tau = 0.01 s, written
in the same order of operations as the C code. The state is (x, xdot, th1, th1dot, th2,
th2dot) — (x, xdot, th, thdot) for a single pole — and public functions take (P, n) arrays.
Internally a population is held transposed, (n, P), so every variable is a contiguous row.

Everything is elementwise arithmetic over the population (no sums across individuals), so an
individual's trajectory is bit-identical whatever else is simulated beside it; individuals that
fail are dropped from the arrays, so a batch costs one numpy call per operation per action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

#: failure angles as the C code spells them (36 and 12 degrees, rounded to 7 digits)
THIRTY_SIX_DEGREES = 0.628329
TWELVE_DEGREES = 0.2094384
#: the standard start: th1 = 0.07 rad, everything else 0
START_THETA = 0.07
#: the generalisation test (Gruau et al. 1996): every combination of these fractions of the
#: ranges x +-2.16 m, xdot +-1.35 m/s, th1 +-3.6 deg, th1dot +-8.6 deg/s (short pole at rest)
GRID_FRACTIONS = (0.05, 0.25, 0.5, 0.75, 0.95)
GRID_HALF_RANGES = (2.16, 1.35, float(np.deg2rad(3.6)), float(np.deg2rad(8.6)))
#: the generalisation test's starts: every combination of the grid over the four variables
GENERALISATION_STARTS = len(GRID_FRACTIONS) ** len(GRID_HALF_RANGES)  # 625
#: Gruau's damping term sums the jiggle over this many last steps
DAMPING_WINDOW = 100


@dataclass(frozen=True)
class PoleParams:
    """Physical constants; ``short_length``/``short_mass`` are the staging hook."""

    n_poles: int = 2
    cart_mass: float = 1.0
    long_mass: float = 0.1
    long_length: float = 0.5  # half-length, m
    short_mass: float = 0.01
    short_length: float = 0.05  # half-length, m
    mup: float = 2e-6  # hinge friction
    gravity: float = -9.8  # the C code's sign convention
    tau: float = 0.01  # s per RK4 step
    substeps: int = 2  # RK4 steps per action
    x_limit: float = 2.4
    angle_limit: float = THIRTY_SIX_DEGREES

    @property
    def n_state(self) -> int:
        return 2 + 2 * self.n_poles


def single_pole() -> PoleParams:
    """The long pole alone, failing at 12 degrees."""
    return PoleParams(n_poles=1, angle_limit=TWELVE_DEGREES)


# ---------------------------------------------------------------- physics on (n, P) arrays
def _pole(th: np.ndarray, thd: np.ndarray, length: float, mass: float, p: PoleParams):
    """One pole's terms (the docstring's, in the C code's order): cos th, G sin th,
    mu_p thd / (m l), F~ and m~."""
    cos, sin = np.cos(th), np.sin(th)
    gsin = p.gravity * sin
    ml = length * mass
    temp = p.mup * thd / ml
    fi = ml * thd * thd * sin + 0.75 * mass * cos * (temp + gsin)
    mi = mass * (1 - 0.75 * cos * cos)
    return cos, gsin, temp, fi, mi


def _derivs(y: np.ndarray, force: np.ndarray, p: PoleParams) -> np.ndarray:
    """dy/dt for states y (n, P) — the C code's ``step`` plus the velocity rows."""
    d = np.empty_like(y)
    cos1, gsin1, temp1, fi1, mi1 = _pole(y[2], y[3], p.long_length, p.long_mass, p)
    if p.n_poles == 2:
        cos2, gsin2, temp2, fi2, mi2 = _pole(y[4], y[5], p.short_length, p.short_mass, p)
        xdd = (force + fi1 + fi2) / (mi1 + mi2 + p.cart_mass)
        d[4] = y[5]
        d[5] = -0.75 * (xdd * cos2 + gsin2 + temp2) / p.short_length
    else:
        xdd = (force + fi1) / (mi1 + p.cart_mass)
    d[0] = y[1]
    d[1] = xdd
    d[2] = y[3]
    d[3] = -0.75 * (xdd * cos1 + gsin1 + temp1) / p.long_length
    return d


def _rk4(y: np.ndarray, force: np.ndarray, p: PoleParams) -> np.ndarray:
    """One RK4 step of tau, in the C code's order: y + tau/6 (k1 + k4 + 2 (k2 + k3))."""
    hh, h6 = p.tau * 0.5, p.tau / 6.0
    dydx = _derivs(y, force, p)
    dyt = _derivs(y + hh * dydx, force, p)
    dym = _derivs(y + hh * dyt, force, p)
    yt = y + p.tau * dym
    dym += dyt
    dyt = _derivs(yt, force, p)
    return y + h6 * (dydx + dyt + 2.0 * dym)


def _act(y: np.ndarray, force: np.ndarray, p: PoleParams) -> np.ndarray:
    for _ in range(p.substeps):
        y = _rk4(y, force, p)
    return y


def _failed(y: np.ndarray, p: PoleParams) -> np.ndarray:
    """Out of bounds — written as "not within", so a NaN state (a network that output NaN
    or inf) fails instead of balancing forever."""
    out = ~(np.abs(y[0]) <= p.x_limit)
    out |= ~(np.abs(y[2]) <= p.angle_limit)
    if p.n_poles == 2:
        out |= ~(np.abs(y[4]) <= p.angle_limit)
    return out


# ---------------------------------------------------------------- public (P, n) versions
def _rows(state: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(state, np.float64).T)


def _force(force, P: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(force, np.float64), (P,))


def derivatives(state: np.ndarray, force, params: PoleParams) -> np.ndarray:
    """d state / dt, (P, n), for states (P, n) under forces (P,) or a scalar (N)."""
    state = np.atleast_2d(state)
    return _derivs(_rows(state), _force(force, len(state)), params).T


def rk4_step(state: np.ndarray, force, params: PoleParams) -> np.ndarray:
    """One RK4 step of ``params.tau`` seconds."""
    state = np.atleast_2d(state)
    return _rk4(_rows(state), _force(force, len(state)), params).T


def act(state: np.ndarray, force, params: PoleParams) -> np.ndarray:
    """One action: ``params.substeps`` RK4 steps with the force held constant."""
    state = np.atleast_2d(state)
    return _act(_rows(state), _force(force, len(state)), params).T


def failed(state: np.ndarray, params: PoleParams) -> np.ndarray:
    """(P,) True where the cart left the track or a pole passed the failure angle."""
    return _failed(_rows(np.atleast_2d(state)), params)


def standard_start(P: int, params: PoleParams) -> np.ndarray:
    """(P, n): the long pole at 0.07 rad, everything else at rest."""
    s = np.zeros((P, params.n_state))
    s[:, 2] = START_THETA
    return s


def generalisation_starts() -> np.ndarray:
    """(GENERALISATION_STARTS = 625, 6) double-pole starts: the 5^4 grid, x slowest (as
    NEAT's nested loops); each value is f * 2h - h for fraction f of the range +-h."""
    f = np.asarray(GRID_FRACTIONS)
    axes = [f * (2 * h) - h for h in GRID_HALF_RANGES]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 4)
    starts = np.zeros((len(grid), 6))
    starts[:, :4] = grid
    return starts


def jiggle(state: np.ndarray) -> np.ndarray:
    """|x| + |xdot| + |th1| + |th1dot| per state (..., n): Gruau's damping measure."""
    state = np.asarray(state, np.float64)
    return (
        np.abs(state[..., 0])
        + np.abs(state[..., 1])
        + np.abs(state[..., 2])
        + np.abs(state[..., 3])
    )


def damping_fitness(steps, jiggle_sum, episode_steps: int = 1000) -> np.ndarray:
    """Gruau's fitness f = 0.1 t / 1000 + 0.9 * 0.75 / J, J the sum of the jiggle over the
    last 100 steps balanced; the second term is 0 when t <= 100."""
    t = np.asarray(steps, np.float64)
    J = np.asarray(jiggle_sum, np.float64)
    first = 0.1 * (t / episode_steps)
    with np.errstate(divide="ignore"):
        second = np.where(t > DAMPING_WINDOW, 0.9 * (0.75 / J), 0.0)
    return first + second


# ---------------------------------------------------------------- episodes
class Controller(Protocol):
    """Chooses forces for the individuals still balancing."""

    def forces(self, obs: np.ndarray) -> np.ndarray:
        """(A, n_obs) observations of the A active individuals -> (A,) forces in N."""
        ...

    def keep(self, mask: np.ndarray) -> None:
        """Drop the individuals where ``mask`` (A,) is False (they failed)."""
        ...


@dataclass(frozen=True)
class Episode:
    steps: np.ndarray  # (P,) actions survived (= max_steps when never failed)
    final: np.ndarray  # (P, n) the state that failed, or the last state
    jiggle_sum: np.ndarray | None = None  # (P,) sum of the jiggle over the last 100 steps


def simulate(
    controller: Controller,
    start: np.ndarray,
    params: PoleParams,
    max_steps: int,
    observe: Callable[[np.ndarray], np.ndarray],
    *,
    track_jiggle: bool = False,
) -> Episode:
    """Run P episodes from ``start`` (P, n) until each fails or survives ``max_steps``.

    Each action: observations ``observe(y)`` of the active states y (n, A) go to the
    controller, its forces are applied for one action, and the individuals that failed are
    dropped. ``steps`` counts the actions after which the system was still within bounds
    (the failing action is not counted). With ``track_jiggle`` a ring buffer keeps the last
    100 jiggle values of each individual for Gruau's damping fitness.
    """
    y = _rows(start)
    P = y.shape[1]
    steps = np.full(P, max_steps, np.int64)
    final = np.array(np.asarray(start, np.float64), copy=True)
    alive = np.arange(P)
    ring = np.zeros((P, DAMPING_WINDOW)) if track_jiggle else None
    for t in range(1, max_steps + 1):
        y = _act(y, controller.forces(observe(y)), params)
        ok = ~_failed(y, params)
        if not ok.all():
            gone = ~ok
            steps[alive[gone]] = t - 1
            final[alive[gone]] = y[:, gone].T
            alive, y = alive[ok], y[:, ok]
            controller.keep(ok)
            if alive.size == 0:
                break
        if ring is not None:
            ring[alive, (t - 1) % DAMPING_WINDOW] = (
                np.abs(y[0]) + np.abs(y[1]) + np.abs(y[2]) + np.abs(y[3])
            )
    final[alive] = y.T
    jiggle_sum = None
    if ring is not None:  # fixed column order: per-individual sums independent of P
        jiggle_sum = ring[:, 0].copy()
        for j in range(1, DAMPING_WINDOW):
            jiggle_sum += ring[:, j]
    return Episode(steps, final, jiggle_sum)
