"""Data loaders: shapes, splits, determinism, cache, and MNIST from files the test writes."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from research.data import DATASETS, load_dataset
from research.errors import ConfigError, ResearchError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist.npz"


@pytest.mark.parametrize(
    "name", ["mnist1d", "digits", "xor", "parity", "spirals", "logistic_map", "sine"]
)
def test_every_loader_is_deterministic_and_typed(name):
    a = load_dataset(name, seed=1)
    b = load_dataset(name, seed=1)
    for split in ("train", "val", "test"):
        xa, xb = getattr(a, f"x_{split}"), getattr(b, f"x_{split}")
        assert xa.dtype == np.float32 and np.array_equal(xa, xb)
        assert np.array_equal(getattr(a, f"y_{split}"), getattr(b, f"y_{split}"))
    if a.kind == "classification":
        assert a.y_train.dtype == np.int64 and a.y_train.max() < a.n_classes
    assert load_dataset(name, seed=1, dtype="float64").x_train.dtype == np.float64


@pytest.mark.parametrize("name", ["mnist1d", "digits", "spirals"])
def test_splits_are_disjoint_and_depend_on_the_seed(name):
    d = load_dataset(name, seed=0)
    rows = lambda x: {r.tobytes() for r in x}  # noqa: E731
    assert not rows(d.x_train) & rows(d.x_val)
    assert not rows(d.x_val) & rows(d.x_test)
    assert not np.array_equal(d.x_val, load_dataset(name, seed=5).x_val)


def test_mnist1d_has_the_published_sizes_and_is_cached(tmp_path, monkeypatch):
    d = load_dataset("mnist1d", seed=0, cache_dir=str(tmp_path))
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (3200, 800, 1000)
    assert d.x_train.shape[1] == 40 and d.n_classes == 10
    assert list(tmp_path.glob("mnist1d-*.npz"))
    import mnist1d.data

    monkeypatch.setattr(mnist1d.data, "make_dataset", lambda *a: pytest.fail("regenerated"))
    again = load_dataset("mnist1d", seed=0, cache_dir=str(tmp_path))
    assert np.array_equal(again.x_test, d.x_test)


def test_logistic_map_exemplars_follow_the_map_and_chain():
    d = load_dataset("logistic_map", seed=3, dtype="float64")
    assert np.allclose(d.y_train, 4 * d.x_train * (1 - d.x_train))
    assert np.array_equal(d.x_train[1:], d.y_train[:-1])
    assert d.x_val[0, 0] == d.y_train[-1, 0]


def test_xor_and_parity_labels():
    x = load_dataset("xor", seed=0)
    assert list(x.y_train) == [0, 1, 1, 0]
    p = load_dataset("parity", seed=0, n_bits=5)
    assert len(p.x_train) == 32 and np.array_equal(p.y_train, p.x_train.sum(1).astype(int) % 2)
    s = load_dataset("spirals", seed=0)
    all_y = np.concatenate([s.y_train, s.y_val, s.y_test])
    assert np.sum(all_y == 0) == np.sum(all_y == 1)


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> None:
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    payload = header + array.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(payload)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_idx_files(tmp_path, gz):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (20, 28, 28)),
        "y_train": rng.integers(0, 10, 20),
        "x_test": rng.integers(0, 256, (5, 28, 28)),
        "y_test": rng.integers(0, 10, 5),
    }
    names = {
        "x_train": "train-images-idx3-ubyte",
        "y_train": "train-labels-idx1-ubyte",
        "x_test": "t10k-images-idx3-ubyte",
        "y_test": "t10k-labels-idx1-ubyte",
    }
    for k, stem in names.items():
        write_idx(tmp_path / (stem + (".gz" if gz else "")), arrays[k], gz)
    d = load_dataset("mnist", seed=0, path=str(tmp_path), n_train=15, n_val=5)
    assert d.x_train.shape == (15, 784) and d.x_val.shape == (5, 784)
    assert np.allclose(d.x_train[0], arrays["x_train"][0].ravel() / 255)
    assert np.array_equal(d.y_test, arrays["y_test"])
    np.savez(tmp_path / "m.npz", **arrays)
    from_npz = load_dataset("mnist", seed=0, path=str(tmp_path / "m.npz"), n_train=15, n_val=5)
    assert np.array_equal(from_npz.x_val, d.x_val)


def test_mnist_problems_are_one_line_errors_naming_the_path(tmp_path):
    with pytest.raises(ResearchError, match="MNIST not found at .*nowhere") as info:
        load_dataset("mnist", seed=0, path=str(tmp_path / "nowhere"))
    assert "\n" not in str(info.value)
    bad = tmp_path / "bad"
    bad.mkdir()
    for stem in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        (bad / stem).write_bytes(b"\x01\x02\x03\x04rubbish")
    with pytest.raises(ResearchError, match="bad magic"):
        load_dataset("mnist", seed=0, path=str(bad))
    write_idx(bad / "train-images-idx3-ubyte", np.zeros((3, 28, 28)))
    raw = (bad / "train-images-idx3-ubyte").read_bytes()
    (bad / "train-images-idx3-ubyte").write_bytes(raw[:-10])
    with pytest.raises(ResearchError, match="truncated"):
        load_dataset("mnist", seed=0, path=str(bad))


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data/mnist.npz not present")
def test_shared_mnist_has_the_official_checksums_and_nielsens_split():
    expected = {
        "x_train": "6bbc9ace898e44ae57da46a324031adb",
        "x_test": "2646ac647ad5339dbf082846283269ea",
        "y_train": "a25bea736e30d166cdddb491f175f624",
        "y_test": "27ae3e4e09519cfbb04c329615203637",
    }
    with np.load(SHARED, allow_pickle=False) as f:
        for key, md5 in expected.items():
            a = f[key]
            magic = bytes([0, 0, 8, a.ndim]) + np.array(a.shape, ">u4").tobytes()
            assert hashlib.md5(magic + a.tobytes()).hexdigest() == md5, key
    d = load_dataset("mnist", seed=0, path=str(SHARED))
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (50000, 10000, 10000)


def test_unknown_names_and_params_are_one_line_errors():
    with pytest.raises(ConfigError, match="unknown data set 'nosuch'; choose one of: .*mnist1d"):
        load_dataset("nosuch", seed=0)
    with pytest.raises(ConfigError, match="unknown setting 'bogus' for data set 'xor'"):
        load_dataset("xor", seed=0, bogus=1)
    with pytest.raises(ConfigError, match="n_bits"):
        load_dataset("parity", seed=0, n_bits=40)
    assert set(DATASETS) >= {
        "mnist1d",
        "digits",
        "mnist",
        "xor",
        "parity",
        "spirals",
        "logistic_map",
        "sine",
    }
