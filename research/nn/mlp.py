"""Multilayer perceptron with per-layer activations, inverted dropout and batch norm.

Layer l computes z = a W + b (W of shape (n_in, n_out), a batch in rows), then optional
batch normalisation z_hat = gamma (z - mean) / sqrt(var + eps) + beta, then a = f(z_hat).
With ``bias=False`` there is no b (z = a W): the small bias-free nets neuroevolution uses,
whose genome is then the weights alone.
"""

from __future__ import annotations

import numpy as np

from research.errors import ConfigError
from research.nn.functions import activation, cost, initialiser
from research.nn.layout import FlatModel, Layout

BN_MOMENTUM = 0.9
BN_EPS = 1e-5


class MLP(FlatModel):
    """``sizes`` = (n_in, *hidden, n_out); one activation name per hidden layer."""

    def __init__(
        self,
        sizes: list[int],
        activations: list[str],
        output: str = "softmax",
        cost: str = "log_likelihood",
        init: str = "fan_in",
        dropout: float = 0.0,
        batch_norm: bool = False,
        dtype: str = "float32",
        bias: bool = True,
        rng: np.random.Generator | None = None,
    ) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ConfigError(f"sizes={sizes!r} is not allowed: give >= 2 widths, each >= 1")
        if len(activations) != len(sizes) - 2:
            raise ConfigError(
                f"activations={activations!r} is not allowed: give one per hidden layer "
                f"({len(sizes) - 2})"
            )
        if not 0 <= dropout < 1:
            raise ConfigError(f"dropout={dropout!r} is not allowed: must be in [0, 1)")
        rng = rng or np.random.default_rng(0)
        self.sizes = sizes
        self.acts = [activation(a) for a in activations]
        self.out = activation(output, output=True)
        self.cost = _cost(cost, output)
        self.dropout = float(dropout)
        self.batch_norm = bool(batch_norm)
        self.bias = bool(bias)
        self.n_layers = len(sizes) - 1
        blocks = []
        for l in range(self.n_layers):
            blocks.append((f"W{l}", (sizes[l], sizes[l + 1]), True))
            if self.bias:
                blocks.append((f"b{l}", (sizes[l + 1],), False))
            if batch_norm and l < self.n_layers - 1:
                blocks += [
                    (f"bn{l}.gamma", (sizes[l + 1],), False),
                    (f"bn{l}.beta", (sizes[l + 1],), False),
                ]
        self._use(Layout(blocks, dtype))
        init_fn = initialiser(init)
        p = self.layout.params
        for l in range(self.n_layers):
            w, b = init_fn(rng, sizes[l], sizes[l + 1])
            p[f"W{l}"][...] = w
            if self.bias:
                p[f"b{l}"][...] = b
            if batch_norm and l < self.n_layers - 1:
                p[f"bn{l}.gamma"][...] = 1
        self.W = [p[f"W{l}"] for l in range(self.n_layers)]
        # None per layer when bias=False
        self.b = [p.get(f"b{l}") for l in range(self.n_layers)]
        self.gW = [self.layout.grads[f"W{l}"] for l in range(self.n_layers)]
        self.gb = [self.layout.grads.get(f"b{l}") for l in range(self.n_layers)]
        hidden = range(self.n_layers - 1) if batch_norm else range(0)
        self.running = {
            l: (np.zeros(sizes[l + 1], self.dtype), np.ones(sizes[l + 1], self.dtype))
            for l in hidden
        }

    # -- forward / backward ---------------------------------------------------------------
    def _flat(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2:
            x = x.reshape(len(x), -1)
        return x if x.dtype == self.dtype else x.astype(self.dtype)

    def forward(self, x, *, train: bool = False, rng: np.random.Generator | None = None):
        return self._forward(self._flat(x), train, rng, None)

    def _forward(self, a, train, rng, cache):
        p = self.layout.params
        last = self.n_layers - 1
        for l in range(self.n_layers):
            z = a @ self.W[l]
            if self.b[l] is not None:
                z += self.b[l]
            if l == last:
                out = self.out.f(z)
                if cache is not None:
                    cache.append((a, z, None, None, None))
                return out
            bn = None
            if self.batch_norm:
                mean_run, var_run = self.running[l]
                if train:
                    mean, var = z.mean(0), z.var(0)
                    mean_run *= BN_MOMENTUM
                    mean_run += (1 - BN_MOMENTUM) * mean
                    var_run *= BN_MOMENTUM
                    var_run += (1 - BN_MOMENTUM) * var
                else:
                    mean, var = mean_run, var_run
                inv = 1 / np.sqrt(var + BN_EPS)
                zhat = (z - mean) * inv
                bn = (zhat, inv)
                zz = zhat * p[f"bn{l}.gamma"] + p[f"bn{l}.beta"]
            else:
                zz = z
            h_pre = h = self.acts[l].f(zz)
            mask = None
            if train and self.dropout > 0:
                keep = 1 - self.dropout
                mask = (rng.random(h.shape) < keep).astype(self.dtype) / self.dtype.type(keep)
                h = h * mask
            if cache is not None:
                cache.append((a, zz, bn, mask, h_pre))
            a = h
        raise AssertionError("unreachable")

    def loss_and_grad(self, x, y, *, rng: np.random.Generator | None = None) -> float:
        """Train-mode forward and backprop; writes d(mean loss)/d theta into ``grad``."""
        cache: list = []
        out = self._forward(self._flat(x), True, rng, cache)
        y = y if y.dtype == self.dtype else y.astype(self.dtype)
        z = cache[-1][1]
        delta = self.cost.delta(z, out, y, self.out)
        g = self.layout.grads
        for l in range(self.n_layers - 1, -1, -1):
            a_in = cache[l][0]
            np.matmul(a_in.T, delta, out=self.gW[l])
            if self.gb[l] is not None:
                np.sum(delta, axis=0, out=self.gb[l])
            if l == 0:
                break
            da = delta @ self.W[l].T
            _, zz, bn, mask, h_pre = cache[l - 1]
            if mask is not None:
                da *= mask
            dz = da * self.acts[l - 1].df(zz, h_pre)
            if bn is not None:
                zhat, inv = bn
                gamma = self.layout.params[f"bn{l - 1}.gamma"]
                np.sum(dz * zhat, axis=0, out=g[f"bn{l - 1}.gamma"])
                np.sum(dz, axis=0, out=g[f"bn{l - 1}.beta"])
                dzh = dz * gamma
                n = dzh.shape[0]
                dz = inv / n * (n * dzh - dzh.sum(0) - zhat * np.sum(dzh * zhat, axis=0))
            delta = dz
        return self.cost.value(out, y)

    def predict(self, x, chunk: int = 4096) -> np.ndarray:
        x = self._flat(x)
        return np.concatenate([self.forward(x[i : i + chunk]) for i in range(0, len(x), chunk)])

    # -- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        state = {k: v.copy() for k, v in self.layout.params.items()}
        for l, (mean, var) in self.running.items():
            state[f"bn{l}.running_mean"] = mean.copy()
            state[f"bn{l}.running_var"] = var.copy()
        return state

    def load_state_dict(self, state) -> None:
        for k, v in self.layout.params.items():
            v[...] = state[k]
        for l, (mean, var) in self.running.items():
            mean[...] = state[f"bn{l}.running_mean"]
            var[...] = state[f"bn{l}.running_var"]


def _cost(name: str, output: str):
    return cost(name, output)
