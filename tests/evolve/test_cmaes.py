"""CMA-ES: seeded sampling and IPOP restarts."""

from __future__ import annotations

import numpy as np

from research.evolve import make_engine


def rastrigin(x: np.ndarray) -> np.ndarray:
    """Negated Rastrigin, 10 n + sum(x^2 - 10 cos(2 pi x)): many local optima to stall in."""
    return -(10 * x.shape[1] + np.sum(x**2 - 10 * np.cos(2 * np.pi * x), axis=1))


def test_ipop_restart_doubles_the_population_and_shows_in_stats():
    e = make_engine("cmaes", 4, np.random.default_rng(0), sigma0=2.0, stagnation=10, restarts=3)
    sizes, restarts = [], []
    for _ in range(400):
        x = e.ask()
        sizes.append(len(x))
        e.tell(rastrigin(x))
        restarts.append(e.stats()["restart"])
        if restarts[-1] >= 2:
            break
    assert restarts[-1] == 2
    lambda0 = int(4 + 3 * np.log(4))
    assert sizes[0] == lambda0
    assert len(e.ask()) == 4 * lambda0 == e.stats()["lambda"]
    assert sorted(set(sizes)) == [lambda0, 2 * lambda0]
    assert e.stats()["sigma"] == 2.0  # a fresh run starts from sigma0


def test_sigma_collapse_triggers_a_restart():
    """A flat objective never improves; a tiny tol_x catches the shrinking step first or the
    stagnation window does — either way the run restarts with twice the population."""
    e = make_engine("cmaes", 3, np.random.default_rng(1), lambda_=6, stagnation=1000, tol_x=0.5)
    for _ in range(200):
        x = e.ask()
        e.tell(-np.sum(x**2, axis=1))
        if e.restart:
            break
    assert e.restart == 1 and e.last_reason == "tol_x"
    assert len(e.ask()) == 12


def test_restarts_stop_at_the_maximum():
    e = make_engine("cmaes", 2, np.random.default_rng(2), stagnation=3, restarts=1)
    for _ in range(60):
        e.tell(np.zeros(len(e.ask())))
    assert e.stats()["restart"] == 1.0


def test_champion_survives_restarts():
    e = make_engine("cmaes", 4, np.random.default_rng(0), sigma0=2.0, stagnation=10)
    best = -np.inf
    for _ in range(150):
        x = e.ask()
        y = rastrigin(x)
        best = max(best, y.max())
        e.tell(y)
    assert e.restart >= 1
    assert e.best()[1][0] == best
    assert rastrigin(e.best()[0][None])[0] == best


def _first_restart(objective, n: int = 3, **settings) -> tuple[int, str]:
    e = make_engine("cmaes", n, np.random.default_rng(0), sigma0=1.0, restarts=1, **settings)
    for generation in range(1, 3001):
        e.tell(objective(e.ask()))
        if e.restart:
            return generation, e.last_reason
    raise AssertionError("no restart in 3000 generations")


def test_each_of_hansens_restart_rules_fires_on_the_landscape_it_is_for():
    """A flat objective: TolHistFun after its window of 10 + ceil(30 n / lambda); a linear one
    the step grows on without end: TolUpSigma; pure noise: stagnation, after the shortest
    history of 120 + ceil(30 n / lambda) generations (lambda = 7 for n = 3)."""
    window = 10 + int(np.ceil(30 * 3 / 7))
    assert _first_restart(lambda x: np.zeros(len(x))) == (window, "tol_fun")
    assert _first_restart(lambda x: x[:, 0].copy())[1] == "tol_up_sigma"
    noise = np.random.default_rng(1)
    generation, reason = _first_restart(lambda x: noise.standard_normal(len(x)))
    assert reason == "stagnation" and generation >= 120 + int(np.ceil(30 * 3 / 7))


def test_a_run_that_still_improves_is_not_restarted_for_stagnation():
    """The sphere keeps improving by orders of magnitude, past the stagnation rule's shortest
    history: the run ends only once it has converged (fitness flat within 1e-12, or the step
    below 1e-12 sigma0)."""
    generation, reason = _first_restart(lambda x: -np.sum(x**2, axis=1), n=10)
    assert reason in ("tol_fun", "tol_x") and generation > 120 + 30  # lambda = 10
