"""Multilayer perceptron with per-layer activations, inverted dropout and batch norm.

Layer l computes z = a W + b (W of shape (n_in, n_out), a batch in rows), then optional
batch normalisation z_hat = gamma (z - mean) / sqrt(var + eps) + beta, then a = f(z_hat).
With ``bias=False`` there is no b (z = a W): the small bias-free nets neuroevolution uses,
whose genome is then the weights alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from research import schema as S
from research.errors import ConfigError
from research.nn.functions import ACTIVATIONS, activation, cost, initialiser
from research.nn.layout import FlatModel, Layout
from research.nn.schema import ModelConfig, check_units

BN_MOMENTUM = 0.9
BN_EPS = 1e-5


@dataclass
class MLPModel(ModelConfig):
    """Multilayer perceptron: ``hidden`` widths, one activation for all hidden layers unless
    ``activations`` gives one per layer."""

    name: str = "mlp"
    hidden: list[int] = field(default_factory=lambda: [100])
    activation: str = "relu"
    activations: list[str] | None = None
    output: str = "softmax"
    cost: str = "log_likelihood"
    init: str = "fan_in"
    dropout: float = 0.0
    batch_norm: bool = False
    bias: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        for width in self.hidden:
            S.require(width >= 1, "hidden", list(self.hidden), "layer widths must be >= 1")
        check_units(self.activation, self.output, self.cost, self.init)
        if self.activations is not None:
            S.require(
                len(self.activations) == len(self.hidden),
                "activations",
                list(self.activations),
                f"give one per hidden layer ({len(self.hidden)})",
            )
            for name in self.activations:
                S.one_of("activations", name, ACTIVATIONS)
        S.fraction("dropout", self.dropout)


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
        self._use(Layout(self._blocks(), dtype))
        self._initialise(initialiser(init), rng)
        p = self.layout.params
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

    def _blocks(self) -> list[tuple[str, tuple[int, ...], bool]]:
        """Per layer: W (decayed), b, and batch norm's gamma and beta on hidden layers."""
        blocks: list[tuple[str, tuple[int, ...], bool]] = []
        for l, (n_in, n_out) in enumerate(zip(self.sizes, self.sizes[1:])):
            blocks.append((f"W{l}", (n_in, n_out), True))
            if self.bias:
                blocks.append((f"b{l}", (n_out,), False))
            if self.batch_norm and l < self.n_layers - 1:
                blocks += [(f"bn{l}.gamma", (n_out,), False), (f"bn{l}.beta", (n_out,), False)]
        return blocks

    def _initialise(self, init_fn, rng: np.random.Generator) -> None:
        """Draw each layer's W and b in layer order (the seed's stream); gamma starts at 1."""
        p = self.layout.params
        for l, (n_in, n_out) in enumerate(zip(self.sizes, self.sizes[1:])):
            w, b = init_fn(rng, n_in, n_out)
            p[f"W{l}"][...] = w
            if self.bias:
                p[f"b{l}"][...] = b
            if self.batch_norm and l < self.n_layers - 1:
                p[f"bn{l}.gamma"][...] = 1

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
        """Train-mode forward and backprop; writes d(mean loss)/d theta into ``grad``.

        Backpropagation's four equations (Nielsen, *Neural Networks and Deep Learning*,
        ch. 2), with delta^l = dC/dz^l the error of layer l and a batch in rows
        (z^l = a^{l-1} W^l + b^l, so W^l is Nielsen's (w^l)^T):

            BP1  delta^L = grad_a C ⊙ σ'(z^L)                       (``cost.delta``)
            BP2  delta^l = (delta^{l+1} (W^{l+1})^T) ⊙ σ'(z^l)
                         = ((w^{l+1})^T delta^{l+1}) ⊙ σ'(z^l)
            BP3  dC/db^l = delta^l                 (summed over the batch's rows)
            BP4  dC/dW^l = (a^{l-1})^T delta^l     (Nielsen: a^{l-1} delta^T per example)

        The cost's delta already divides by the batch size, so the sums are of the mean
        loss. Dropout multiplies BP2's back-propagated error by the layer's mask; batch norm
        passes it through its normalisation (and gives gamma's and beta's gradients) before
        σ' is applied.
        """
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
