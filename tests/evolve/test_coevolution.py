"""Cooperative coevolution: ESP neuron credit, neuron groups, CoSyNE permutation."""

from __future__ import annotations

import numpy as np
import pytest

from research.errors import ConfigError
from research.evolve import make_engine, neuron_groups
from research.evolve.coevolution import permutation_probs, permute_columns
from research.nn.elman import ElmanNet
from research.nn.mlp import MLP


def test_esp_credits_each_neuron_with_its_networks_fitness():
    # two neurons of two genes each, 4 members per subpopulation, 2 trials -> 8 networks
    groups = [np.array([0, 1]), np.array([2, 3])]
    e = make_engine("esp", 4, np.random.default_rng(0), groups=groups, subpop=4, trials=2)
    genomes = e.ask()
    assert genomes.shape == (8, 4)
    fitness = np.arange(8.0)
    credit = e.credit(fitness)
    for j, g in enumerate(groups):
        for k in range(4):
            member = e.subpops[j][k]
            # the networks containing member k of subpopulation j, found from the genomes
            mine = [p for p in range(8) if np.array_equal(genomes[p, g], member)]
            assert len(mine) == 2  # each neuron takes part in exactly `trials` networks
            assert credit[j, k] == pytest.approx(np.mean(fitness[mine]))
    best = make_engine(
        "esp", 4, np.random.default_rng(0), groups=groups, subpop=4, trials=2, credit="best"
    )
    best.ask()
    for j in range(2):
        for k in range(4):
            assert best.credit(fitness)[j, k] == fitness[best.assignment[:, j] == k].max()


def test_esp_hand_checkable_credit_with_one_trial():
    """One trial: each network holds one member of each subpopulation, so each neuron's
    fitness is exactly its single network's fitness."""
    e = make_engine(
        "esp",
        2,
        np.random.default_rng(3),
        groups=[np.array([0]), np.array([1])],
        subpop=4,
        trials=1,
    )
    e.ask()
    fitness = np.array([10.0, 20.0, 30.0, 40.0])
    credit = e.credit(fitness)
    for p in range(4):
        assert credit[0, e.assignment[p, 0]] == fitness[p]
        assert credit[1, e.assignment[p, 1]] == fitness[p]


def test_esp_gives_ungrouped_genes_their_own_subpopulation():
    e = make_engine("esp", 5, np.random.default_rng(0), groups=[np.array([0, 1]), np.array([3])])
    assert [list(g) for g in e.groups] == [[0, 1], [3], [2, 4]]


def test_esp_burst_mutation_recentres_on_the_champion():
    e = make_engine(
        "esp",
        4,
        np.random.default_rng(0),
        groups=[np.arange(2), np.arange(2, 4)],
        subpop=4,
        trials=1,
        burst_after=3,
    )
    for _ in range(4):  # a flat objective: no improvement after the first generation
        e.tell(np.zeros(len(e.ask())))
    assert e.stats()["burst"] == 1
    for j, g in enumerate(e.groups):
        assert np.array_equal(e.subpops[j][0], e.champion[g])


def test_neuron_groups_of_an_mlp_partition_its_hidden_weights():
    net = MLP([3, 4, 2], ["tanh"], output="linear", cost="quadratic")
    groups = neuron_groups(net)
    assert len(groups) == 4
    W0, b0, W1 = (net.layout.view(np.arange(net.n_params), k) for k in ("W0", "b0", "W1"))
    for k, g in enumerate(groups):
        assert sorted(g) == sorted([*W0[:, k], b0[k], *W1[k, :]])
    flat = np.concatenate(groups)
    assert len(np.unique(flat)) == len(flat) == net.n_params - 2  # output biases left over


def test_neuron_groups_of_an_elman_net_cover_every_recurrent_weight_once():
    net = ElmanNet(2, 3, 1)
    groups = neuron_groups(net)
    Wh = net.layout.view(np.arange(net.n_params), "Wh")
    for k, g in enumerate(groups):
        assert set(Wh[:, k]) <= set(g)
    flat = np.concatenate(groups)
    assert len(np.unique(flat)) == len(flat) == net.n_params - 1  # all but the output bias
    no_bias = ElmanNet(2, 3, 1, bias=False)
    assert len(np.concatenate(neuron_groups(no_bias))) == no_bias.n_params


def test_neuron_groups_reject_two_hidden_layers():
    net = MLP([2, 3, 3, 1], ["tanh", "tanh"], output="linear", cost="quadratic")
    with pytest.raises(ConfigError, match="one hidden layer"):
        neuron_groups(net)


def test_esp_evolves_a_network_towards_known_weights():
    net = MLP([2, 3, 1], ["tanh"], output="linear", cost="quadratic")
    target = np.linspace(-1, 1, net.n_params)
    e = make_engine("esp", net.n_params, np.random.default_rng(0), groups=neuron_groups(net))
    first = None
    for _ in range(30):
        x = e.ask()
        f = -np.sum((x - target) ** 2, axis=1)
        first = f.max() if first is None else first
        e.tell(f)
    assert e.best()[1][0] > first + 2


def test_cosyne_permutation_keeps_each_columns_multiset():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 5))
    before = x.copy()
    permute_columns(x, np.full(12, 0.7), rng)
    assert not np.array_equal(x, before)
    for i in range(5):
        assert np.array_equal(np.sort(x[:, i]), np.sort(before[:, i]))
    # rows marked with probability 0 never move
    y = before.copy()
    probs = np.ones(12)
    probs[[0, 3]] = 0
    permute_columns(y, probs, rng)
    assert np.array_equal(y[[0, 3]], before[[0, 3]])


def test_cosyne_permutation_probability_follows_fitness_rank():
    f = np.array([10.0, 5.0, 0.0, np.nan])
    p = permutation_probs(f, n_genes=4)
    assert p[0] == 0.0 and p[2] == 1.0 and p[3] == 1.0
    assert p[1] == pytest.approx(1 - 0.5 ** (1 / 4))
    assert np.all(permutation_probs(np.ones(3), 4) == 1)


def test_cosyne_generation_permutes_within_columns_only():
    """Survivors' column values after a generation are the same multiset as before, plus
    offspring; the best network is never broken up."""
    e = make_engine("cosyne", 6, np.random.default_rng(1), pop=8, replace=0.5)
    x = e.ask()
    f = -np.sum(x**2, axis=1)
    order = np.argsort(-f, kind="stable")
    survivors = x[order[:4]]
    e.tell(f)
    assert np.array_equal(e.x[0], survivors[0])  # p = 0 for the best
    for i in range(6):
        assert np.array_equal(np.sort(e.x[:4, i]), np.sort(survivors[:, i]))
