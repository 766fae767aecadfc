"""Numbers that lie, data side: split parameters that overlap or empty a split, and user MNIST
files whose arrays are not what the loader reads them as. Each is one line, exit status 2,
before any run exists; valid data loads with disjoint, non-empty splits."""

from __future__ import annotations

import gzip
import inspect
import os
import re
from pathlib import Path

import numpy as np
import pytest

from research.data import DATASETS, check_splits, load_dataset, loaders
from research.errors import ConfigError, ResearchError
from tests.conftest import run_cli

SUM = (
    r"data\.val_fraction=0\.6 \+ data\.test_fraction=0\.6 = 1\.2 is not allowed: the "
    r"fractions must sum to less than 1 \(training keeps the rest\)"
)


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def assert_one_line_and_nothing_created(proc, root: Path, before: set[str], pattern: str):
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert tree(root) == before  # no mlruns store, no run, no folder


# ------------------------------------------------------------------------------ split sizes
def test_the_fractions_are_checked_together_with_the_values_named():
    for name in ("digits", "spirals"):
        with pytest.raises(ConfigError, match=SUM):
            check_splits(name, {"val_fraction": 0.6, "test_fraction": 0.6})
        with pytest.raises(ConfigError, match=SUM):
            load_dataset(name, seed=0, val_fraction=0.6, test_fraction=0.6)
        with pytest.raises(ConfigError, match=r"= 1 is not allowed"):  # exactly 1: no training
            load_dataset(name, seed=0, val_fraction=0.5, test_fraction=0.5)
    # shown as written, not as 0.30000000000000004
    with pytest.raises(ConfigError, match=r"=0\.7 \+ data\.test_fraction=0\.3 = 1 is not"):
        check_splits("digits", {"val_fraction": 0.7, "test_fraction": 0.3})
    check_splits("digits", {"val_fraction": 0.1, "test_fraction": 0.2})


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("mnist1d", {"val_fraction": 1.0}, r"data\.val_fraction=1\.0 .*\[0, 1\)"),
        ("mnist1d", {"val_fraction": "0.2"}, r"data\.val_fraction='0\.2' .*number"),
        ("mnist1d", {"n_train": 0}, r"data\.n_train=0 .*at least one example"),
        ("digits", {"val_fraction": -0.1}, r"data\.val_fraction=-0\.1 is not allowed"),
        ("digits", {"val_fraction": 0.6, "test_fraction": 0.6}, SUM),
        ("spirals", {"val_fraction": 0.6, "test_fraction": 0.6}, SUM),
        ("spirals", {"test_fraction": float("nan")}, r"data\.test_fraction=nan"),
        ("mnist", {"n_train": 0}, r"data\.n_train=0 .*at least one example"),
        ("mnist", {"n_val": -1}, r"data\.n_val=-1 .*>= 0"),
        ("logistic_map", {"n_train": 0}, r"data\.n_train=0"),
        ("logistic_map", {"n_test": 2.5}, r"data\.n_test=2\.5 .*whole number"),
        ("sine", {"n_train": 0}, r"data\.n_train=0"),
        ("sine", {"n_val": -3}, r"data\.n_val=-3"),
        ("recall", {"n_train": 0}, r"data\.n_train=0"),
        ("recall", {"n_test": -1}, r"data\.n_test=-1"),
        ("ring8", {"n_train": 0}, r"data\.n_train=0"),
        ("ring8", {"n_val": -2}, r"data\.n_val=-2"),
    ],
)
def test_every_split_parameter_is_checked_by_the_loader(name, params, message, tmp_path):
    """The loaders check their own parameters: evolution tasks pass ``data_params`` straight
    to them, past config validation. MNIST checks before it looks for a file."""
    with pytest.raises(ConfigError, match=message) as info:
        load_dataset(name, seed=0, **params)
    assert "\n" not in str(info.value)


def test_every_data_set_is_covered():
    """Every data set either has its split parameters checked or has none to check (xor and
    parity train, validate and test on the same complete set of patterns, by design)."""
    from research.data.checks import COUNTS, FRACTIONS

    for entry in DATASETS.items():
        name, params = entry.name, set(inspect.signature(entry.factory).parameters)
        split_params = {p for p in params if "fraction" in p or p in ("n_train", "n_val", "n_test")}
        checked = set(FRACTIONS.get(name, ())) | set(COUNTS.get(name, ()))
        assert split_params == checked, name
    for name in ("xor", "parity"):
        d = load_dataset(name, seed=0)
        assert np.array_equal(d.x_train, d.x_val) and np.array_equal(d.x_train, d.x_test)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        (
            "spirals",
            {"n_per_class": 2},
            r"data\.val_fraction=0\.2 leaves the validation split empty \(0 of 4 spirals ex",
        ),
        (
            "spirals",
            {"n_per_class": 3, "val_fraction": 0, "test_fraction": 0.1},
            r"data\.test_fraction=0\.1 leaves the test split empty",
        ),
        ("digits", {"val_fraction": 0.001}, r"data\.val_fraction=0\.001 leaves the validation"),
        (
            "digits",
            {"val_fraction": 0.7, "test_fraction": 0.2999},
            r"data\.val_fraction=0\.7 \+ data\.test_fraction=0\.2999 leaves no training examp",
        ),
        ("mnist1d", {"val_fraction": 0.999}, r"data\.val_fraction=0\.999 leaves no training"),
    ],
)
def test_a_split_that_rounds_to_nothing_is_refused(name, params, message):
    with pytest.raises(ConfigError, match=message):
        load_dataset(name, seed=0, **params)


def test_a_fraction_of_zero_asks_for_no_split_and_gets_none():
    d = load_dataset("digits", seed=0, val_fraction=0.0, test_fraction=0.0)
    assert len(d.x_train) == 1797 and len(d.x_val) == len(d.x_test) == 0


@pytest.mark.parametrize("labels", [True, False])
def test_stratified_rounding_never_overlaps_splits(labels):
    """Whatever the fractions, the index sets partition the pool. With fractions summing to
    1 or more, rounding per class used to take more than a class had left: the slice wrapped
    round, the test split came out empty and training shared examples with validation (the
    loaders now refuse such fractions first; the split itself no longer wraps)."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 12))
        y = rng.integers(0, 3, n) if labels else None
        val, test = (float(f) for f in rng.uniform(0, 1, 2))
        parts = loaders._split(n, (val, test), np.random.default_rng(1), labels=y)
        joined = np.concatenate(parts)
        assert len(joined) == n and np.array_equal(np.sort(joined), np.arange(n)), (n, val, test)


def _assert_disjoint_cover(d, pool: int | None = None):
    idx = d.meta["indices"]
    sets = {k: v for k, v in idx.items() if v is not None}
    for k, v in sets.items():
        assert len(v) == len(getattr(d, f"x_{k}")) and len(np.unique(v)) == len(v), k
    keys = list(sets)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            assert not np.intersect1d(sets[a], sets[b]).size, (a, b)
    if pool is not None:
        assert sum(len(v) for v in sets.values()) == pool


@pytest.mark.parametrize(
    ("name", "params", "pool"),
    [
        ("digits", {}, 1797),
        ("digits", {"val_fraction": 0.5, "test_fraction": 0.4999}, 1797),
        ("digits", {"val_fraction": 0.33, "test_fraction": 0.33}, 1797),
        ("spirals", {}, 400),
        ("spirals", {"n_per_class": 3, "val_fraction": 0.34, "test_fraction": 0.34}, 6),
        ("mnist1d", {}, 4000),
        ("mnist1d", {"val_fraction": 0.9}, 4000),
        ("logistic_map", {"n_train": 7, "n_val": 5, "n_test": 3}, 15),
    ],
)
def test_split_indices_on_the_real_loaders_are_disjoint(name, params, pool):
    d = load_dataset(name, seed=3, **params)
    assert len(d.x_train) >= 1
    _assert_disjoint_cover(d, pool)


def test_split_indices_pick_the_rows_they_name():
    from sklearn.datasets import load_digits

    source = load_digits().data / 16.0
    d = load_dataset("digits", seed=2, val_fraction=0.45, test_fraction=0.45, dtype="float64")
    for split in ("train", "val", "test"):
        assert np.array_equal(getattr(d, f"x_{split}"), source[d.meta["indices"][split]])


def test_mnist_split_indices_are_disjoint(tmp_path):
    path = write_npz(tmp_path / "m.npz")
    d = load_dataset("mnist", seed=0, path=str(path), n_train=15, n_val=5)
    _assert_disjoint_cover(d, 20)
    assert len(d.x_test) == 5


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["data=digits", "data.val_fraction=0.6", "data.test_fraction=0.6"], SUM),
        (
            ["data=spirals", "data.val_fraction=0.6", "data.test_fraction=0.6"],
            SUM,
        ),
        (["data=spirals", "data.n_per_class=2"], r"validation split empty"),
        (["data.val_fraction=0.999"], r"data\.val_fraction=0\.999 leaves no training"),
    ],
    ids=["digits-sum", "spirals-sum", "spirals-empty-val", "mnist1d-empty-train"],
)
def test_bad_splits_via_the_cli_are_one_line_before_any_run(tmp_path, args, pattern):
    before = tree(tmp_path)
    proc = run_cli(*args, "regime.epochs=1", cwd=tmp_path)
    assert_one_line_and_nothing_created(proc, tmp_path, before, pattern)


# ----------------------------------------------------------------------------- MNIST files
def good_arrays(n_train: int = 20, n_test: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28)).astype(np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28)).astype(np.uint8),
        "y_test": (np.arange(n_test) % 10).astype(np.uint8),
    }


def write_npz(path: Path, **changes) -> Path:
    arrays = {**good_arrays(), **changes}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:  # np.savez pickles object arrays: a hostile file can hold them
        np.savez(f, **{k: v for k, v in arrays.items() if v is not None})
    return path


def _labels_minus_one():
    y = good_arrays()["y_train"].astype(np.int64)
    y[3] = -1  # today: one-hot indexing wraps -1 round to class 9
    return y


def _nan_images():
    x = good_arrays()["x_train"].astype(np.float32)
    x[0, 5, 5] = np.nan
    return x


def _object_images():
    x = np.empty(20, dtype=object)
    for i in range(20):
        x[i] = np.zeros((28, 28), np.uint8)
    return x


BAD_NPZ = {
    # id: (changes, pattern after "<file>: ")
    "label-minus-one": (
        {"y_train": _labels_minus_one()},
        r"y_train has labels -1\.\.9; expected integers 0\.\.9",
    ),
    "label-ten": (
        {"y_test": np.array([0, 1, 2, 10, 4], np.int32)},
        r"y_test has labels 0\.\.10; expected integers 0\.\.9",
    ),
    "float-labels": (
        {"y_train": good_arrays()["y_train"].astype(np.float64)},
        r"y_train has float labels \(float64\); expected integers 0\.\.9",
    ),
    "bool-labels": (
        {"y_test": np.ones(5, bool)},
        r"y_test holds booleans; expected integers 0\.\.9",
    ),
    "string-labels": (
        {"y_test": np.array(list("01234"))},
        r"y_test holds strings; expected integers 0\.\.9",
    ),
    "object-images": (
        {"x_train": _object_images()},
        r"x_train holds Python objects .*; expected numeric images",
    ),
    "one-hot-labels": (
        {"y_train": np.eye(10, dtype=np.uint8)[np.arange(20) % 10]},
        r"y_train has shape \(20, 10\); expected a vector of integers 0\.\.9",
    ),
    "fewer-labels": (
        {"y_train": good_arrays()["y_train"][:19]},
        r"y_train has 19 labels but x_train has 20 images; expected one label per image",
    ),
    "more-test-labels": (
        {"y_test": np.zeros(6, np.uint8)},
        r"y_test has 6 labels but x_test has 5 images",
    ),
    "32x32-images": (
        {"x_train": np.zeros((20, 32, 32), np.uint8)},
        r"x_train has shape \(20, 32, 32\); expected images of shape \(n, 28, 28\) or \(n, 784\)",
    ),
    "channel-axis": (
        {"x_test": np.zeros((5, 28, 28, 1), np.uint8)},
        r"x_test has shape \(5, 28, 28, 1\); expected images",
    ),
    "empty-test-split": (
        {"x_test": np.zeros((0, 28, 28), np.uint8), "y_test": np.zeros(0, np.uint8)},
        r"x_test has no images; expected at least one",
    ),
    "nan-pixels": (
        {"x_train": _nan_images()},
        r"x_train has 1 NaN or infinite values; expected finite pixel values 0\.\.255",
    ),
    "pixels-above-255": (
        {"x_train": np.full((20, 784), 300, np.int16)},
        r"x_train has values 300\.\.300; expected pixel values 0\.\.255",
    ),
    "prescaled-floats": (
        {"x_test": np.full((5, 784), 0.5, np.float32)},
        r"x_test has values 0\.5\.\.0\.5 \(already scaled\?\); expected raw pixel values",
    ),
    "missing-array": ({"y_test": None}, r"lacks array 'y_test'"),
}


@pytest.mark.parametrize("case", list(BAD_NPZ), ids=list(BAD_NPZ))
def test_a_bad_mnist_npz_is_one_line_naming_the_file_and_array(tmp_path, case):
    changes, pattern = BAD_NPZ[case]
    path = write_npz(tmp_path / "files" / "mnist.npz", **changes)
    with pytest.raises(ResearchError, match=re.escape(str(path)) + r":? " + pattern) as info:
        load_dataset("mnist", seed=0, path=str(path), n_train=15, n_val=5)
    assert "\n" not in str(info.value)


CLI_CASES = [
    "label-minus-one",
    "float-labels",
    "string-labels",
    "object-images",
    "fewer-labels",
    "32x32-images",
    "empty-test-split",
    "nan-pixels",
    "prescaled-floats",
    "missing-array",
]


SMALL_MNIST_RUN = ("data.n_train=15", "data.n_val=5", "regime.epochs=1")


@pytest.mark.parametrize("case", CLI_CASES, ids=CLI_CASES)
def test_a_bad_mnist_npz_via_the_cli_exits_2_before_any_run(tmp_path, case):
    changes, pattern = BAD_NPZ[case]
    path = write_npz(tmp_path / "files" / "mnist.npz", **changes)
    before = tree(tmp_path)
    proc = run_cli(
        "data=mnist",
        f"data.path={path}",
        *SMALL_MNIST_RUN,
        cwd=tmp_path,
    )
    assert_one_line_and_nothing_created(
        proc, tmp_path, before, r"^error: " + re.escape(str(path)) + r":? " + pattern
    )


def test_a_good_mnist_npz_via_the_cli_trains(tmp_path):
    """The control: the same command on the unchanged file trains and logs a run."""
    path = write_npz(tmp_path / "files" / "mnist.npz")
    proc = run_cli(
        "data=mnist",
        f"data.path={path}",
        *SMALL_MNIST_RUN,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "mlruns").exists()


def test_float_images_0_to_255_and_flat_rows_are_read():
    """What is allowed: any integer or float dtype of raw pixel values, (n, 784) rows."""
    arrays = good_arrays()
    x = arrays["x_train"].reshape(20, 784).astype(np.float64)
    path = write_npz(Path(os.environ["RESEARCH_ROOT"]) / "ok.npz", x_train=x)
    d = load_dataset("mnist", seed=0, path=str(path), n_train=15, n_val=5)
    assert np.allclose(d.x_train, x[:15] / 255)
    assert np.array_equal(d.y_val, arrays["y_train"][15:20])


def test_a_file_that_is_no_npz_is_one_line(tmp_path):
    junk = tmp_path / "mnist.npz"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ResearchError, match=r"cannot read .*mnist\.npz as an \.npz archive"):
        load_dataset("mnist", seed=0, path=str(junk))
    with open(junk, "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(ResearchError, match=r"holds a single array, not an \.npz archive"):
        load_dataset("mnist", seed=0, path=str(junk))


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    path.write_bytes(header + array.astype(np.uint8).tobytes())


IDX = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
BAD_IDX = {
    "label-twelve": (
        {"y_train": np.array([0, 1, 12] + [3] * 17)},
        "y_train",
        r"y_train has labels 0\.\.12; expected integers 0\.\.9",
    ),
    "short-labels": (
        {"y_test": np.zeros(4)},
        "y_test",
        r"y_test has 4 labels but x_test has 5 images",
    ),
    "images-20x20": (
        {"x_test": np.zeros((5, 20, 20))},
        "x_test",
        r"x_test has shape \(5, 20, 20\); expected images",
    ),
    "labels-as-images": (
        {"y_train": np.zeros((20, 28, 28))},
        "y_train",
        r"y_train has shape \(20, 28, 28\); expected a vector",
    ),
}


def write_idx_dir(folder: Path, **changes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, array in {**good_arrays(), **changes}.items():
        write_idx(folder / IDX[key], array)
    return folder


@pytest.mark.parametrize("case", list(BAD_IDX), ids=list(BAD_IDX))
def test_bad_idx_files_name_the_file_and_array(tmp_path, case):
    changes, key, pattern = BAD_IDX[case]
    folder = write_idx_dir(tmp_path / "idx", **changes)
    expected = re.escape(str(folder / IDX[key])) + ": " + pattern
    with pytest.raises(ResearchError, match=expected):
        load_dataset("mnist", seed=0, path=str(folder), n_train=15, n_val=5)


def test_bad_gzipped_idx_via_the_cli_exits_2_before_any_run(tmp_path):
    folder = write_idx_dir(tmp_path / "idx", y_train=np.array([0, 1, 12] + [3] * 17))
    raw = (folder / IDX["y_train"]).read_bytes()
    (folder / IDX["y_train"]).unlink()
    gz = folder / (IDX["y_train"] + ".gz")
    gz.write_bytes(gzip.compress(raw))
    before = tree(tmp_path)
    proc = run_cli(
        "data=mnist", f"data.path={folder}", "data.n_train=15", "data.n_val=5", cwd=tmp_path
    )
    pattern = "^error: " + re.escape(str(gz)) + r": y_train has labels 0\.\.12"
    assert_one_line_and_nothing_created(proc, tmp_path, before, pattern)
