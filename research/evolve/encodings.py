"""Genome -> network weights. ``decode(genomes (P, g)) -> thetas (P, net.n_params)`` float64.

``direct``: the genome is the network's flat theta (identity).

``cppn``: a HyperNEAT-style indirect encoding (Stanley, D'Ambrosio & Gauci 2009). The target
MLP's units sit on a 2-D substrate: layer l of L+1 at y_l = -1 + 2 l / L, its units spread
evenly over x in [-1, 1] (x = 0 for a single unit). A small fixed-topology CPPN is queried
once per connection i -> j with inputs c = (x_i, y_i, x_j, y_j, d_ij, 1) where d_ij is the
Euclidean distance, and once per unit j for its bias with the source at the origin
(0, 0, x_j, y_j, |(x_j, y_j)|, 1):

    h = act(c W1)  (H hidden units; act cycles sin, gaussian exp(-z^2), tanh over units)
    o = tanh(h W2 + b2)          o[0] -> connection weight, o[1] -> bias

and an output o becomes w = scale * sign(o) (|o| - t) / (1 - t) if |o| > t else 0 (HyperNEAT's
expression threshold t: weak connections are absent). The genome is (W1, W2, b2):
n_genes = 6 H + 2 H + 2. Sums over CPPN inputs and hidden units run in a fixed order with
elementwise numpy operations, so a genome decodes to the same bits alone or in any batch.
"""

from __future__ import annotations

import numpy as np

from research.errors import ConfigError
from research.evolve.engine import require
from research.nn.mlp import MLP
from research.registry import Registry

N_INPUTS = 6
CHUNK_ELEMENTS = 1 << 22  # rows per decode chunk keep (rows, queries, H) under ~32 MB


class Direct:
    """Genome = theta."""

    def __init__(self, net) -> None:
        self.n_genes = int(net.n_params)

    def decode(self, genomes: np.ndarray) -> np.ndarray:
        g = np.asarray(genomes, dtype=np.float64)
        if g.ndim != 2 or g.shape[1] != self.n_genes:
            raise ValueError(f"decode expects (P, {self.n_genes}) genomes, got {g.shape}")
        return g.copy()


def _gaussian(z: np.ndarray) -> np.ndarray:
    return np.exp(-z * z)


CPPN_ACTIVATIONS = (np.sin, _gaussian, np.tanh)


class CPPN:
    def __init__(self, net, *, hidden: int = 8, threshold: float = 0.2, scale: float = 3.0):
        if not isinstance(net, MLP):
            raise ConfigError(
                f"encoding 'cppn' is not allowed for {type(net).__name__}: use model=mlp"
            )
        if any(name.startswith("bn") for name in net.layout.slices):
            raise ConfigError("encoding 'cppn' needs model.batch_norm=false")
        require(int(hidden) >= 1, "hidden", hidden, "must be >= 1")
        require(0 <= threshold < 1, "threshold", threshold, "must be in [0, 1)")
        require(scale > 0, "scale", scale, "must be > 0")
        self.net, self.H = net, int(hidden)
        self.threshold, self.scale = float(threshold), float(scale)
        self.n_genes = N_INPUTS * self.H + 2 * self.H + 2
        self.queries, self.targets = self._substrate(net)

    @staticmethod
    def _substrate(net) -> tuple[np.ndarray, list[tuple[slice, int, int, int]]]:
        """All CPPN queries (K, 6), and for each theta block (slice, query rows, output)."""
        sizes = net.sizes
        L = len(sizes) - 1
        ys = np.linspace(-1.0, 1.0, L + 1)
        xs = [np.linspace(-1.0, 1.0, s) if s > 1 else np.zeros(1) for s in sizes]
        rows, targets, start = [], [], 0
        for l in range(L):
            xi, xj = np.meshgrid(xs[l], xs[l + 1], indexing="ij")  # (n_in, n_out), row-major
            yi, yj = np.full_like(xi, ys[l]), np.full_like(xj, ys[l + 1])
            d = np.sqrt((xj - xi) ** 2 + (yj - yi) ** 2)
            q = np.stack([xi, yi, xj, yj, d, np.ones_like(xi)], axis=-1).reshape(-1, N_INPUTS)
            rows.append(q)
            targets.append((net.layout.slices[f"W{l}"][0], start, start + len(q), 0))
            start += len(q)
            if f"b{l}" not in net.layout.slices:  # a bias-free net (bias=False)
                continue
            xb = xs[l + 1]
            zero = np.zeros_like(xb)
            yb = np.full_like(xb, ys[l + 1])
            qb = np.stack([zero, zero, xb, yb, np.hypot(xb, yb), np.ones_like(xb)], axis=-1)
            rows.append(qb)
            targets.append((net.layout.slices[f"b{l}"][0], start, start + len(qb), 1))
            start += len(qb)
        return np.concatenate(rows), targets

    def _unpack(self, g: np.ndarray):
        H = self.H
        W1 = g[:, : N_INPUTS * H].reshape(-1, N_INPUTS, H)
        W2 = g[:, N_INPUTS * H : N_INPUTS * H + 2 * H].reshape(-1, H, 2)
        b2 = g[:, N_INPUTS * H + 2 * H :]
        return W1, W2, b2

    def query(self, genomes: np.ndarray) -> np.ndarray:
        """Raw CPPN outputs (P, 2, K) for the K substrate queries. Layout (P, unit, K) keeps
        every elementwise call on contiguous rows of K, whatever P; sums run in fixed order."""
        W1, W2, b2 = self._unpack(genomes)
        c = self.queries.T  # (6, K)
        z = W1[:, 0, :, None] * c[None, None, 0, :]  # (P, H, K)
        for i in range(1, N_INPUTS):
            z += W1[:, i, :, None] * c[None, None, i, :]
        for h in range(self.H):
            z[:, h, :] = CPPN_ACTIVATIONS[h % len(CPPN_ACTIVATIONS)](z[:, h, :])
        out = W2[:, 0, :, None] * z[:, 0, None, :]  # (P, 2, K)
        for h in range(1, self.H):
            out += W2[:, h, :, None] * z[:, h, None, :]
        out += b2[:, :, None]
        return np.tanh(out)

    def express(self, o: np.ndarray) -> np.ndarray:
        """w = scale sign(o) (|o| - t) / (1 - t) where |o| > t, else 0."""
        t = self.threshold
        mag = np.maximum(np.abs(o) - t, 0.0) / (1.0 - t)
        return self.scale * np.sign(o) * mag

    def decode(self, genomes: np.ndarray) -> np.ndarray:
        g = np.asarray(genomes, dtype=np.float64)
        if g.ndim != 2 or g.shape[1] != self.n_genes:
            raise ValueError(f"decode expects (P, {self.n_genes}) genomes, got {g.shape}")
        thetas = np.zeros((len(g), self.net.n_params))
        step = max(1, CHUNK_ELEMENTS // (len(self.queries) * self.H))
        for s in range(0, len(g), step):
            w = self.express(self.query(g[s : s + step]))
            for sl, a, b, out in self.targets:
                thetas[s : s + step, sl] = w[:, out, a:b]
        return thetas


#: genome -> weights; a user's encoding is a class ``Encoding(net, **settings)`` with
#: ``n_genes`` and ``decode``, named by import path or an entry point in research.encodings
ENCODINGS: Registry = Registry("encoding", group="research.encodings")
ENCODINGS.register("direct", Direct)
ENCODINGS.register("cppn", CPPN)
