"""Convolution and pooling layers: finite-difference gradients (float64) in every border
mode, stride and dilation; forward values against scipy.signal.correlate; output shapes,
dtypes and the one-line errors for inputs that cannot fit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.signal import correlate

from research.errors import ConfigError
from research.nn.layers import Activation, Dense, Flatten
from research.nn.layers.conv import Conv1D, Conv2D
from research.nn.layers.pool import AvgPool, GlobalAvgPool, MaxPool, Pool
from research.nn.sequential import Sequential
from tests.nn.gradcheck import check_input_grad, check_network

MODES = ("valid", "same", "full")
GRID = list(itertools.product(MODES, (1, 2), (1, 2)))  # padding, stride, dilation
GRID_IDS = [f"{p}-s{s}-d{d}" for p, s, d in GRID]


def _net(layers, in_shape, dtype="float64"):
    return Sequential(
        layers, in_shape, "softmax", "log_likelihood", "fan_in", dtype, np.random.default_rng(0)
    )


def _data(in_shape, n=3, k=2, seed=0):
    """Gaussian inputs: max-pool ties have probability zero."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *in_shape)), np.eye(k)[rng.integers(0, k, n)]


def _check_layer(layer, in_shape):
    """Parameters through a small network; the input gradient on the layer itself."""
    x, y = _data(in_shape)
    net = _net([layer, Activation("tanh"), Flatten(), Dense(2)], in_shape)
    check_network(net, x, y)
    check_input_grad(layer, x)


@pytest.mark.parametrize(("padding", "stride", "dilation"), GRID, ids=GRID_IDS)
def test_conv1d_gradients(padding, stride, dilation):
    layer = Conv1D(channels=3, kernel=3, stride=stride, dilation=dilation, padding=padding)
    _check_layer(layer, (7, 2))


@pytest.mark.parametrize(("padding", "stride", "dilation"), GRID, ids=GRID_IDS)
def test_conv2d_gradients(padding, stride, dilation):
    layer = Conv2D(
        3,
        kernel=(3, 2),
        stride=(stride, 3 - stride),
        dilation=(dilation, 2 - dilation // 2),
        padding=padding,
    )
    _check_layer(layer, (6, 5, 2))


@pytest.mark.parametrize(
    ("make", "in_shape"),
    [
        (lambda: MaxPool(2), (7, 2)),
        (lambda: MaxPool(3, stride=2), (7, 2)),  # overlapping windows
        (lambda: AvgPool(3, stride=2), (7, 2)),
        (lambda: MaxPool((2, 3), stride=(2, 1)), (6, 5, 2)),
        (lambda: AvgPool(2), (6, 5, 2)),
        (lambda: AvgPool((3, 2), stride=1), (6, 5, 2)),
        (lambda: GlobalAvgPool(), (7, 2)),
        (lambda: GlobalAvgPool(), (6, 5, 2)),
    ],
    ids=[
        "max1d",
        "max1d-overlap",
        "avg1d-overlap",
        "max2d",
        "avg2d",
        "avg2d-overlap",
        "global1d",
        "global2d",
    ],
)
def test_pooling_gradients(make, in_shape):
    layer = make()
    x, y = _data(in_shape)
    check_network(_net([Dense(3), layer, Flatten(), Dense(2)], in_shape), x, y)
    check_input_grad(layer, x)


def _dilated(w: np.ndarray, dilation) -> np.ndarray:
    """The kernel with d - 1 zeros between taps: a dilated kernel as an ordinary one."""
    shape = [d * (k - 1) + 1 for k, d in zip(w.shape, dilation, strict=False)]
    out = np.zeros((*shape, *w.shape[len(dilation) :]))
    out[tuple(slice(None, None, d) for d in dilation)] = w
    return out


def _reference(x, w, b, kernel, stride, dilation, padding):
    """Per sample and output channel: sum over input channels of scipy's correlate of each
    channel with the dilated kernel ('valid' / 'full'), then the stride; 'same' is the
    window of 'full' that starts at the left pad floor(total / 2)."""
    dims = len(kernel)
    wk = _dilated(w.reshape(*kernel, x.shape[-1], -1), dilation)
    mode = "valid" if padding == "valid" else "full"
    out = []
    for xi in x:
        maps = [
            sum(correlate(xi[..., c], wk[..., c, f], mode=mode) for c in range(x.shape[-1]))
            for f in range(w.shape[1])
        ]
        out.append(np.stack(maps, -1))
    y = np.stack(out)
    pick = []
    for a in range(dims):
        n, e, s = x.shape[1 + a], wk.shape[a], stride[a]
        if padding == "same":
            size = -(-n // s)
            left = max((size - 1) * s + e - n, 0) // 2
            pick.append(slice(e - 1 - left, e - 1 - left + (size - 1) * s + 1, s))
        else:
            pick.append(slice(None, None, s))
    return y[(slice(None), *pick)] + b


@pytest.mark.parametrize("padding", MODES)
def test_conv1d_forward_matches_scipy(padding):
    layer = Conv1D(4, kernel=4, stride=2, dilation=2, padding=padding)
    net = _net([layer], (10, 3))
    x, _ = _data((10, 3), n=2)
    y, _ = layer.forward(x, False, None)
    ref = _reference(x, layer.p["W"], layer.p["b"], (4,), (2,), (2,), padding)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    assert net.out_shape == y.shape[1:]


@pytest.mark.parametrize("padding", MODES)
def test_conv2d_forward_matches_scipy(padding):
    layer = Conv2D(3, kernel=(3, 2), stride=(2, 3), dilation=(2, 1), padding=padding)
    _net([layer], (8, 9, 2))
    x, _ = _data((8, 9, 2), n=2)
    y, _ = layer.forward(x, False, None)
    ref = _reference(x, layer.p["W"], layer.p["b"], (3, 2), (2, 3), (2, 1), padding)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("padding", "stride", "dilation", "expected"),
    [
        ("valid", 1, 1, 36),  # n - d (k - 1)
        ("valid", 1, 2, 32),
        ("valid", 2, 2, 16),  # floor((40 - 9) / 2) + 1
        ("same", 1, 3, 40),
        ("same", 3, 1, 14),  # ceil(40 / 3)
        ("full", 1, 1, 44),  # n + d (k - 1)
        ("full", 1, 2, 48),
        ("full", 2, 1, 22),  # floor((40 + 5 - 2) / 2) + 1
    ],
)
def test_output_lengths(padding, stride, dilation, expected):
    net = _net([Conv1D(6, 5, stride, dilation, padding)], (40, 1))
    assert net.out_shape == (expected, 6)
    net2 = _net([Conv2D(6, (5, 1), (stride, 1), (dilation, 1), padding)], (40, 3, 1))
    assert net2.out_shape == (expected, 3, 6)  # a width-1 kernel keeps the width


def test_pool_shapes_and_values():
    x, _ = _data((7, 5, 2), n=2)
    net = _net([MaxPool(2)], (7, 5, 2))
    assert net.out_shape == (3, 2, 2)  # floor((n - 2) / 2) + 1: the last row and column dropped
    y, _ = net.layers[0].forward(x, False, None)
    ref = x[:, :6, :4].reshape(2, 3, 2, 2, 2, 2).max(axis=(2, 4))
    np.testing.assert_array_equal(y, ref)
    layer = Pool("avg", 3, stride=2)
    assert _net([layer], (7, 2)).out_shape == (3, 2)
    y, _ = layer.forward(x[:, :, 0], False, None)
    np.testing.assert_allclose(y[:, 1], x[:, 2:5, 0].mean(1))
    assert _net([GlobalAvgPool()], (7, 5, 2)).out_shape == (2,)


def test_max_pool_ties_route_to_the_first():
    layer = MaxPool(3)
    _net([layer], (3, 1))
    y, cache = layer.forward(np.ones((1, 3, 1)), True, None)
    np.testing.assert_array_equal(
        layer.backward(np.full((1, 1, 1), 5.0), cache)[0, :, 0], [5.0, 0.0, 0.0]
    )


@pytest.mark.parametrize(
    ("layers", "in_shape"),
    [
        (lambda: [Conv1D(4, 3, 2, 2, "same"), MaxPool(2), Conv1D(3, 2, padding="full")], (9, 2)),
        (lambda: [Conv2D(4, 3, padding="same"), AvgPool(2), Conv2D(3, 2, dilation=2)], (6, 7, 2)),
        (lambda: [Conv2D(4, 3), GlobalAvgPool()], (6, 7, 2)),
    ],
    ids=["1d", "2d", "global"],
)
def test_float32_stays_float32(layers, in_shape):
    net = _net([*layers(), Flatten(), Dense(2)], in_shape, dtype="float32")
    x, y = _data(in_shape)
    net.loss_and_grad(x.astype(np.float32), y.astype(np.float32))
    assert net.grad.dtype == np.float32 and np.all(np.isfinite(net.grad))
    h = x.astype(np.float32)
    for layer in net.layers:
        out, cache = layer.forward(h, True, None)
        assert out.dtype == np.float32, type(layer).__name__
        assert layer.backward(np.ones_like(out), cache).dtype == np.float32
        h = out


@pytest.mark.parametrize(
    ("make", "in_shape", "message"),
    [
        (
            lambda: Conv1D(8, 9),
            (5, 1),
            r"^conv kernel 9 \(dilation 1\) is longer than the padded input \(length 5\): use a "
            r"smaller model.kernel or padding=same\|full$",
        ),
        (lambda: Conv1D(8, 3, dilation=3), (6, 1), r"^conv kernel 3 \(dilation 3\) .*length 6"),
        (lambda: Conv2D(8, (2, 4)), (6, 3, 1), r"^conv kernel 4 \(dilation 1\) .*\(width 3\)"),
        (
            lambda: Conv2D(8, 3),
            (40, 1),
            r"^a 2-D convolution needs image inputs \(H, W, C\), got shape \(40, 1\): use "
            r"model.dims=1$",
        ),
        (
            lambda: Conv1D(8, 3),
            (28, 28, 1),
            r"^a 1-D convolution needs sequence inputs \(T, C\), .*use model.dims=2$",
        ),
        (lambda: Conv1D(8, 3, stride=0), None, r"^conv stride=0 is not allowed: must be"),
        (lambda: Conv2D(8, 3, dilation=(1, 0)), None, r"^conv dilation=\(1, 0\) is not allowed"),
        (lambda: Conv1D(8, 0), None, r"^conv kernel=0 is not allowed"),
        (lambda: Conv1D(0, 3), None, r"^conv channels=0 is not allowed"),
        (
            lambda: Conv1D(8, 3, padding="narrow"),
            None,
            r"^conv padding='narrow' is not allowed: choose one of: full, same, valid$",
        ),
        (lambda: MaxPool(0), None, r"^pool size=0 is not allowed: must be a whole number >= 1"),
        (lambda: AvgPool(2, stride=0), None, r"^pool stride=0 is not allowed"),
        (lambda: Pool("min", 2), None, r"^pool kind='min' is not allowed: choose one of: avg, max"),
        (lambda: MaxPool(4), (3, 2), r"^pool size 4 is larger than its input \(length 3\)"),
        (lambda: MaxPool(2), (10,), r"^max pooling needs sequence \(T, C\) or image"),
        (lambda: GlobalAvgPool(), (10,), r"^global average pooling needs sequence"),
    ],
)
def test_errors_are_one_line(make, in_shape, message):
    with pytest.raises(ConfigError, match=message) as err:
        _net([make(), Flatten(), Dense(2)], in_shape)
    assert "\n" not in str(err.value)
