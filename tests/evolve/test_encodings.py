"""Encodings: direct identity and the CPPN's vectorised, batch-invariant decode."""

from __future__ import annotations

import numpy as np
import pytest

from research.errors import ConfigError
from research.evolve import make_encoding
from research.nn.elman import ElmanNet
from research.nn.mlp import MLP
from research.nn.population import mlp_forward_population


def mlp(sizes=(4, 6, 2)) -> MLP:
    return MLP(list(sizes), ["tanh"] * (len(sizes) - 2), output="linear", cost="quadratic")


def test_direct_encoding_is_the_identity():
    net = mlp()
    enc = make_encoding("direct", net)
    g = np.random.default_rng(0).normal(size=(3, net.n_params))
    assert enc.n_genes == net.n_params
    assert np.array_equal(enc.decode(g), g)


def test_cppn_decode_shape_and_determinism():
    net = mlp((4, 6, 5, 2))
    enc = make_encoding("cppn", net, hidden=8)
    assert enc.n_genes == 6 * 8 + 2 * 8 + 2
    g = np.random.default_rng(0).normal(size=(7, enc.n_genes))
    thetas = enc.decode(g)
    assert thetas.shape == (7, net.n_params) and thetas.dtype == np.float64
    assert np.array_equal(thetas, enc.decode(g.copy()))
    assert np.all(np.abs(thetas) <= 3.0)
    assert np.any(thetas == 0) and np.any(thetas != 0)  # the threshold prunes some weights
    # the decoded weights drive the template network
    out = mlp_forward_population(net, thetas, np.zeros((3, 4)))
    assert out.shape == (7, 3, 2)


def test_cppn_decode_is_batch_invariant():
    net = mlp((5, 7, 3))
    enc = make_encoding("cppn", net, hidden=5)
    g = np.random.default_rng(1).normal(size=(33, enc.n_genes))
    batch = enc.decode(g)
    for i in (0, 16, 32):
        assert np.array_equal(enc.decode(g[i : i + 1])[0], batch[i])
    assert np.array_equal(enc.decode(g[::-1])[::-1], batch)


def test_cppn_decode_is_chunk_invariant(monkeypatch):
    import research.evolve.encodings as encodings

    net = mlp((5, 7, 3))
    enc = make_encoding("cppn", net, hidden=4)
    g = np.random.default_rng(2).normal(size=(10, enc.n_genes))
    whole = enc.decode(g)
    monkeypatch.setattr(encodings, "CHUNK_ELEMENTS", 1)  # one genome per chunk
    assert np.array_equal(enc.decode(g), whole)


def test_cppn_weights_follow_substrate_geometry():
    """With a CPPN that outputs tanh(b2) only (W1 = W2 = 0), every weight and bias is the
    same expressed constant."""
    net = mlp((3, 4, 2))
    enc = make_encoding("cppn", net, hidden=3, threshold=0.2, scale=3.0)
    g = np.zeros((1, enc.n_genes))
    g[0, -2:] = [np.arctanh(0.6), np.arctanh(-0.1)]
    theta = enc.decode(g)[0]
    view = net.layout.view
    expected = 3.0 * (0.6 - 0.2) / 0.8
    assert np.allclose(view(theta, "W0"), expected) and np.allclose(view(theta, "W1"), expected)
    assert np.all(view(theta, "b0") == 0) and np.all(view(theta, "b1") == 0)  # |-0.1| < 0.2


def test_unknown_encoding_and_bad_targets():
    with pytest.raises(ConfigError, match="unknown encoding 'nosuch'; choose one of: cppn, direct"):
        make_encoding("nosuch", mlp())
    with pytest.raises(ConfigError, match="use model=mlp"):
        make_encoding("cppn", ElmanNet(2, 3, 1))
    with pytest.raises(ConfigError, match="unknown setting 'depth' for encoding 'cppn'"):
        make_encoding("cppn", mlp(), depth=2)
    with pytest.raises(ConfigError, match="threshold=1.5 is not allowed"):
        make_encoding("cppn", mlp(), threshold=1.5)
