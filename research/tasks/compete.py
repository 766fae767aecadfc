"""Competitive coevolution: classifiers (hosts) against a population of hard example sets
(parasites), after Hillis (1990) and Rosin & Belew (1997).

Each parasite is a set of ``set_size`` training examples. Every generation each host is
scored on ``n_opponents`` parasites drawn from the current population plus ``n_hof`` drawn
from a hall of fame of past parasite champions (so hosts cannot forget old hard cases): host
fitness = mean accuracy on them. Parasites are scored by the mean error the current hosts (and
the hosts' hall of fame) make on their examples; they then reproduce by tournament selection
and mutation (each example replaced with probability ``mutation`` by a random one, drawn more
often from examples the hosts get wrong). The task keeps this state between calls and exposes
``state_dict``/``load_state_dict`` so an evolution's checkpoint resumes it bit-identically.
Solved: the generation's best host reaches ``target`` accuracy on the whole training split
(computed alongside; the literature does not count it as an evaluation).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from research.nn.population import mlp_forward_population
from research.tasks.base import TaskResult, check_int, check_population, not_allowed
from research.tasks.classify import load


class Competitive:
    name = "compete"

    def __init__(
        self,
        data,
        parasites: int,
        set_size: int,
        n_opponents: int,
        n_hof: int,
        mutation: float,
        target: float,
        seed: int,
    ) -> None:
        self.data = data
        self.x, self.y = data.x_train, data.y_train
        self.n_inputs, self.n_outputs = data.n_inputs, data.n_outputs
        self.n_parasites, self.set_size = parasites, set_size
        self.n_opponents, self.n_hof = n_opponents, n_hof
        self.mutation, self.target = mutation, target
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 0xC0E]))
        n = len(self.x)
        self.parasites = self.rng.integers(0, n, (parasites, set_size))
        self.parasite_hof: list[np.ndarray] = []  # past parasite champions (example sets)
        self.host_hof: list[np.ndarray] = []  # correctness rows (n,) of past host champions

    # -- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "rng": self.rng.bit_generator.state,
            "parasites": self.parasites.copy(),
            "parasite_hof": [p.copy() for p in self.parasite_hof],
            "host_hof": [h.copy() for h in self.host_hof],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.parasites = state["parasites"].copy()
        self.parasite_hof = [p.copy() for p in state["parasite_hof"]]
        self.host_hof = [h.copy() for h in state["host_hof"]]

    # -- one generation ------------------------------------------------------------------
    def evaluate(self, net, thetas: np.ndarray) -> TaskResult:
        thetas = check_population(self, net, thetas)
        P = len(thetas)
        out = mlp_forward_population(net, thetas, self.x)
        correct = np.argmax(out, axis=2) == self.y  # (P, n): host p right on example i
        accuracy = correct.mean(axis=1)
        opponents = self.rng.choice(
            self.n_parasites, size=min(self.n_opponents, self.n_parasites), replace=False
        )
        sets = [self.parasites[j] for j in opponents]
        if self.parasite_hof and self.n_hof:
            picks = self.rng.choice(
                len(self.parasite_hof),
                size=min(self.n_hof, len(self.parasite_hof)),
                replace=False,
            )
            sets += [self.parasite_hof[k] for k in picks]
        fitness = np.mean([correct[:, s].mean(axis=1) for s in sets], axis=0)
        champion = int(np.argmax(fitness))
        self.host_hof.append(correct[champion].copy())
        self._evolve_parasites(correct)
        info = {"accuracy": accuracy, "parasite_fitness": np.full(P, self._last_best)}
        return TaskResult(fitness.astype(np.float64), P, accuracy >= self.target, info)

    def _evolve_parasites(self, correct: np.ndarray) -> None:
        """Score parasites by the hosts' error on their examples (current hosts and the hosts'
        hall of fame), keep the champion in the hall of fame, breed the next population."""
        judges = np.vstack([correct, *self.host_hof[-self.n_hof :]]) if self.n_hof else correct
        wrong = 1.0 - judges.mean(axis=0)  # per example: how often hosts get it wrong
        score = wrong[self.parasites].mean(axis=1)
        best = int(np.argmax(score))
        self._last_best = float(score[best])
        self.parasite_hof.append(self.parasites[best].copy())
        n = len(self.x)
        a = self.rng.integers(0, self.n_parasites, self.n_parasites)
        b = self.rng.integers(0, self.n_parasites, self.n_parasites)
        parents = np.where(score[a] >= score[b], a, b)  # binary tournaments
        children = self.parasites[parents].copy()
        children[0] = self.parasites[best]  # elitism
        hard = wrong + 1.0 / n
        hard = hard / hard.sum()
        mask = self.rng.random(children.shape) < self.mutation
        mask[0] = False
        children[mask] = self.rng.choice(n, size=int(mask.sum()), p=hard)
        self.parasites = children


def compete(
    *,
    data: str = "spirals",
    data_params: dict | None = None,
    parasites: int = 30,
    set_size: int = 20,
    n_opponents: int = 5,
    n_hof: int = 5,
    mutation: float = 0.2,
    target: float = 0.95,
    seed: int = 0,
    dtype: str = "float64",
) -> Competitive:
    """Hosts (classifiers of ``data``) against ``parasites`` example sets of ``set_size``."""
    if not 0 <= mutation <= 1:
        raise not_allowed("mutation", mutation, "a probability in [0, 1]")
    if not 0 < target <= 1:
        raise not_allowed("target", target, "an accuracy in (0, 1]")
    ds = load("compete", data, data_params, check_int("seed", seed, 0), dtype, "classification")
    return Competitive(
        ds,
        check_int("parasites", parasites, 2),
        check_int("set_size", set_size, 1),
        check_int("n_opponents", n_opponents, 1),
        check_int("n_hof", n_hof, 0),
        float(mutation),
        float(target),
        seed,
    )
