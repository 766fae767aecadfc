"""A network that is a stack of layers (:mod:`research.nn.layers`) over one flat parameter
vector: the CNNs, recurrent nets and maxout nets of the model groups.

The last layer gives the output pre-activations z; the network applies the output activation
and its cost, whose ``delta`` (dC/dz, divided by the batch size) starts backpropagation
through the layers in reverse. Inputs are reshaped to ``in_shape`` (a flat MNIST-1D row of 40
becomes a (40, 1) sequence; a flat MNIST row of 784 a (28, 28, 1) image).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from research.errors import ConfigError
from research.nn.functions import activation, cost, initialiser
from research.nn.layers.base import Layer, Shape
from research.nn.layout import FlatModel, Layout


class Sequential(FlatModel):
    def __init__(
        self,
        layers: Sequence[Layer],
        in_shape: Shape,
        output: str = "softmax",
        cost_name: str = "log_likelihood",
        init: str = "fan_in",
        dtype: str = "float32",
        rng: np.random.Generator | None = None,
    ) -> None:
        self.layers = list(layers)
        self.in_shape = tuple(int(s) for s in in_shape)
        self.out = activation(output, output=True)
        self.cost = cost(cost_name, output)
        shape = self.in_shape
        for layer in self.layers:
            layer.dtype = np.dtype(dtype)
            shape = layer.build(shape)
        self.out_shape = shape
        blocks = [
            (f"{i}.{name}", s, decays)
            for i, layer in enumerate(self.layers)
            for name, s, decays in layer.blocks()
        ]
        self._use(Layout(blocks, dtype))
        rng = rng or np.random.default_rng(0)
        init_fn = initialiser(init)
        for i, layer in enumerate(self.layers):
            names = [name for name, _, _ in layer.blocks()]
            p, g = self.layout.params, self.layout.grads
            layer.bind({n: p[f"{i}.{n}"] for n in names}, {n: g[f"{i}.{n}"] for n in names})
            layer.initialise(rng, init_fn)

    def _shaped(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.shape[1:] != self.in_shape:
            if math.prod(x.shape[1:]) != math.prod(self.in_shape):
                raise ConfigError(
                    f"input of shape {x.shape[1:]} does not fit the network's input shape "
                    f"{self.in_shape}"
                )
            x = x.reshape(len(x), *self.in_shape)
        return x if x.dtype == self.dtype else x.astype(self.dtype)

    def _logits(self, x, train: bool, rng, caches: list | None) -> np.ndarray:
        for layer in self.layers:
            x, cache = layer.forward(x, train, rng)
            if caches is not None:
                caches.append(cache)
        return x

    def forward(self, x, *, train: bool = False, rng: np.random.Generator | None = None):
        return self.out.f(self._logits(self._shaped(x), train, rng, None))

    def loss_and_grad(self, x, y, *, rng: np.random.Generator | None = None) -> float:
        """Train-mode forward, then each layer's backward in reverse from the cost's delta;
        writes d(mean loss)/d theta into ``grad``."""
        caches: list = []
        z = self._logits(self._shaped(x), True, rng, caches)
        out = self.out.f(z)
        y = y if y.dtype == self.dtype else y.astype(self.dtype)
        delta = self.cost.delta(z, out, y, self.out)
        for layer, cache in zip(reversed(self.layers), reversed(caches), strict=True):
            delta = layer.backward(delta, cache)
        return self.cost.value(out, y)

    def predict(self, x, chunk: int = 4096) -> np.ndarray:
        x = self._shaped(x)
        return np.concatenate([self.forward(x[i : i + chunk]) for i in range(0, len(x), chunk)])

    def state_dict(self) -> dict[str, np.ndarray]:
        state = super().state_dict()
        for i, layer in enumerate(self.layers):
            state.update({f"{i}.{k}": v for k, v in layer.state().items()})
        return state

    def load_state_dict(self, state) -> None:
        super().load_state_dict(state)
        for i, layer in enumerate(self.layers):
            mine = {k.split(".", 1)[1]: v for k, v in state.items() if k.startswith(f"{i}.")}
            layer.load_state({k: v for k, v in mine.items() if k in layer.state()})
