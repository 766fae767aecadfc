"""One epoch of Nielsen's [784, 30, 10] sigmoid/quadratic network at mini-batch 10, three ways.

    python bench/epoch_speed.py [--n 50000] [--repeats 3]

1. ``fit``: the framework's own loop (``research.train.fit_model``) for one epoch;
2. bare: the same maths hand-vectorised over the mini-batch, float32, batches gathered by index;
3. per-example: Nielsen's network.py loop (one example at a time, float64), on a tenth of the
   examples and scaled up (it is ~10x slower; the ratio is what matters).

Prints seconds per epoch (best of ``repeats``) and the ratios to the bare loop; the target
is fit / bare <= 1.5. Uses ../shared/data/mnist.npz when present, else random inputs of the
same shape (the timing does not depend on the pixel values).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from research.config import compose, validate
from research.data.dataset import Dataset
from research.nn.build import build_model
from research.train import fit_model, stream

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"


def load(n: int) -> tuple[np.ndarray, np.ndarray]:
    if MNIST.exists():
        with np.load(MNIST, allow_pickle=False) as f:
            x = f["x_train"][:n].reshape(n, -1).astype(np.float32) / 255
            y = f["y_train"][:n].astype(np.int64)
    else:
        rng = np.random.default_rng(0)
        x = rng.random((n, 784), dtype=np.float32)
        y = rng.integers(0, 10, n)
    return x, y


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def bare_epoch(x, t, rng, eta=3.0, batch=10):
    """Hand-vectorised mini-batch SGD on the quadratic cost (float32)."""
    w1 = (rng.standard_normal((784, 30)) / np.sqrt(784)).astype(np.float32)
    b1 = rng.standard_normal(30).astype(np.float32)
    w2 = (rng.standard_normal((30, 10)) / np.sqrt(30)).astype(np.float32)
    b2 = rng.standard_normal(10).astype(np.float32)
    perm = rng.permutation(len(x))
    scale = np.float32(eta / batch)
    for start in range(0, len(x), batch):
        idx = perm[start : start + batch]
        xb, tb = x[idx], t[idx]
        a1 = sigmoid(xb @ w1 + b1)
        a2 = sigmoid(a1 @ w2 + b2)
        d2 = (a2 - tb) * a2 * (1 - a2)
        d1 = (d2 @ w2.T) * a1 * (1 - a1)
        w2 -= scale * (a1.T @ d2)
        b2 -= scale * d2.sum(0)
        w1 -= scale * (xb.T @ d1)
        b1 -= scale * d1.sum(0)


def per_example_epoch(x, t, rng, eta=3.0, batch=10):
    """Nielsen's network.py: backprop one column vector at a time (float64)."""
    w = [rng.standard_normal((30, 784)), rng.standard_normal((10, 30))]
    b = [rng.standard_normal((30, 1)), rng.standard_normal((10, 1))]
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    perm = rng.permutation(len(x))
    for start in range(0, len(x), batch):
        nw = [np.zeros_like(m) for m in w]
        nb = [np.zeros_like(v) for v in b]
        for i in perm[start : start + batch]:
            a0 = x64[i].reshape(-1, 1)
            a1 = sigmoid(w[0] @ a0 + b[0])
            a2 = sigmoid(w[1] @ a1 + b[1])
            d2 = (a2 - t64[i].reshape(-1, 1)) * a2 * (1 - a2)
            d1 = (w[1].T @ d2) * a1 * (1 - a1)
            nb[1] += d2
            nw[1] += d2 @ a1.T
            nb[0] += d1
            nw[0] += d1 @ a0.T
        for k in range(2):
            w[k] -= (eta / batch) * nw[k]
            b[k] -= (eta / batch) * nb[k]


def framework_epoch(data: Dataset):
    cfg = compose(
        [
            "model.hidden=[30]",
            "model.activation=sigmoid",
            "model.output=sigmoid",
            "model.cost=quadratic",
            "model.init=fan_in",
            "regime=sgd",
            "regime.lr=3.0",
            "regime.batch_size=10",
            "regime.epochs=1",
            "regime.eval_train=false",
        ]
    )
    groups = validate(cfg)
    model = build_model(groups["model"], data, stream(0, "init"))
    result = fit_model(model, groups["regime"], data, seed=0)
    return result.history[-1]["time/epoch"]


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(out if isinstance(out, float) else time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    x, y = load(args.n)
    t = np.eye(10, dtype=np.float32)[y]
    empty_x, empty_y = x[:0], y[:0]
    data = Dataset("mnist", "classification", x, y, empty_x, empty_y, empty_x, empty_y, 10)
    rng = np.random.default_rng(1)
    tenth = args.n // 10
    bare = best_of(args.repeats, lambda: bare_epoch(x, t, rng))
    ours = best_of(args.repeats, lambda: framework_epoch(data))
    slow = best_of(1, lambda: per_example_epoch(x[:tenth], t[:tenth], rng)) * 10
    print(f"one epoch of {args.n} examples, [784, 30, 10] sigmoid, quadratic cost, batch 10")
    print(f"  bare vectorised loop (float32)   {bare:7.3f} s   1.00x")
    print(
        f"  research fit (float32)           {ours:7.3f} s   {ours / bare:.2f}x  (target <= 1.5x)"
    )
    print(f"  per-example loop (float64)       {slow:7.3f} s   {slow / bare:.2f}x")


if __name__ == "__main__":
    main()
