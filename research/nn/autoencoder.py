"""Autoencoders: under/overcomplete, denoising, contractive and sparse (``model=autoencoder``).

The encoder maps an input x (flattened) through Dense layers ``hidden`` to the code h of
``code`` units; the decoder mirrors the hidden widths back to the input's size. The loss
compares the reconstruction with the CLEAN input (the labels of the data set are ignored):

- denoising (Vincent et al. 2008): in training the encoder reads a corrupted copy of x,
  each component zeroed with probability ``noise`` (``noise_kind: mask``) or with
  N(0, noise^2) added (``gaussian``);
- contractive (Rifai et al. 2011): + lambda * mean_n ||J_f(x_n)||_F^2, J_f = dh/dx. For a
  one-layer encoder h = f(xW + b), ||J||_F^2 = sum_j f'(z_j)^2 sum_i W_ij^2 (closed form,
  its gradient written out in :meth:`Autoencoder._contractive`);
- sparse (Ng's CS294A notes): + beta * sum_j KL(rho || rho_hat_j), rho_hat_j the batch mean
  of code unit j (a sigmoid code, so rho_hat is in (0, 1)).

``loss`` and the ``*/loss`` metric are this whole objective in eval mode (no noise);
``*/recon`` is the mean squared error per input feature on clean inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from research import schema as S
from research.nn.functions import ACTIVATIONS, activation, cost, initialiser
from research.nn.layout import FlatModel, Layout
from research.nn.schema import ModelConfig, check_units

NOISE_KINDS = ("mask", "gaussian")
RECON_COSTS = ("cross_entropy", "quadratic")
EVAL_CHUNK = 4096
JACOBIAN_CHUNK = 64  # examples per explicit Jacobian (deep encoders): 64 x n_in x width

#: code activations with a closed-form contractive gradient: h -> (f'(z), d f'(z) / dz)
CONTRACTIVE_CODES = {
    "sigmoid": lambda h: (h * (1 - h), h * (1 - h) * (1 - 2 * h)),
    "tanh": lambda h: (1 - h * h, -2 * h * (1 - h * h)),
}
KL_EPS = 1e-8


@dataclass
class AutoencoderModel(ModelConfig):
    """Autoencoder (research/nn/autoencoder.py): ``hidden`` widths to a ``code`` of units,
    mirrored back; denoising ``noise``, ``contractive`` weight, ``sparsity`` target/weight."""

    name: str = "autoencoder"
    code: int = 64
    hidden: list[int] = field(default_factory=list)
    activation: str = "sigmoid"  # hidden layers and the code
    output: str = "sigmoid"
    cost: str = "cross_entropy"
    init: str = "glorot"
    noise: float = 0.0
    noise_kind: str = "mask"
    contractive: float = 0.0
    sparsity: float = 0.05
    sparsity_weight: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        S.require(self.code >= 1, "code", self.code, "must be >= 1")
        for width in self.hidden:
            S.require(width >= 1, "hidden", list(self.hidden), "layer widths must be >= 1")
        check_units(self.activation, self.output, self.cost, self.init)
        check_objective(
            list(self.hidden),
            self.activation,
            self.output,
            self.cost,
            self.noise,
            self.noise_kind,
            self.contractive,
            self.sparsity,
            self.sparsity_weight,
        )

    def size(self, n_in: int, n_out: int) -> tuple[float, float, str, Any]:
        """The output layer has ``n_in`` units (a reconstruction), whatever ``n_out`` is."""
        sizes = _widths(n_in, self.hidden, self.code)
        params = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
        return float(params), float(sum(sizes)), "model.code", self.code


def check_objective(
    hidden, act, output, cost_name, noise, noise_kind, contractive, sparsity, sparsity_weight
) -> None:
    """The ranges and combinations the objective needs; one line naming the bad value."""
    S.require(output in ACTIVATIONS, "output", output, "choose one of: " + ", ".join(ACTIVATIONS))
    S.one_of("cost", cost_name, RECON_COSTS)
    S.require(
        cost_name != "cross_entropy" or output == "sigmoid",
        "cost",
        cost_name,
        f"cross_entropy needs output 'sigmoid' (got {output!r}); use cost: quadratic",
    )
    S.fraction("noise", noise)
    S.one_of("noise_kind", noise_kind, NOISE_KINDS)
    S.at_least("contractive", contractive, 0)
    if contractive > 0:
        S.require(
            not hidden,
            "contractive",
            contractive,
            f"the penalty needs a one-layer encoder (hidden: []), not hidden={hidden}",
        )
        S.require(
            act in CONTRACTIVE_CODES,
            "contractive",
            contractive,
            f"the penalty needs a sigmoid or tanh code, not activation={act!r}",
        )
    S.require(0 < sparsity < 1, "sparsity", sparsity, "must be in (0, 1)")
    S.at_least("sparsity_weight", sparsity_weight, 0)
    if sparsity_weight > 0:
        S.require(
            act == "sigmoid",
            "activation",
            act,
            f"sparsity_weight={sparsity_weight} needs a sigmoid code (mean activations in (0, 1))",
        )


def _widths(n_in: int, hidden, code: int) -> list[int]:
    hidden = [int(h) for h in hidden]
    return [int(n_in), *hidden, int(code), *reversed(hidden), int(n_in)]


class Autoencoder(FlatModel):
    """Layers of widths ``n_in, *hidden, code, *reversed(hidden), n_in`` in one Layout
    (``W{l}``, ``b{l}``); layer ``len(hidden)`` outputs the code."""

    def __init__(
        self,
        n_in: int,
        code: int,
        hidden: list[int] | None = None,
        activation: str = "sigmoid",
        output: str = "sigmoid",
        cost: str = "cross_entropy",
        init: str = "glorot",
        noise: float = 0.0,
        noise_kind: str = "mask",
        contractive: float = 0.0,
        sparsity: float = 0.05,
        sparsity_weight: float = 0.0,
        dtype: str = "float32",
        rng: np.random.Generator | None = None,
    ) -> None:
        hidden = list(hidden or [])
        S.require(int(code) >= 1, "code", code, "must be >= 1")
        S.require(min(hidden, default=1) >= 1, "hidden", hidden, "layer widths must be >= 1")
        check_units(activation, output, cost, init)
        check_objective(
            hidden, activation, output, cost, noise, noise_kind, contractive, sparsity,
            sparsity_weight,
        )  # fmt: skip
        self.sizes = _widths(n_in, hidden, code)
        self.n_layers = len(self.sizes) - 1
        self.code_layer = len(hidden)
        self.act = _hidden(activation)
        self.out = _hidden(output)
        self.cost = _cost(cost, output)
        self.noise, self.noise_kind = float(noise), noise_kind
        self.contractive = float(contractive)
        self.sparsity, self.sparsity_weight = float(sparsity), float(sparsity_weight)
        blocks = []
        for l, (a, b) in enumerate(zip(self.sizes, self.sizes[1:])):
            blocks += [(f"W{l}", (a, b), True), (f"b{l}", (b,), False)]
        self._use(Layout(blocks, dtype))
        init_fn, rng = initialiser(init), rng or np.random.default_rng(0)
        p, g = self.layout.params, self.layout.grads
        for l, (a, b) in enumerate(zip(self.sizes, self.sizes[1:])):
            w, bias = init_fn(rng, a, b)
            p[f"W{l}"][...], p[f"b{l}"][...] = w, bias
        self.W = [p[f"W{l}"] for l in range(self.n_layers)]
        self.b = [p[f"b{l}"] for l in range(self.n_layers)]
        self.gW = [g[f"W{l}"] for l in range(self.n_layers)]
        self.gb = [g[f"b{l}"] for l in range(self.n_layers)]

    # -- inputs ----------------------------------------------------------------------------
    def _flat(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2:
            x = x.reshape(len(x), -1)
        return x if x.dtype == self.dtype else x.astype(self.dtype)

    def corrupt(self, x, rng: np.random.Generator) -> np.ndarray:
        """The training-time corruption of ``x`` (flattened): masking or Gaussian noise."""
        x = self._flat(x)
        if self.noise == 0:
            return x
        if self.noise_kind == "mask":
            keep = rng.random(x.shape, dtype=self.dtype) >= self.dtype.type(self.noise)
            return x * keep
        return x + self.dtype.type(self.noise) * rng.standard_normal(x.shape, dtype=self.dtype)

    def fit_targets(self, data) -> np.ndarray:
        """What the loss compares the output with: the clean training inputs, flattened."""
        return self._flat(data.x_train)

    # -- forward -----------------------------------------------------------------------------
    def _activations(self, x: np.ndarray, zs: list | None = None) -> list[np.ndarray]:
        """[x, a_1, ..., a_L]: every layer's output for (already flat) inputs ``x``; each
        layer's pre-activation z is appended to ``zs`` when given (for backprop)."""
        acts = [x]
        for l in range(self.n_layers):
            z = acts[-1] @ self.W[l]
            z += self.b[l]
            if zs is not None:
                zs.append(z)
            acts.append((self.out if l == self.n_layers - 1 else self.act).f(z))
        return acts

    def forward(self, x, *, train: bool = False, rng: np.random.Generator | None = None):
        """The reconstruction; in training the input is corrupted first (``rng``)."""
        x = self.corrupt(x, _rng(rng)) if train else self._flat(x)
        return self._activations(x)[-1]

    def encode(self, x) -> np.ndarray:
        """The code activations of clean inputs (eval mode)."""
        h = self._flat(x)
        for l in range(self.code_layer + 1):
            h = self.act.f(h @ self.W[l] + self.b[l])
        return h

    # -- objective ---------------------------------------------------------------------------
    def _penalties(self, code: np.ndarray) -> float:
        """The contractive and sparsity terms of the objective, given the batch's code."""
        total = 0.0
        if self.contractive:
            total += self._contractive(code)[0]
        if self.sparsity_weight:
            total += self.sparsity_weight * float(np.sum(self._kl(code.mean(0))))
        return total

    def _kl(self, rho_hat: np.ndarray) -> np.ndarray:
        rho, rho_hat = self.sparsity, np.clip(rho_hat, KL_EPS, 1 - KL_EPS)
        return rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))

    def loss(self, x, y) -> float:
        """The eval-mode objective: reconstruction cost plus the penalties (no noise)."""
        x = self._flat(x)
        y = y if y.dtype == self.dtype else y.astype(self.dtype)
        acts = self._activations(x)
        return self.cost.value(acts[-1], y) + self._penalties(acts[self.code_layer + 1])

    def loss_and_grad(self, x, y, *, rng: np.random.Generator | None = None) -> float:
        """Train-mode objective on the corrupted ``x``; writes d objective / d theta into
        ``grad``. Backpropagation as in :class:`research.nn.mlp.MLP` (rows are examples,
        delta = dC/dz of a layer), with the sparsity term's dC/dh added at the code and the
        contractive term's gradient added to the first layer's."""
        x_in = self.corrupt(x, _rng(rng))
        y = y if y.dtype == self.dtype else y.astype(self.dtype)
        zs: list[np.ndarray] = []
        acts = self._activations(x_in, zs)
        out, code = acts[-1], acts[self.code_layer + 1]
        delta = self.cost.delta(zs[-1], out, y, self.out)
        penalty, contractive = 0.0, self._contractive(code) if self.contractive else None
        if self.sparsity_weight:
            penalty += self.sparsity_weight * float(np.sum(self._kl(code.mean(0))))
        for l in range(self.n_layers - 1, -1, -1):
            if l == 0 and contractive is not None:
                delta = delta + contractive[1]
            np.matmul(acts[l].T, delta, out=self.gW[l])
            np.sum(delta, axis=0, out=self.gb[l])
            if l == 0:
                break
            da = delta @ self.W[l].T
            if l == self.code_layer + 1 and self.sparsity_weight:
                da += self._sparsity_grad(code)
            delta = da * self.act.df(zs[l - 1], acts[l])
        if contractive is not None:
            self.gW[0] += contractive[2]
            penalty += contractive[0]
        return self.cost.value(out, y) + penalty

    def _contractive(self, code: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """The penalty P = lambda/N sum_n sum_j f'(z_nj)^2 c_j, c_j = sum_i W_ij^2, of a
        one-layer encoder, and its two gradient terms: through the code's pre-activation,
        dP/dz_nj = lambda/N 2 f' f'' c_j (backprop turns it into dW and db), and the direct
        dP/dW_ij = lambda 2 W_ij mean_n f'(z_nj)^2."""
        d, dd = CONTRACTIVE_CODES[self.act.name](code)
        col, d2 = np.sum(self.W[0] ** 2, axis=0), d * d
        value = self.contractive * float(np.mean(d2 @ col))
        dz = self.dtype.type(2 * self.contractive / len(code)) * d * dd * col
        dw = self.dtype.type(2 * self.contractive) * d2.mean(0) * self.W[0]
        return value, dz, dw

    def _sparsity_grad(self, code: np.ndarray) -> np.ndarray:
        """d(beta sum_j KL(rho || rho_hat_j)) / dh_nj
        = beta/N (-rho/rho_hat_j + (1-rho)/(1-rho_hat_j))."""
        rho, rho_hat = self.sparsity, np.clip(code.mean(0), KL_EPS, 1 - KL_EPS)
        g = self.sparsity_weight * (-rho / rho_hat + (1 - rho) / (1 - rho_hat)) / len(code)
        return g.astype(self.dtype)

    # -- metrics -----------------------------------------------------------------------------
    def evaluate(self, data, split: str) -> dict[str, float]:
        """``{split}/loss`` (the eval-mode objective) and ``{split}/recon`` (mean squared error
        per input feature of the reconstruction of clean inputs); {} for an empty split."""
        x = self._flat(getattr(data, f"x_{split}"))
        if len(x) == 0:
            return {}
        loss = recon = 0.0
        for start in range(0, len(x), EVAL_CHUNK):
            xb = x[start : start + EVAL_CHUNK]
            acts = self._activations(xb)
            loss += (
                self.cost.value(acts[-1], xb) + self._penalties(acts[self.code_layer + 1])
            ) * len(xb)
            recon += float(np.sum((acts[-1] - xb).astype(np.float64) ** 2))
        return {f"{split}/loss": loss / len(x), f"{split}/recon": recon / x.size}

    def jacobian_norm(self, x) -> float:
        """Mean over ``x`` of ||d code / d input||_F^2 (eval mode): the closed form for a
        one-layer encoder, else the chain rule J = W_0 D_0 W_1 D_1 ... per example."""
        x = self._flat(x)
        if self.code_layer == 0:
            z = x @ self.W[0] + self.b[0]
            d = self.act.df(z, self.act.f(z))
            return float(np.mean((d * d) @ np.sum(self.W[0] ** 2, axis=0)))
        total = 0.0
        for start in range(0, len(x), JACOBIAN_CHUNK):
            h, jac = x[start : start + JACOBIAN_CHUNK], None
            for l in range(self.code_layer + 1):
                z = h @ self.W[l] + self.b[l]
                h = self.act.f(z)
                jac = self.W[0] if jac is None else jac @ self.W[l]
                jac = jac * self.act.df(z, h)[:, None, :]
            total += float(np.sum(jac.astype(np.float64) ** 2))
        return total / len(x)


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    return rng if rng is not None else np.random.default_rng(0)


def _hidden(name: str):
    return activation(name)


def _cost(name: str, output: str):
    return cost(name, output)


def build_autoencoder(cfg: AutoencoderModel, n_in, n_out: int, rng) -> Autoencoder:  # noqa: ARG001
    """The MODELS builder. ``n_in`` is the flat input size or one example's shape (either
    way the network reads examples flattened); ``n_out`` (classes) is not used: the output
    reconstructs the input."""
    keys = (
        "hidden", "activation", "output", "cost", "init", "noise", "noise_kind", "contractive",
        "sparsity", "sparsity_weight", "dtype",
    )  # fmt: skip
    size = int(np.prod(n_in))
    return Autoencoder(size, cfg.code, **{k: getattr(cfg, k) for k in keys}, rng=rng)
