"""Conditional GAN (Goodfellow et al. 2014; Mirza & Osindero 2014): a generator G(z, y) and a
discriminator D(x, y), both MLPs reading a one-hot class y concatenated to their input.

The notes' costs, computed from D's logits a (real) and b (fake) with softplus, which is
stable where log sigmoid is not (-log sigmoid(a) = softplus(-a), -log(1 - sigmoid(b)) =
softplus(b)):

    J_D = -1/2 E_x log D(x, y) - 1/2 E_z log(1 - D(G(z, y), y))
        =  1/2 mean softplus(-a) + 1/2 mean softplus(b)
    J_G = -1/2 E_z log D(G(z, y), y) = 1/2 mean softplus(-b)     (non-saturating)

Each net's parameters are one flat vector (its own :class:`Layout`), trained by its own
optimiser in :func:`research.train.adversarial.fit_adversarial`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

from research import schema as S
from research.data.dataset import Dataset
from research.data.mixtures import mode_quality
from research.errors import ConfigError
from research.nn.functions import ACTIVATIONS, INITIALISERS, initialiser
from research.nn.layers import Activation, Dense
from research.nn.layout import Layout
from research.nn.schema import ModelConfig

#: the fixed generator of the validation samples: the same z and y every epoch
EVAL_SEED = 0


@dataclass
class GANModel(ModelConfig):
    """Conditional GAN (research/nn/gan.py): MLP generator and discriminator."""

    name: str = "gan"
    z_dim: int = 8
    g_hidden: list[int] = field(default_factory=lambda: [64, 64])
    d_hidden: list[int] = field(default_factory=lambda: [64, 64])
    g_activation: str = "relu"
    d_activation: str = "leaky_relu"
    init: str = "he"
    d_lr: float = 1e-3
    g_lr: float = 1e-3
    d_steps: int = 1
    samples: int = 2000

    def __post_init__(self) -> None:
        super().__post_init__()
        S.require(self.z_dim >= 1, "z_dim", self.z_dim, "must be >= 1")
        for key in ("g_hidden", "d_hidden"):
            for width in getattr(self, key):
                S.require(width >= 1, key, list(getattr(self, key)), "layer widths must be >= 1")
        S.one_of("g_activation", self.g_activation, ACTIVATIONS)
        S.one_of("d_activation", self.d_activation, ACTIVATIONS)
        S.one_of("init", self.init, INITIALISERS)
        S.positive("d_lr", self.d_lr)
        S.positive("g_lr", self.g_lr)
        S.require(self.d_steps >= 1, "d_steps", self.d_steps, "must be >= 1")
        S.require(self.samples >= 1, "samples", self.samples, "must be >= 1")

    def size(self, n_in: int, n_out: int) -> tuple[float, float, str, Any]:
        """Both nets: G (z_dim + classes -> n_in), D (n_in + classes -> 1)."""
        g = [self.z_dim + n_out, *self.g_hidden, n_in]
        d = [n_in + n_out, *self.d_hidden, 1]
        params = sum((a + 1) * b for w in (g, d) for a, b in zip(w, w[1:]))
        return float(params), float(sum(g) + sum(d)), "model.g_hidden", self.g_hidden


def d_cost(real: np.ndarray, fake: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """J_D from D's logits on real and generated examples; its gradients w.r.t. both."""
    value = 0.5 * np.mean(np.logaddexp(0, -real)) + 0.5 * np.mean(np.logaddexp(0, fake))
    return float(value), -0.5 * expit(-real) / len(real), 0.5 * expit(fake) / len(fake)


def g_cost(fake: np.ndarray) -> tuple[float, np.ndarray]:
    """Non-saturating J_G from D's logits on generated examples; its gradient w.r.t. them."""
    return float(0.5 * np.mean(np.logaddexp(0, -fake))), -0.5 * expit(-fake) / len(fake)


class MLPStack:
    """Dense/activation layers over one flat vector: ``theta``, ``grad``; forward keeps the
    caches that backward (which assigns ``grad``, returning dLoss/dInput) needs."""

    def __init__(self, widths, act: str, init: str, dtype: str, rng) -> None:
        self.layers = []
        for width in widths[1:-1]:
            self.layers += [Dense(width), Activation(act)]
        self.layers.append(Dense(widths[-1]))
        shape = (widths[0],)
        for layer in self.layers:
            layer.dtype = np.dtype(dtype)
            shape = layer.build(shape)
        blocks = [
            (f"{i}.{n}", s, decays)
            for i, layer in enumerate(self.layers)
            for n, s, decays in layer.blocks()
        ]
        self.layout = Layout(blocks, dtype)
        self.theta, self.grad = self.layout.theta, self.layout.grad
        self.decay_mask = self.layout.decay_mask
        init_fn = initialiser(init)
        p, g = self.layout.params, self.layout.grads
        for i, layer in enumerate(self.layers):
            names = [n for n, _, _ in layer.blocks()]
            layer.bind({n: p[f"{i}.{n}"] for n in names}, {n: g[f"{i}.{n}"] for n in names})
            layer.initialise(rng, init_fn)

    def forward(self, x: np.ndarray, caches: list | None = None) -> np.ndarray:
        for layer in self.layers:
            x, cache = layer.forward(x, caches is not None, None)
            if caches is not None:
                caches.append(cache)
        return x

    def backward(self, delta: np.ndarray, caches: list) -> np.ndarray:
        for layer, cache in zip(reversed(self.layers), reversed(caches), strict=True):
            delta = layer.backward(delta, cache)
        return delta


class GAN:
    """G(z, y) -> x and D(x, y) -> logit, conditional on the one-hot class y."""

    #: trained by research.train.adversarial, not by fit's single-loss loop
    adversarial = True
    trains_by_gradient = True

    def __init__(self, n_data: int, n_classes: int, cfg: GANModel, rng) -> None:
        self.n_data, self.n_classes, self.z_dim = int(n_data), int(n_classes), cfg.z_dim
        self.dtype = np.dtype(cfg.dtype)
        self.d_lr, self.g_lr, self.d_steps, self.samples = (
            cfg.d_lr,
            cfg.g_lr,
            cfg.d_steps,
            cfg.samples,
        )
        g_widths = [cfg.z_dim + n_classes, *cfg.g_hidden, n_data]
        d_widths = [n_data + n_classes, *cfg.d_hidden, 1]
        self.G = MLPStack(g_widths, cfg.g_activation, cfg.init, cfg.dtype, rng)
        self.D = MLPStack(d_widths, cfg.d_activation, cfg.init, cfg.dtype, rng)
        self.n_params = self.G.layout.size + self.D.layout.size

    def onehot(self, labels: np.ndarray) -> np.ndarray:
        return np.eye(self.n_classes, dtype=self.dtype)[labels]

    def noise(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.standard_normal((n, self.z_dim)).astype(self.dtype)

    def generate(self, z: np.ndarray, y: np.ndarray, caches: list | None = None) -> np.ndarray:
        """G(z, y) for noise ``z`` and one-hot ``y``."""
        return self.G.forward(np.concatenate([z, y], axis=1), caches)

    def logits(self, x: np.ndarray, y: np.ndarray, caches: list | None = None) -> np.ndarray:
        """D's logit of (x, y) being real, shape (n,)."""
        return self.D.forward(np.concatenate([x, y], axis=1), caches)[:, 0]

    def sample(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Generated examples of classes ``labels``."""
        return self.generate(self.noise(len(labels), rng), self.onehot(labels))

    def d_loss_and_grad(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> float:
        """J_D on real ``x`` and G(z, y) (G held fixed); writes dJ_D/d theta_D to D.grad."""
        fake = self.generate(z, y)
        caches: list = []
        out = self.logits(np.concatenate([x, fake]), np.concatenate([y, y]), caches)
        value, d_real, d_fake = d_cost(out[: len(x)], out[len(x) :])
        self.D.backward(np.concatenate([d_real, d_fake])[:, None].astype(self.dtype), caches)
        return value

    def g_loss_and_grad(self, y: np.ndarray, z: np.ndarray) -> float:
        """J_G of G(z, y) through D (D held fixed); writes dJ_G/d theta_G to G.grad (and
        overwrites D.grad, which the next D step recomputes)."""
        g_caches: list = []
        d_caches: list = []
        fake = self.generate(z, y, g_caches)
        value, d_fake = g_cost(self.logits(fake, y, d_caches))
        dx = self.D.backward(d_fake[:, None].astype(self.dtype), d_caches)
        self.G.backward(dx[:, : self.n_data], g_caches)
        return value

    def costs(self, x: np.ndarray, labels: np.ndarray, rng) -> tuple[float, float]:
        """(J_D, J_G) of real ``x`` of classes ``labels`` and as many generated examples."""
        y = self.onehot(labels)
        fake = self.logits(self.generate(self.noise(len(x), rng), y), y)
        return d_cost(self.logits(x, y), fake)[0], g_cost(fake)[0]

    def evaluate(self, data: Dataset, split: str) -> dict[str, float]:
        """``split/d_loss``, ``split/g_loss``, and for a mixture with known modes (ring8)
        ``split/modes``, ``split/high_quality``, ``split/cond_acc``, ``split/min_mode_share``
        of ``samples`` generated examples, classes drawn uniformly (fixed z and y)."""
        x, labels = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        if len(x) == 0:
            return {}
        rng = np.random.default_rng(EVAL_SEED)
        with np.errstate(all="ignore"):
            d_loss, g_loss = self.costs(x[: self.samples], labels[: self.samples], rng)
            metrics = {f"{split}/d_loss": d_loss, f"{split}/g_loss": g_loss}
            if "modes" in data.meta:
                wanted = rng.integers(0, self.n_classes, self.samples)
                points = self.sample(wanted, rng)
                quality = mode_quality(points, wanted, data.meta["modes"], data.meta["std"])
                metrics.update({f"{split}/{k}": v for k, v in quality.items()})
        return metrics

    def state_dict(self) -> dict[str, np.ndarray]:
        nets = (("G", self.G), ("D", self.D))
        return {f"{n}.{k}": v.copy() for n, net in nets for k, v in net.layout.params.items()}

    def load_state_dict(self, state) -> None:
        for n, net in (("G", self.G), ("D", self.D)):
            for k, v in net.layout.params.items():
                v[...] = state[f"{n}.{k}"]


def build_gan(cfg: GANModel, data: Dataset, rng: np.random.Generator) -> GAN:
    """The MODELS builder (it reads the data set: a GAN conditions on class labels)."""
    if data.kind != "classification":
        raise ConfigError(
            f"a GAN needs class labels to condition on: data={data.name} is a regression data set"
        )
    if data.x_train.ndim != 2:
        raise ConfigError(
            f"a GAN generates flat vectors: data={data.name} has examples of shape "
            f"{data.x_train.shape[1:]}"
        )
    return GAN(data.x_train.shape[1], data.n_classes, cfg, rng)


#: build_model hands this builder the whole data set, not its sizes
build_gan.reads_data = True
