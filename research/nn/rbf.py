"""Radial basis function networks with Gaussian units.

phi_j(x) = exp(-beta_j ||x - c_j||^2); normalised units divide by sum_k phi_k;
output y = phi W + b (linear, quadratic cost). Centres come from the training inputs
(a random sample or k-means); the width rule sigma = d_max / sqrt(2k) (Haykin) gives
beta = 1 / (2 sigma^2). Output weights by pseudoinverse, normalised LMS, or gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from research import schema as S
from research.nn.functions import cost
from research.nn.layout import FlatModel, Layout
from research.nn.schema import ModelConfig

CENTRE_RULES = ("kmeans", "random")
SOLVERS = ("pinv", "nlms", "gd")


@dataclass
class RBFModel(ModelConfig):
    """Radial basis function network (Gaussian units, linear output, quadratic cost)."""

    name: str = "rbf"
    n_centres: int = 10
    normalised: bool = False
    centres: str = "kmeans"
    beta: float | None = None
    solver: str = "pinv"
    passes: int = 1
    mu: float = 1.0
    bias: bool = True
    finetune: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        S.positive("n_centres", self.n_centres)
        S.one_of("centres", self.centres, CENTRE_RULES)
        S.positive("beta", self.beta, allow_none=True)
        S.one_of("solver", self.solver, SOLVERS)
        S.positive("passes", self.passes)
        S.positive("mu", self.mu)

    def size(self, n_in: int, n_out: int) -> tuple[float, float, str, Any]:
        k = float(self.n_centres)
        return k * (n_in + n_out + 2) + n_out, k, "model.n_centres", self.n_centres


class RBFNet(FlatModel):
    """Takes plain values: :class:`RBFModel` checks them for the ``model`` group."""

    def __init__(
        self,
        n_inputs: int,
        n_centres: int,
        n_outputs: int,
        normalised: bool = False,
        centres: str = "kmeans",
        beta: float | None = None,
        solver: str = "pinv",
        passes: int = 1,
        mu: float = 1.0,
        bias: bool = True,
        finetune: bool = False,
        dtype: str = "float32",
        rng: np.random.Generator | None = None,
    ) -> None:
        self.n_inputs, self.k, self.n_outputs = n_inputs, n_centres, n_outputs
        self.normalised, self.centre_rule, self.beta0 = normalised, centres, beta
        self.solver, self.passes, self.mu, self.bias = solver, passes, mu, bias
        self.trains_by_gradient = solver == "gd" or finetune
        blocks = [("W", (n_centres, n_outputs), True)]
        if bias:
            blocks.append(("b", (n_outputs,), False))
        blocks += [("centres", (n_centres, n_inputs), False), ("beta", (n_centres,), False)]
        self._use(Layout(blocks, dtype))
        self.cost = cost("quadratic", "linear")
        p = self.layout.params
        rng = rng or np.random.default_rng(0)
        p["centres"][...] = rng.standard_normal((n_centres, n_inputs))
        p["beta"][...] = 1.0 if beta is None else beta

    # -- set-up from data -------------------------------------------------------------------
    def prepare(self, x_train, y_train, rng: np.random.Generator) -> None:
        """Place centres, set widths, and solve or train the output weights."""
        x = np.asarray(x_train, np.float64).reshape(len(x_train), -1)
        y = np.asarray(y_train, np.float64)
        p = self.layout.params
        if self.centre_rule == "random" or self.k >= len(x):
            idx = rng.choice(len(x), size=self.k, replace=self.k > len(x))
            c = x[idx]
        else:
            from sklearn.cluster import KMeans  # slow to import: only when k-means runs

            seed = int(rng.integers(2**31 - 1))
            c = KMeans(self.k, n_init=4, random_state=seed).fit(x).cluster_centers_
        p["centres"][...] = c
        if self.beta0 is None:
            d = np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(-1)).max()
            sigma = d / np.sqrt(2 * self.k) if d > 0 else 1.0
            p["beta"][...] = 1.0 / (2 * sigma**2)
        else:
            p["beta"][...] = self.beta0
        if self.solver == "pinv":
            h = self._design(self.hidden(x))
            w = np.linalg.pinv(h) @ y
            self._set_output(w)
        elif self.solver == "nlms":
            self.fit_nlms(x, y, self.passes, self.mu)

    def _design(self, phi: np.ndarray) -> np.ndarray:
        return np.hstack([phi, np.ones((len(phi), 1))]) if self.bias else phi

    def _set_output(self, w: np.ndarray) -> None:
        self.layout.params["W"][...] = w[: self.k]
        if self.bias:
            self.layout.params["b"][...] = w[self.k]

    def fit_nlms(self, x, y, passes: int = 1, mu: float = 1.0) -> None:
        """Normalised LMS over the exemplars in order: w += mu e h / (h.h), from w = 0."""
        w = np.zeros((self.k + int(self.bias), self.n_outputs))
        h_all = self._design(self.hidden(np.asarray(x, np.float64)))
        y = np.asarray(y, np.float64)
        for _ in range(passes):
            for h, t in zip(h_all, y):
                e = t - h @ w
                w += mu * np.outer(h, e) / (h @ h + 1e-12)
        self._set_output(w)

    # -- forward / backward ---------------------------------------------------------------
    def _sq_dist(self, x):
        c = self.layout.params["centres"]
        return ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)

    def hidden(self, x) -> np.ndarray:
        """Unit activations phi (normalised when the net is)."""
        x = np.asarray(x).reshape(len(x), -1)
        phi = np.exp(-self.layout.params["beta"] * self._sq_dist(x))
        if self.normalised:
            phi = phi / (phi.sum(1, keepdims=True) + 1e-300)
        return phi

    def forward(self, x, *, train: bool = False, rng=None) -> np.ndarray:
        x = np.asarray(x, self.dtype).reshape(len(x), -1)
        out = self.hidden(x) @ self.layout.params["W"]
        if self.bias:
            out = out + self.layout.params["b"]
        return out

    def loss_and_grad(self, x, y, *, rng=None) -> float:
        p, g = self.layout.params, self.layout.grads
        x = np.asarray(x, self.dtype).reshape(len(x), -1)
        d2 = self._sq_dist(x)
        phi = np.exp(-p["beta"] * d2)
        if self.normalised:
            s = phi.sum(1, keepdims=True) + 1e-300
            hid = phi / s
        else:
            hid = phi
        out = hid @ p["W"] + (p["b"] if self.bias else 0)
        delta = (out - y) / len(x)
        g["W"][...] = hid.T @ delta
        if self.bias:
            g["b"][...] = delta.sum(0)
        dhid = delta @ p["W"].T
        if self.normalised:
            dphi = (dhid - np.sum(dhid * hid, axis=1, keepdims=True)) / s
        else:
            dphi = dhid
        common = dphi * phi  # dL/d(-beta d2) per unit
        g["beta"][...] = -(common * d2).sum(0)
        diff = x[:, None, :] - p["centres"][None, :, :]
        g["centres"][...] = 2 * p["beta"][:, None] * np.einsum("bk,bkd->kd", common, diff)
        return self.cost.value(out, y)
