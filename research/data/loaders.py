"""Data set loaders. Each is keyword-only, deterministic given its arguments, and returns a
:class:`~research.data.dataset.Dataset`; the schemas in :mod:`research.data.schema` declare
their parameters (defaults and ranges) for the ``data`` group."""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from research.data.checks import (
    check_disjoint,
    check_mnist_arrays,
    check_split_sizes,
    check_splits,
)
from research.data.dataset import Dataset
from research.errors import ConfigError, ResearchError


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed))


def _dtype(dtype: str):
    if dtype not in ("float32", "float64"):
        raise ConfigError(f"dtype={dtype!r} is not allowed: choose one of: float32, float64")
    return np.dtype(dtype)


def _split(n: int, fractions: tuple[float, ...], rng, labels=None) -> list[np.ndarray]:
    """Disjoint index sets: the last ones take ``fractions`` of ``n``, the first the rest.
    Stratified by ``labels`` when given, so each split keeps the class balance. A split never
    takes more than its class has left (fractions summing to 1 or more used to wrap the slice
    round: an empty test split and training overlapping validation); the loaders refuse such
    fractions first (:func:`check_splits`) and any split that rounds to nothing after."""
    groups = (
        [np.arange(n)]
        if labels is None
        else [np.flatnonzero(labels == c) for c in np.unique(labels)]
    )
    parts: list[list[np.ndarray]] = [[] for _ in range(len(fractions) + 1)]
    for idx in groups:
        idx = rng.permutation(idx)
        start = len(idx)
        for k, frac in enumerate(fractions):
            size = min(int(round(frac * len(idx))), start)
            parts[k + 1].append(idx[start - size : start])
            start -= size
        parts[0].append(idx[:start])
    return [np.sort(np.concatenate(p)) for p in parts]


def _checked_split(name, n, fractions: dict[str, float], rng, labels=None):
    """:func:`_split` into train/val(/test) by ``fractions`` (data.<key> -> value), with
    every split asked for non-empty and all of them disjoint."""
    parts = _split(n, tuple(fractions.values()), rng, labels=labels)
    splits = dict(zip(("train", "val", "test"), parts, strict=False))
    asked = dict(zip(("val", "test"), fractions.items(), strict=False))
    check_split_sizes(name, {k: len(v) for k, v in splits.items()}, asked, n)
    check_disjoint(name, splits)
    return parts


def _classification(name, x, y, splits, dtype, n_classes, meta) -> Dataset:
    tr, va, te = splits
    meta = {**meta, "indices": {"train": tr, "val": va, "test": te}}
    x = x.astype(dtype, copy=False)
    y = y.astype(np.int64, copy=False)
    return Dataset(
        name, "classification", x[tr], y[tr], x[va], y[va], x[te], y[te], n_classes, meta
    )


def cache_dir(given: str | None) -> Path:
    base = given or os.environ.get("RESEARCH_DATA_DIR") or "~/.cache/research"
    return Path(base).expanduser()


def _atomic_savez(path: Path, **arrays) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    os.close(fd)
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def mnist1d(
    *,
    seed: int,
    dtype: str,
    val_fraction: float,
    cache_dir: str | None,
    n_train: int | None,
) -> Dataset:
    """MNIST-1D (Greydanus 2020) regenerated offline with the published generator arguments:
    4000 train / 1000 test, length 40. ``seed`` only chooses the stratified validation split
    (3200/800 by default). The generated arrays are cached as an .npz keyed by the args.
    ``n_train`` keeps only the first that many of the training split."""
    check_splits("mnist1d", {"val_fraction": val_fraction, "n_train": n_train})
    dt = _dtype(dtype)
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    key = hashlib.sha256(repr(sorted(vars(args).items())).encode()).hexdigest()[:12]
    path = _cache_path(cache_dir, f"mnist1d-{key}.npz")
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in ("x", "y", "x_test", "y_test")}
    else:
        made = make_dataset(args)
        arrays = {k: np.asarray(made[k]) for k in ("x", "y", "x_test", "y_test")}
        _atomic_savez(path, **arrays)
    x, y = arrays["x"], arrays["y"].astype(np.int64)
    tr, va = _checked_split("mnist1d", len(x), {"val_fraction": val_fraction}, _rng(seed), y)
    if n_train is not None:
        tr = tr[:n_train]
    return Dataset(
        "mnist1d",
        "classification",
        x[tr].astype(dt),
        y[tr],
        x[va].astype(dt),
        y[va],
        arrays["x_test"].astype(dt),
        arrays["y_test"].astype(np.int64),
        10,
        {
            "source": "mnist1d.make_dataset(get_dataset_args())",
            "cache": str(path),
            "sizes": (len(tr), len(va), len(arrays["x_test"])),
            # train and val index the generated x; the test split is its own array
            "indices": {"train": tr, "val": va, "test": None},
        },
    )


def _cache_path(given: str | None, name: str) -> Path:
    return cache_dir(given) / name


def digits(*, seed: int, dtype: str, val_fraction: float, test_fraction: float) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1797 images) scaled to [0, 1], stratified splits."""
    fractions = {"val_fraction": val_fraction, "test_fraction": test_fraction}
    check_splits("digits", fractions)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x, y = bunch.data / 16.0, bunch.target
    splits = _checked_split("digits", len(x), fractions, _rng(seed), labels=y)
    return _classification(
        "digits", x, y, splits, _dtype(dtype), 10, {"source": "sklearn.datasets.load_digits"}
    )


IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file (optionally gzipped): magic 0x0000 08 <ndim>, big-endian dims."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ResearchError(f"cannot read IDX file {path}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] not in (1, 3):
        raise ResearchError(f"{path} is not an IDX file of unsigned bytes (bad magic number)")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise ResearchError(f"{path} is truncated (header)")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, 4))
    size = int(np.prod(dims))
    if len(raw) - 4 - 4 * ndim != size:
        raise ResearchError(f"{path} is truncated or too long: expected {size} data bytes")
    return np.frombuffer(raw, np.uint8, size, 4 + 4 * ndim).reshape(dims)


def _find_idx(directory: Path, stem: str) -> Path | None:
    for name in (
        stem,
        stem + ".gz",
        stem.replace("-idx", ".idx"),
        stem.replace("-idx", ".idx") + ".gz",
    ):
        if (directory / name).exists():
            return directory / name
    return None


def mnist(
    *,
    seed: int,
    dtype: str,
    path: str | None,
    n_train: int,
    n_val: int,
) -> Dataset:
    """MNIST from files the user supplies (an .npz with x_train/y_train/x_test/y_test, or a
    directory holding mnist.npz or the four IDX files). Nielsen's split: the first
    ``n_train`` training images in file order train, the next ``n_val`` validate."""
    check_splits("mnist", {"n_train": n_train, "n_val": n_val})
    dt = _dtype(dtype)
    where = Path(path or os.environ.get("RESEARCH_MNIST") or Path.cwd() / "data" / "mnist")
    where = where.expanduser()
    arrays, files = _read_mnist_files(where)
    check_mnist_arrays(arrays, files)
    x_all = arrays["x_train"].reshape(len(arrays["x_train"]), -1).astype(dt) / dt.type(255)
    y_all = arrays["y_train"].astype(np.int64)
    if n_train + n_val > len(x_all):
        raise ConfigError(
            f"data.n_train + data.n_val = {n_train + n_val} is not allowed: the file has "
            f"{len(x_all)} training images"
        )
    x_test = arrays["x_test"].reshape(len(arrays["x_test"]), -1).astype(dt) / dt.type(255)
    tr, va = slice(0, n_train), slice(n_train, n_train + n_val)  # views, not copies
    return Dataset(
        "mnist",
        "classification",
        x_all[tr],
        y_all[tr],
        x_all[va],
        y_all[va],
        x_test,
        arrays["y_test"].astype(np.int64),
        10,
        {
            "source": str(where),
            "sizes": (n_train, n_val, len(x_test)),
            # train and val index the file's training images; test is its own array
            "indices": {
                "train": np.arange(n_train),
                "val": np.arange(n_train, n_train + n_val),
                "test": None,
            },
        },
    )


def _read_mnist_files(where: Path) -> tuple[dict[str, np.ndarray], dict[str, Path]]:
    """The four MNIST arrays at ``where`` (an .npz, or a folder holding mnist.npz or the four
    IDX files) and the file each came from; a one-line error naming ``where`` if absent."""
    npz = where if where.suffix == ".npz" else where / "mnist.npz"
    if npz.is_file():
        return _read_mnist_npz(npz), dict.fromkeys(IDX_FILES, npz)
    if where.is_dir():
        found = {k: _find_idx(where, stem) for k, stem in IDX_FILES.items()}
        if all(found.values()):
            return {k: read_idx(p) for k, p in found.items()}, found
    raise ResearchError(
        f"MNIST not found at {where}: put mnist.npz (x_train, y_train, x_test, y_test) or the "
        "four IDX files there, or pass data.path=/path/to/mnist"
    )


def _read_mnist_npz(npz: Path) -> dict[str, np.ndarray]:
    """The four arrays of a user's MNIST .npz, never unpickling anything."""
    try:
        loaded = np.load(npz, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ResearchError(f"cannot read {npz} as an .npz archive: {first}") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ResearchError(
            f"{npz} holds a single array, not an .npz archive of x_train, y_train, x_test, y_test"
        )
    arrays: dict[str, np.ndarray] = {}
    with loaded as f:
        for key in IDX_FILES:
            if key not in f.files:
                raise ResearchError(
                    f"{npz} lacks array {key!r}; it needs x_train, y_train, x_test, y_test"
                )
            try:
                arrays[key] = f[key]
            except ValueError as exc:  # an object array: np.load refuses to unpickle it
                expected = "integers 0..9" if key.startswith("y") else "numeric images"
                raise ResearchError(
                    f"{npz}: {key} holds Python objects ({str(exc).split('.')[0]}); "
                    f"expected {expected}"
                ) from None
            except (OSError, EOFError, zipfile.BadZipFile) as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ResearchError(f"cannot read {npz}: {key}: {first}") from None
    return arrays


def xor(*, seed: int, dtype: str) -> Dataset:
    """The four XOR patterns. Train = val = test: the task is to represent all four."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=_dtype(dtype))
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return Dataset("xor", "classification", x, y, x, y, x, y, 2, {"source": "xor"})


def parity(*, seed: int, dtype: str, n_bits: int) -> Dataset:
    """All 2^n_bits bit patterns labelled by their parity; train = val = test."""
    if not 1 <= n_bits <= 16:
        raise ConfigError(f"data.n_bits={n_bits!r} is not allowed: must be in 1..16")
    codes = np.arange(2**n_bits)
    x = ((codes[:, None] >> np.arange(n_bits - 1, -1, -1)) & 1).astype(_dtype(dtype))
    y = x.sum(1).astype(np.int64) % 2
    return Dataset("parity", "classification", x, y, x, y, x, y, 2, {"n_bits": n_bits})


def spirals(
    *,
    seed: int,
    dtype: str,
    n_per_class: int,
    noise: float,
    val_fraction: float,
    test_fraction: float,
) -> Dataset:
    """Two interleaved spirals (Lang & Witbrock 1988), Gaussian noise, stratified splits."""
    fractions = {"val_fraction": val_fraction, "test_fraction": test_fraction}
    check_splits("spirals", fractions)
    rng = _rng(seed)
    t = np.sqrt(rng.random(n_per_class)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], 1) / (3 * np.pi)
    x = np.concatenate([arm, -arm]) + noise * rng.standard_normal((2 * n_per_class, 2)) / 3
    y = np.repeat([0, 1], n_per_class)
    splits = _checked_split("spirals", len(x), fractions, rng, labels=y)
    return _classification(
        "spirals", x, y, splits, _dtype(dtype), 2, {"n_per_class": n_per_class, "noise": noise}
    )


def logistic_map(
    *,
    seed: int,
    dtype: str,
    n_train: int,
    n_val: int,
    n_test: int,
    r: float,
    x0: float | None,
) -> Dataset:
    """The series x_{t+1} = r x_t (1 - x_t); input x_t, target x_{t+1}, exemplars in series
    order (train, then val, then test). x0 is drawn from the seed when not given."""
    check_splits("logistic_map", {"n_train": n_train, "n_val": n_val, "n_test": n_test})
    if not 0 < r <= 4:
        raise ConfigError(f"data.r={r!r} is not allowed: must be in (0, 4]")
    if x0 is None:
        x0 = float(_rng(seed).uniform(0.05, 0.95))
    if not 0 < x0 < 1:
        raise ConfigError(f"data.x0={x0!r} is not allowed: must be in (0, 1)")
    n = n_train + n_val + n_test
    series = np.empty(n + 1)
    series[0] = x0
    for t in range(n):
        series[t + 1] = r * series[t] * (1 - series[t])
    dt = _dtype(dtype)
    x, y = series[:-1, None].astype(dt), series[1:, None].astype(dt)
    a, b = n_train, n_train + n_val
    return Dataset(
        "logistic_map",
        "regression",
        x[:a],
        y[:a],
        x[a:b],
        y[a:b],
        x[b:],
        y[b:],
        0,
        {
            "r": r,
            "x0": x0,
            "indices": {"train": np.arange(a), "val": np.arange(a, b), "test": np.arange(b, n)},
        },
    )


def sine(
    *,
    seed: int,
    dtype: str,
    n_train: int,
    n_val: int,
    n_test: int,
    noise: float,
    low: float,
    high: float,
) -> Dataset:
    """Function fitting y = sin(x), x uniform in [low, high]; noise on train targets only.
    Each split is its own draw of x, so the splits share no example (with probability 1)."""
    check_splits("sine", {"n_train": n_train, "n_val": n_val, "n_test": n_test})
    rng = _rng(seed)
    dt = _dtype(dtype)
    xs = [rng.uniform(low, high, (k, 1)) for k in (n_train, n_val, n_test)]
    ys = [np.sin(v) for v in xs]
    ys[0] = ys[0] + noise * rng.standard_normal(ys[0].shape)
    return Dataset(
        "sine",
        "regression",
        xs[0].astype(dt),
        ys[0].astype(dt),
        xs[1].astype(dt),
        ys[1].astype(dt),
        xs[2].astype(dt),
        ys[2].astype(dt),
        0,
        {"noise": noise},
    )
