"""Cooperative coevolution: ESP (neuron subpopulations) and CoSyNE (weight subpopulations).

Both assemble full network genomes in ``ask`` and credit the parts in ``tell``; the driver
sees an ordinary engine.

**ESP** (Enforced SubPopulations; Gomez & Miikkulainen 1997). One subpopulation of ``subpop``
neuron genomes per hidden neuron; a neuron genome is the network genes listed in its group
(its incoming weights, bias and outgoing weights — :func:`neuron_groups`). Genes in no group
(e.g. output biases) form one extra subpopulation, so every gene evolves. Each generation,
``trials`` rounds each take an independent random permutation of every subpopulation and
assemble ``subpop`` networks from them: P = subpop * trials networks, each neuron in exactly
``trials`` of them. A neuron's fitness is the mean (``credit="mean"``) or best
(``credit="best"``) fitness of its networks. Within each subpopulation, sorted best first,
each of the top quarter crosses (one point) with a random better-ranked member of the top
quarter (the best with any other top-quarter member); the children replace the bottom half
and each of their genes gets Cauchy(0, sigma) noise with probability indpb. Burst mutation
(delta coding): when the best network fitness has not improved for ``burst_after``
generations, every subpopulation is rebuilt around the best network's neuron as
best + Cauchy(0, burst_scale) noise (member 0 keeps the best neuron itself).

**CoSyNE** (Gomez, Schmidhuber & Miikkulainen 2008). A population matrix X (m rows x n genes):
row j is network j, column i the subpopulation of weight i. After evaluating the rows they are
sorted best first; the top quarter breeds (two-point crossover between random pairs of it, then
Cauchy(0, sigma) noise per gene with probability indpb) and the offspring replace the bottom
``replace`` fraction. Then the permutation step: in each column i, each surviving (evaluated)
member j is marked with probability
    p_j = 1 - ((f_j - f_min) / (f_max - f_min)) ** (1 / n)
(the best is never marked, the worst always; ``permute="uniform"`` marks everyone), and the
marked values of the column are permuted among themselves, independently per column. Each
column keeps its multiset of values: permutation moves weights between networks, it never
changes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from research.errors import ConfigError
from research.evolve.engine import Engine, require
from research.nn.elman import ElmanNet
from research.nn.mlp import MLP


# ------------------------------------------------------------------------------ groups
def neuron_groups(net) -> list[np.ndarray]:
    """One array of gene (theta) indices per hidden neuron of ``net``.

    MLP with one hidden layer (sizes = (n_in, h, n_out)): neuron k owns W0[:, k], b0[k] and
    W1[k, :]. ElmanNet: neuron k owns Wx[:, k], Wh[:, k] (its incoming recurrent weights, so
    each Wh entry belongs to exactly one neuron), bh[k] and Wo[k, :]. Output biases are left
    out (ESP gives the ungrouped genes a subpopulation of their own).
    """
    layout = net.layout
    idx = np.arange(layout.size)

    def block(name: str) -> np.ndarray | None:
        return layout.view(idx, name) if name in layout.slices else None

    if isinstance(net, MLP):
        if len(net.sizes) != 3:
            raise ConfigError(
                f"sizes={net.sizes!r} is not allowed for ESP: give exactly one hidden layer"
            )
        if any(name.startswith("bn") for name in layout.slices):
            raise ConfigError("ESP needs model.batch_norm=false")
        parts = [block("W0").T, block("W1")]
        if block("b0") is not None:  # bias-free nets (bias=False) have no b0
            parts.insert(1, block("b0")[:, None])
    elif isinstance(net, ElmanNet):
        parts = [block("Wx").T, block("Wh").T, block("Wo")]
        if net.bias:
            parts.insert(2, block("bh")[:, None])
    else:
        raise ConfigError(f"ESP cannot split a {type(net).__name__} into neurons: use mlp/elman")
    return [np.concatenate([p[k] for p in parts]).astype(np.int64) for k in range(len(parts[0]))]


def _check_groups(groups, n_genes: int) -> list[np.ndarray]:
    if groups is None or len(groups) == 0:
        raise ConfigError(
            "groups=None is not allowed for esp: pass groups=neuron_groups(net), one array "
            "of gene indices per hidden neuron"
        )
    groups = [np.asarray(g, dtype=np.int64).ravel() for g in groups]
    flat = np.concatenate(groups)
    if flat.min() < 0 or flat.max() >= n_genes or len(np.unique(flat)) != len(flat):
        raise ConfigError(
            f"groups are not allowed as given: they must be disjoint gene indices in [0, {n_genes})"
        )
    leftover = np.setdiff1d(np.arange(n_genes), flat)
    return groups + ([leftover] if len(leftover) else [])


def _cauchy_mutate(x: np.ndarray, sigma: float, indpb: float, gen: np.random.Generator) -> None:
    """In place: each entry, with probability indpb, += Cauchy(0, sigma)."""
    mask = gen.random(x.shape) < indpb
    x[mask] += sigma * gen.standard_cauchy(int(mask.sum()))


def permute_columns(x: np.ndarray, probs: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    """CoSyNE's permutation step on rows ``0..len(probs)-1`` of ``x`` (in place, returned):
    per column, mark row j with probability probs[j] and permute the marked values."""
    m = len(probs)
    for i in range(x.shape[1]):
        marked = np.flatnonzero(gen.random(m) < probs)
        if len(marked) > 1:
            x[marked, i] = x[marked[gen.permutation(len(marked))], i]
    return x


def permutation_probs(fitness: np.ndarray, n_genes: int) -> np.ndarray:
    """p_j = 1 - ((f_j - f_min) / (f_max - f_min)) ** (1/n); all 1 if every f_j is equal."""
    f = np.asarray(fitness, dtype=np.float64)
    finite = np.isfinite(f)
    if finite.sum() < 2:
        return np.ones_like(f)
    lo, hi = f[finite].min(), f[finite].max()
    if hi <= lo:
        return np.ones_like(f)
    r = np.where(finite, (np.clip(f, lo, hi) - lo) / (hi - lo), 0.0)
    return 1.0 - r ** (1.0 / n_genes)


class _Coevolution(Engine):
    """The champion is the first network of the highest fitness seen (a running argmax),
    kept as ``champion``/``champion_fitness`` rather than in a hall of fame."""

    def __init__(self, n_genes: int, rng: np.random.Generator) -> None:
        super().__init__(n_genes, rng)
        self.champion = np.zeros(self.n_genes)
        self.champion_fitness = -np.inf

    def _record(self, genomes: np.ndarray, f: np.ndarray) -> bool:
        k = int(np.argmax(f))
        if f[k] > self.champion_fitness:
            self.champion, self.champion_fitness = genomes[k].copy(), float(f[k])
            return True
        return False

    def best(self) -> tuple[np.ndarray, np.ndarray]:
        return self.champion.copy(), np.array([self.champion_fitness])

    def champion_value(self) -> float | None:
        return None if self.last is None else self.champion_fitness

    def own_state(self) -> dict[str, Any]:
        return {"champion": (self.champion.copy(), self.champion_fitness)}

    def load_own_state(self, state: dict[str, Any]) -> None:
        self.champion, self.champion_fitness = np.array(state["champion"][0]), state["champion"][1]


# ------------------------------------------------------------------------------ ESP
class ESP(_Coevolution):
    def __init__(
        self,
        n_genes: int,
        rng: np.random.Generator,
        *,
        groups=None,
        subpop: int = 20,
        trials: int = 10,
        credit: str = "mean",
        sigma: float = 0.3,
        indpb: float = 0.2,
        burst_after: int = 20,
        burst_scale: float = 0.3,
        init_std: float = 1.0,
    ) -> None:
        require(int(subpop) >= 4, "subpop", subpop, "must be >= 4")
        require(int(trials) >= 1, "trials", trials, "must be >= 1")
        require(credit in ("mean", "best"), "credit", credit, "choose one of: best, mean")
        require(sigma > 0 and burst_scale > 0, "sigma/burst_scale", (sigma, burst_scale), "> 0")
        require(0 <= indpb <= 1, "indpb", indpb, "must be in [0, 1]")
        require(int(burst_after) >= 1, "burst_after", burst_after, "must be >= 1")
        groups = _check_groups(groups, int(n_genes))
        super().__init__(n_genes, rng)
        self.groups = groups
        self.n, self.trials, self.credit_rule = int(subpop), int(trials), credit
        self.sigma, self.indpb = float(sigma), float(indpb)
        self.burst_after, self.burst_scale = int(burst_after), float(burst_scale)
        gen = self.rng.gen
        self.subpops = [init_std * gen.standard_normal((self.n, len(g))) for g in self.groups]
        self.member_fitness = np.full((len(self.groups), self.n), -np.inf)
        self.assignment: np.ndarray | None = None  # (P, G) member index per network/subpop
        self.stalled, self.bursts = 0, 0

    def propose(self) -> np.ndarray:
        gen = self.rng.gen
        rounds = [
            np.stack([gen.permutation(self.n) for _ in self.groups], axis=1)
            for _ in range(self.trials)
        ]
        self.assignment = np.concatenate(rounds)  # (trials * n, G)
        return self.assemble(self.assignment)

    def assemble(self, assignment: np.ndarray) -> np.ndarray:
        """Full genomes (P, n_genes) from member indices (P, G)."""
        genomes = np.zeros((len(assignment), self.n_genes))
        for j, (g, sub) in enumerate(zip(self.groups, self.subpops)):
            genomes[:, g] = sub[assignment[:, j]]
        return genomes

    def credit(self, f: np.ndarray) -> np.ndarray:
        """(G, n) member fitness: mean or best of the networks each member was in."""
        out = np.full((len(self.groups), self.n), -np.inf)
        for j in range(len(self.groups)):
            members = self.assignment[:, j]
            for k in range(self.n):
                mine = f[members == k]
                if len(mine):
                    out[j, k] = mine.max() if self.credit_rule == "best" else mine.mean()
        return out

    def update(self, genomes: np.ndarray, f: np.ndarray) -> None:
        improved = self._record(genomes, f)
        self.member_fitness = self.credit(f)
        self.stalled = 0 if improved else self.stalled + 1
        if self.stalled >= self.burst_after:
            self._burst()
        else:
            for j in range(len(self.groups)):
                self._recombine(j)

    def _recombine(self, j: int) -> None:
        gen = self.rng.gen
        order = np.argsort(-self.member_fitness[j], kind="stable")
        sub = self.subpops[j][order]
        q, length = self.n // 4, sub.shape[1]
        children = []
        for i in range(q):
            mate = int(gen.integers(0, i)) if i > 0 else int(gen.integers(1, q)) if q > 1 else 0
            cut = int(gen.integers(1, length)) if length > 1 else 0
            a = np.concatenate([sub[i, :cut], sub[mate, cut:]])
            b = np.concatenate([sub[mate, :cut], sub[i, cut:]])
            children += [a, b]
        if children:
            kids = np.array(children)
            _cauchy_mutate(kids, self.sigma, self.indpb, gen)
            sub[self.n - len(kids) :] = kids
        self.subpops[j] = sub
        self.member_fitness[j] = self.member_fitness[j][order]

    def _burst(self) -> None:
        """Delta coding around the champion network."""
        gen = self.rng.gen
        for j, g in enumerate(self.groups):
            best = self.champion[g]
            sub = best + self.burst_scale * gen.standard_cauchy((self.n, len(g)))
            sub[0] = best
            self.subpops[j] = sub
        self.stalled = 0
        self.bursts += 1

    def own_stats(self) -> dict[str, float]:
        diversity = float(np.mean([s.std(axis=0).mean() for s in self.subpops]))
        return {"diversity": diversity, "burst": float(self.bursts)}

    def own_state(self) -> dict[str, Any]:
        return {
            **super().own_state(),
            "subpops": [s.copy() for s in self.subpops],
            "member_fitness": self.member_fitness.copy(),
            "assignment": None if self.assignment is None else self.assignment.copy(),
            "counters": (self.generation, self.stalled, self.bursts),
        }

    def load_own_state(self, state: dict[str, Any]) -> None:
        super().load_own_state(state)
        self.subpops = [np.array(s) for s in state["subpops"]]
        self.member_fitness = np.array(state["member_fitness"])
        self.assignment = None if state["assignment"] is None else np.array(state["assignment"])
        self.generation, self.stalled, self.bursts = state["counters"]


# ------------------------------------------------------------------------------ CoSyNE
class CoSyNE(_Coevolution):
    def __init__(
        self,
        n_genes: int,
        rng: np.random.Generator,
        *,
        pop: int = 40,
        replace: float = 0.5,
        sigma: float = 0.3,
        indpb: float = 0.2,
        permute: str = "fitness",
        init_std: float = 1.0,
    ) -> None:
        require(int(pop) >= 4, "pop", pop, "must be >= 4")
        require(0 < replace <= 0.75, "replace", replace, "must be in (0, 0.75]")
        require(sigma > 0, "sigma", sigma, "must be > 0")
        require(0 <= indpb <= 1, "indpb", indpb, "must be in [0, 1]")
        choices = ("fitness", "uniform")
        require(permute in choices, "permute", permute, f"choose one of: {choices}")
        super().__init__(n_genes, rng)
        self.m = int(pop)
        self.n_offspring = max(2, int(round(replace * self.m)))
        self.sigma, self.indpb, self.permute = float(sigma), float(indpb), permute
        self.x = init_std * self.rng.gen.standard_normal((self.m, self.n_genes))

    def propose(self) -> np.ndarray:
        return self.x.copy()

    def update(self, genomes: np.ndarray, f: np.ndarray) -> None:
        gen = self.rng.gen
        self._record(genomes, f)
        order = np.argsort(-f, kind="stable")
        x, f = self.x[order], f[order]
        q = max(2, self.m // 4)
        kids = []
        while len(kids) < self.n_offspring:
            a, b = gen.choice(q, size=2, replace=False)
            ca, cb = x[a].copy(), x[b].copy()
            if self.n_genes > 1:
                lo, hi = np.sort(gen.choice(np.arange(1, self.n_genes + 1), 2, replace=False))
                ca[lo:hi], cb[lo:hi] = x[b, lo:hi], x[a, lo:hi]
            kids += [ca, cb]
        kids = np.array(kids[: self.n_offspring])
        _cauchy_mutate(kids, self.sigma, self.indpb, gen)
        survivors = self.m - self.n_offspring
        x[survivors:] = kids
        if self.permute == "uniform":
            probs = np.ones(survivors)
        else:
            probs = permutation_probs(f[:survivors], self.n_genes)
        permute_columns(x, probs, gen)
        self.x = x

    def own_stats(self) -> dict[str, float]:
        return {"diversity": float(self.x.std(axis=0).mean())}

    def own_state(self) -> dict[str, Any]:
        return {**super().own_state(), "x": self.x.copy()}

    def load_own_state(self, state: dict[str, Any]) -> None:
        super().load_own_state(state)
        self.x = np.array(state["x"])
