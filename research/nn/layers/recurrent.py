"""Recurrent layers trained by backpropagation through time: Elman (:class:`SimpleRNN`),
:class:`LSTM` (optional peepholes), :class:`GRU`, the :class:`Bidirectional` wrapper, and
:class:`LastStep` for sequence-to-one outputs.

Every recurrent layer maps (N, T, C) to the whole sequence (N, T, H) from a zero initial
state; put :class:`LastStep` after it to read only h_T. The input projection of all steps is
one matmul before the time loop, and the weight and input gradients one (batched) matmul
each after the backward loop, which only does the per-step recurrent work. The gates'
weights sit side by side in one (C, G*H) matrix ``W``, one (H, G*H) matrix ``U`` and one
(G*H,) bias ``b``; W and b come from the model's initialiser, U is orthogonal per gate
block by default (``orthogonal=False``: the initialiser's too).
Internally arrays are time-major and feature-major, (T, features, N), so every gate of a
step is one contiguous (H, N) block (numpy's elementwise loops are many times slower on the
strided column slices a (N, G*H) layout would give).

After ``backward`` a layer keeps ``grad_norms``: for each t, the batch mean of the per-example
L2 norm of dLoss/dh_t (direct plus through later steps) -- the vanishing-gradient figure.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from research import schema as S
from research.errors import ConfigError
from research.nn.functions import activation as activation_named
from research.nn.layers.base import Layer, Shape


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random n x n orthogonal matrix (QR of a Gaussian one, signs fixed so the draw is
    uniform and deterministic from ``rng``; Saxe et al. 2014)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _sigmoid(x: np.ndarray) -> None:
    """In place, as (1 + tanh(x / 2)) / 2: numpy's vectorised tanh is several times faster
    than scipy's expit in float32."""
    x *= 0.5
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5


def _norms(dh: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write each example's L2 norm of dLoss/dh_t (H, N) into ``out``; return ``dh``."""
    np.sqrt(np.einsum("hn,hn->n", dh, dh), out=out)
    return dh


class _Recurrent(Layer):
    """What the three recurrent cells share: sizes, blocks, initialisation, the batched input
    projection and the batched weight / input gradients around the per-step loops."""

    #: gates per unit (blocks of H columns in W, U and b)
    n_gates = 1

    def __init__(self, units: int, orthogonal: bool = True) -> None:
        S.positive("units", units)
        self.units, self.orthogonal = int(units), bool(orthogonal)
        self.grad_norms = np.zeros(0)

    def build(self, in_shape: Shape) -> Shape:
        if len(in_shape) != 2:
            raise ConfigError(
                f"{type(self).__name__} needs sequences (T, C); got input shape {tuple(in_shape)}"
            )
        super().build(in_shape)
        self.n_in = int(in_shape[-1])
        return (int(in_shape[0]), self.units)

    def blocks(self):
        g = self.n_gates * self.units
        return [("W", (self.n_in, g), True), ("U", (self.units, g), True), ("b", (g,), False)]

    def initialise(self, rng, init) -> None:
        """W and b from the model's initialiser; U orthogonal per gate block (or from the
        initialiser when ``orthogonal=False``)."""
        h, g = self.units, self.n_gates * self.units
        self.p["W"][...], self.p["b"][...] = init(rng, self.n_in, g)
        if self.orthogonal:
            self.p["U"][...] = np.hstack([_orthogonal(rng, h) for _ in range(self.n_gates)])
        else:
            self.p["U"][...] = init(rng, h, g)[0]

    def forward(self, x, train, rng):
        n, t, c = x.shape
        xs = np.ascontiguousarray(x.transpose(2, 1, 0))  # (C, T, N)
        w, x2 = self.p["W"].T, xs.reshape(c, t * n)
        # every step's input projection at once; one channel (MNIST-1D) is an outer product,
        # which OpenBLAS computes ~20x slower than broadcasting does
        xw = w * x2 if c == 1 else w @ x2
        xw += self.p["b"][:, None]
        hs = np.zeros((t + 1, self.units, n), xw.dtype)  # hs[0] is the zero initial state
        acts = np.empty((t if train else 1, len(xw), n), xw.dtype)  # gate values per step
        if not train:  # nothing to keep: every step writes the same buffer
            acts = np.lib.stride_tricks.as_strided(
                acts, (t, *acts.shape[1:]), (0, *acts.strides[1:])
            )
        extra = self._scan(xw.reshape(-1, t, n), acts, hs)
        y = hs[1:].transpose(2, 0, 1)  # (N, T, H), a view of the (T, H, N) states
        return y, ((xs, hs, acts, extra) if train else None)

    def backward(self, dy, cache):
        xs, hs, acts, extra = cache
        c, t, n = xs.shape
        norms = np.empty((t, n))
        dyt = np.ascontiguousarray(dy.transpose(1, 2, 0))  # (T, H, N)
        dax, dah = self._bptt(dyt, hs, acts, extra, norms)  # (T, G*H, N) each
        xt = xs.transpose(1, 0, 2)  # (T, C, N)
        self.g["W"][...] = np.matmul(xt, dax.transpose(0, 2, 1)).sum(0)
        self.g["U"][...] = np.matmul(hs[:-1], dah.transpose(0, 2, 1)).sum(0)
        np.sum(dax, axis=(0, 2), out=self.g["b"])
        self.example_grad_norms = norms
        self.grad_norms = norms.mean(axis=1)
        return np.matmul(self.p["W"], dax).transpose(2, 0, 1)  # (T, C, N) -> (N, T, C)

    def _preact(self, xw: np.ndarray, h: np.ndarray, out: np.ndarray) -> np.ndarray:
        """out = (h_{t-1} U)^T + (x_t W + b)^T, shape (G*H, N)."""
        np.matmul(self.p["U"].T, h, out=out)
        out += xw
        return out

    def _scan(self, xw: np.ndarray, acts: np.ndarray, hs: np.ndarray):
        """Run the steps from the projected inputs ``xw`` (G*H, T, N), writing the gate
        values into ``acts[t]`` and h_t into ``hs[t + 1]``; return what :meth:`_bptt` needs
        besides them."""
        raise NotImplementedError

    def _bptt(self, dy, hs, acts, extra, norms: np.ndarray):
        """Backward through time from dy (T, H, N); fill ``norms[t]`` with |dLoss/dh_t| per
        example; return dLoss/d(pre-activations) for W and b, and for U (T, G*H, N)."""
        raise NotImplementedError


class SimpleRNN(_Recurrent):
    """Elman: h_t = f(x_t W + h_{t-1} U + b), f = tanh by default."""

    def __init__(self, units: int, activation: str = "tanh", orthogonal: bool = True) -> None:
        super().__init__(units, orthogonal)
        self.act = activation_named(activation)

    def _scan(self, xw, zs, hs):
        for t in range(zs.shape[0]):
            hs[t + 1] = self.act.f(self._preact(xw[:, t], hs[t], zs[t]))

    def _bptt(self, dy, hs, zs, extra, norms):
        u = self.p["U"]
        dact = self.act.df(zs, hs[1:])
        da = np.empty_like(zs)
        dh_next = np.zeros_like(hs[0])
        for t in range(len(zs) - 1, -1, -1):
            dh = _norms(dy[t] + dh_next, norms[t])
            np.multiply(dh, dact[t], out=da[t])
            dh_next = u @ da[t]
        return da, da


class LSTM(_Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers
    et al. 2000). Gate order in W, U, b: o, i, f, g (the sigmoid gates side by side).

        i = sigmoid(a_i + p_i * c_{t-1}),  f = sigmoid(a_f + p_f * c_{t-1}),  g = tanh(a_g)
        c_t = f * c_{t-1} + i * g,  o = sigmoid(a_o + p_o * c_t),  h_t = o * tanh(c_t)

    with a = x_t W + h_{t-1} U + b. The peephole terms (Gers & Schmidhuber 2000; block
    ``peep`` = rows p_i, p_f, p_o, initialised to 0) are there only with ``peepholes=True``.
    The forget-gate bias starts at ``forget_bias`` (1: Gers et al. 2000, Jozefowicz et al.
    2015) so the cell remembers by default."""

    n_gates = 4

    def __init__(
        self,
        units: int,
        peepholes: bool = False,
        forget_bias: float = 1.0,
        orthogonal: bool = True,
    ) -> None:
        super().__init__(units, orthogonal)
        self.peepholes, self.forget_bias = bool(peepholes), float(forget_bias)

    def blocks(self):
        peep = [("peep", (3, self.units), False)] if self.peepholes else []
        return super().blocks() + peep

    def initialise(self, rng, init) -> None:
        super().initialise(rng, init)
        h = self.units
        self.p["b"][2 * h : 3 * h] = self.forget_bias
        if self.peepholes:
            self.p["peep"][...] = 0

    def _scan(self, xw, acts, hs):
        h = self.units
        peep = self.p["peep"][:, :, None] if self.peepholes else None
        cs = np.zeros_like(hs)
        tcs = np.empty_like(hs[1:])
        for t in range(len(acts)):
            a, c_prev, c = self._preact(xw[:, t], hs[t], acts[t]), cs[t], cs[t + 1]
            o, i, f, g = a[:h], a[h : 2 * h], a[2 * h : 3 * h], a[3 * h :]
            if peep is None:
                _sigmoid(a[: 3 * h])
            else:
                i += peep[0] * c_prev
                f += peep[1] * c_prev
                _sigmoid(a[h : 3 * h])
            np.tanh(g, out=g)
            np.multiply(f, c_prev, out=c)
            c += i * g
            if peep is not None:
                o += peep[2] * c
                _sigmoid(o)
            np.tanh(c, out=tcs[t])
            np.multiply(o, tcs[t], out=hs[t + 1])
        return cs, tcs

    def _bptt(self, dy, hs, acts, extra, norms):
        cs, tcs = extra
        t_len, h, n = tcs.shape
        o, i, f, g = (acts[:, k * h : (k + 1) * h] for k in range(4))
        k_o = tcs * o * (1 - o)  # dh -> da_o
        k_c = o * (1 - tcs * tcs)  # dh -> dc
        k_ifg = np.stack([g * i * (1 - i), cs[:-1] * f * (1 - f), i * (1 - g * g)], 1)
        peep = self.p["peep"][:, :, None] if self.peepholes else None
        u = self.p["U"]
        da = np.empty((t_len, 4, h, n), acts.dtype)  # dc -> da_i, da_f, da_g: k_ifg
        dh_next, dc_next = np.zeros_like(hs[0]), np.zeros_like(hs[0])
        for t in range(t_len - 1, -1, -1):
            dh = _norms(dy[t] + dh_next, norms[t])
            dao = np.multiply(dh, k_o[t], out=da[t, 0])
            dc = dh * k_c[t]
            dc += dc_next
            if peep is not None:
                dc += dao * peep[2]
            np.multiply(dc, k_ifg[t], out=da[t, 1:])
            dc_next = dc * f[t]
            if peep is not None:
                dc_next += da[t, 1] * peep[0] + da[t, 2] * peep[1]
            dh_next = u @ da[t].reshape(4 * h, n)
        if peep is not None:
            gp = self.g["peep"]
            gp[0] = np.einsum("thn,thn->h", da[:, 1], cs[:-1])
            gp[1] = np.einsum("thn,thn->h", da[:, 2], cs[:-1])
            gp[2] = np.einsum("thn,thn->h", da[:, 0], cs[1:])
        da = da.reshape(t_len, 4 * h, n)
        return da, da


class GRU(_Recurrent):
    """Gated recurrent unit (Cho et al. 2014). Gate order in W, U, b: z, r, n.

        z = sigmoid(x_t W_z + h_{t-1} U_z + b_z),  r = sigmoid(x_t W_r + h_{t-1} U_r + b_r)
        n = tanh(x_t W_n + r * (h_{t-1} U_n) + b_n),  h_t = (1 - z) * n + z * h_{t-1}

    The reset gate acts after U_n (as cuDNN and PyTorch do, minus PyTorch's second bias
    b_hn), so the three recurrent products are one matmul per step. ``update_bias``, when
    given, is b_z's first value: positive makes a unit carry h_{t-1} at first, as the LSTM's
    forget bias does (None keeps the model initialiser's bias)."""

    n_gates = 3

    def __init__(
        self, units: int, update_bias: float | None = None, orthogonal: bool = True
    ) -> None:
        super().__init__(units, orthogonal)
        self.update_bias = None if update_bias is None else float(update_bias)

    def initialise(self, rng, init) -> None:
        super().initialise(rng, init)
        if self.update_bias is not None:
            self.p["b"][: self.units] = self.update_bias

    def _scan(self, xw, acts, hs):
        h, ut = self.units, self.p["U"].T
        hun = np.empty_like(hs[1:])  # (h_{t-1} U_n)^T, needed for dr
        for t in range(len(acts)):
            a = acts[t]  # becomes z, r, n
            np.matmul(ut[: 2 * h], hs[t], out=a[: 2 * h])
            a[: 2 * h] += xw[: 2 * h, t]
            _sigmoid(a[: 2 * h])
            np.matmul(ut[2 * h :], hs[t], out=hun[t])
            n = np.multiply(a[h : 2 * h], hun[t], out=a[2 * h :])
            n += xw[2 * h :, t]
            np.tanh(n, out=n)
            np.subtract(hs[t], n, out=hs[t + 1])
            hs[t + 1] *= a[:h]
            hs[t + 1] += n
        return hun

    def _bptt(self, dy, hs, acts, hun, norms):
        h, u = self.units, self.p["U"]
        z, r, n = (acts[:, k * h : (k + 1) * h] for k in range(3))
        k_z = (hs[:-1] - n) * z * (1 - z)  # dh -> da_z
        k_n = (1 - z) * (1 - n * n)  # dh -> da_n
        k_r = hun * r * (1 - r)  # da_n -> da_r
        dax, dah = np.empty_like(acts), np.empty_like(acts)  # for W and b; for U
        dh_next = np.zeros_like(hs[0])
        for t in range(len(acts) - 1, -1, -1):
            dh = _norms(dy[t] + dh_next, norms[t])
            np.multiply(dh, k_z[t], out=dah[t, :h])
            dan = np.multiply(dh, k_n[t], out=dax[t, 2 * h :])
            np.multiply(dan, k_r[t], out=dah[t, h : 2 * h])
            np.multiply(dan, r[t], out=dah[t, 2 * h :])
            dh_next = dh * z[t]
            dh_next += u @ dah[t]
        dax[:, : 2 * h] = dah[:, : 2 * h]
        return dax, dah


class Bidirectional(Layer):
    """Two recurrent layers, one over the sequence and one over it reversed, their outputs
    concatenated per step: (N, T, H_fw + H_bw) (Schuster & Paliwal 1997). Give one layer
    (copied, so each direction has its own parameters), a factory, or both layers. Blocks
    are prefixed ``fw.`` and ``bw.``."""

    def __init__(self, layer: Layer | Callable[[], Layer], backward: Layer | None = None) -> None:
        if backward is not None:
            self.fw, self.bw = layer, backward
        elif isinstance(layer, Layer):
            self.fw, self.bw = copy.deepcopy(layer), copy.deepcopy(layer)
        else:
            self.fw, self.bw = layer(), layer()
        self.grad_norms = np.zeros(0)

    def build(self, in_shape: Shape) -> Shape:
        super().build(in_shape)
        self.fw.dtype = self.bw.dtype = self.dtype
        out_fw, out_bw = self.fw.build(in_shape), self.bw.build(in_shape)
        self.split = out_fw[-1]
        return (*out_fw[:-1], out_fw[-1] + out_bw[-1])

    def blocks(self):
        return [(f"fw.{n}", s, d) for n, s, d in self.fw.blocks()] + [
            (f"bw.{n}", s, d) for n, s, d in self.bw.blocks()
        ]

    def bind(self, params, grads) -> None:
        super().bind(params, grads)
        for prefix, layer in (("fw.", self.fw), ("bw.", self.bw)):
            k = len(prefix)
            layer.bind(
                {n[k:]: v for n, v in params.items() if n.startswith(prefix)},
                {n[k:]: v for n, v in grads.items() if n.startswith(prefix)},
            )

    def initialise(self, rng, init) -> None:
        self.fw.initialise(rng, init)
        self.bw.initialise(rng, init)

    def forward(self, x, train, rng):
        y_fw, c_fw = self.fw.forward(x, train, rng)
        y_bw, c_bw = self.bw.forward(x[:, ::-1], train, rng)
        y = np.concatenate([y_fw, y_bw[:, ::-1]], axis=-1)
        return y, ((c_fw, c_bw) if train else None)

    def backward(self, dy, cache):
        c_fw, c_bw = cache
        dx = self.fw.backward(dy[..., : self.split], c_fw)
        dx = dx + self.bw.backward(dy[:, ::-1, self.split :], c_bw)[:, ::-1]
        norms_fw = getattr(self.fw, "example_grad_norms", None)
        norms_bw = getattr(self.bw, "example_grad_norms", None)
        if norms_fw is not None and norms_bw is not None:  # |dLoss/d[h_fw, h_bw]_t|
            self.grad_norms = np.sqrt(norms_fw**2 + norms_bw[::-1] ** 2).mean(axis=1)
        return dx

    def state(self):
        return {
            f"{p}.{k}": v
            for p, layer in (("fw", self.fw), ("bw", self.bw))
            for k, v in layer.state().items()
        }

    def load_state(self, state) -> None:
        for prefix, layer in (("fw.", self.fw), ("bw.", self.bw)):
            mine = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            layer.load_state({k: v for k, v in mine.items() if k in layer.state()})


class LastStep(Layer):
    """Sequence to one: (N, T, H) -> (N, H), the last step's output (h_T). The gradient
    reaches the earlier steps only through the recurrence."""

    def build(self, in_shape: Shape) -> Shape:
        if len(in_shape) != 2:
            raise ConfigError(f"LastStep needs sequences (T, H); got input shape {in_shape}")
        super().build(in_shape)
        return (int(in_shape[-1]),)

    def forward(self, x, train, rng):
        return x[:, -1], x.shape

    def backward(self, dy, shape):
        n, t, h = shape
        dx = np.zeros((t, h, n), dy.dtype).transpose(2, 0, 1)  # the recurrent layers' layout
        dx[:, -1] = dy
        return dx
