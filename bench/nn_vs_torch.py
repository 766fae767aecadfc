"""One training epoch of our numpy networks against the same networks in PyTorch (CPU).

    pip install -e '.[bench]'            # PyTorch, for this bench only
    python bench/nn_vs_torch.py [--repeats 5] [--cases cnn gru lstm mlp]

Cases (float32, Adam for cnn/gru/lstm, SGD for the MLP, one BLAS/torch thread each):
- ``cnn``: the MNIST-1D paper's CNN (``model=cnn``: 3 conv layers of 25 channels, kernels
  5, 3, 3, stride 2, same padding) on MNIST-1D's 3200 training rows, batch 100;
- ``gru`` / ``lstm``: one recurrent layer of 64 units read at the last of 40 steps, batch 100;
- ``mlp``: Nielsen's [784, 30, 10] sigmoid network on 10000 MNIST rows, batch 10.

An epoch is every mini-batch's forward, backward and optimiser step (no evaluation), on the
same rows in the same order. Prints seconds per epoch (median of ``repeats``) and
ours / PyTorch; the target is <= 2.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from research.config import compose, validate
from research.train import stream
from research.train.base import build_optimiser
from research.train.prepare import prepare

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"

#: case -> overrides of our config (model, data, regime)
CASES = {
    "cnn": ["model=cnn", "regime=adam", "regime.batch_size=100"],
    "gru": ["model=gru", "regime=adam", "regime.batch_size=100"],
    "lstm": ["model=lstm", "regime=adam", "regime.batch_size=100"],
    "mlp": [
        "model=mlp",
        "model.hidden=[30]",
        "model.activation=sigmoid",
        "model.output=sigmoid",
        "model.cost=quadratic",
        "data=mnist",
        f"data.path={MNIST}",
        "data.n_train=10000",
        "regime=sgd",
        "regime.lr=3.0",
        "regime.batch_size=10",
    ],
}


def ours(case: str):
    """(seconds for one epoch, our network, the data, the config groups)."""
    groups = validate(compose(CASES[case]))
    data, net = prepare(groups["data"], groups["model"], 0)
    regime = groups["regime"]
    targets = data.targets(data.y_train, net.dtype)
    optimiser = build_optimiser(regime, net.n_params, net.dtype, stream(0, "optimiser"))
    order = np.random.default_rng(0).permutation(len(data.x_train))
    batch, rng = regime.batch_size, stream(0, "noise")

    def epoch() -> float:
        started = time.perf_counter()
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            net.loss_and_grad(data.x_train[idx], targets[idx], rng=rng)
            optimiser.step(net.theta, net.grad, regime.lr, None)
        return time.perf_counter() - started

    return epoch, data, regime


def torch_model(case: str, torch):
    nn = torch.nn
    if case == "cnn":
        # our "same" padding at stride 2 pads (left, right) = (1, 2), (0, 1), (0, 1)
        return nn.Sequential(
            nn.ConstantPad1d((1, 2), 0.0),
            nn.Conv1d(1, 25, 5, stride=2),
            nn.ReLU(),
            nn.ConstantPad1d((0, 1), 0.0),
            nn.Conv1d(25, 25, 3, stride=2),
            nn.ReLU(),
            nn.ConstantPad1d((0, 1), 0.0),
            nn.Conv1d(25, 25, 3, stride=2),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(125, 10),
        )
    if case in ("gru", "lstm"):
        cell = (nn.GRU if case == "gru" else nn.LSTM)(1, 64, batch_first=True)

        class LastStep(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.rnn, self.out = cell, nn.Linear(64, 10)

            def forward(self, x):
                return self.out(self.rnn(x)[0][:, -1])

        return LastStep()
    return nn.Sequential(nn.Linear(784, 30), nn.Sigmoid(), nn.Linear(30, 10), nn.Sigmoid())


def theirs(case: str, data, regime):
    import torch

    torch.manual_seed(0)
    model = torch_model(case, torch)
    x = torch.from_numpy(np.ascontiguousarray(data.x_train, dtype=np.float32))
    if case == "cnn":
        x = x.reshape(len(x), 1, -1)
    elif case in ("gru", "lstm"):
        x = x.reshape(len(x), -1, 1)
    y = torch.from_numpy(data.y_train)
    if case == "mlp":
        optimiser = torch.optim.SGD(model.parameters(), lr=regime.lr)
        target = torch.nn.functional.one_hot(y, 10).float()

        def loss_fn(out, idx):
            return 0.5 * ((out - target[idx]) ** 2).sum(1).mean()
    else:
        optimiser = torch.optim.Adam(model.parameters(), lr=regime.lr)

        def loss_fn(out, idx):
            return torch.nn.functional.cross_entropy(out, y[idx])

    order = torch.from_numpy(np.random.default_rng(0).permutation(len(x)))
    batch = regime.batch_size

    def epoch() -> float:
        started = time.perf_counter()
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            optimiser.zero_grad()
            loss_fn(model(x[idx]), idx).backward()
            optimiser.step()
        return time.perf_counter() - started

    return epoch


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        raise SystemExit("error: this bench needs PyTorch: pip install -e '.[bench]'") from None
    torch.set_num_threads(1)
    print(
        f"one training epoch, float32, 1 thread each; median of {args.repeats} "
        f"(torch {torch.__version__})"
    )
    print(f"{'case':6} {'ours s':>8} {'torch s':>8} {'ours/torch':>11}")
    with threadpool_limits(1):
        for case in args.cases:
            if case == "mlp" and not MNIST.exists():
                print(f"{case:6} skipped: {MNIST} not found")
                continue
            ours_epoch, data, regime = ours(case)
            torch_epoch = theirs(case, data, regime)
            ours_epoch(), torch_epoch()  # warm-up: caches, allocator, lazy imports
            a = statistics.median(ours_epoch() for _ in range(args.repeats))
            b = statistics.median(torch_epoch() for _ in range(args.repeats))
            print(f"{case:6} {a:8.3f} {b:8.3f} {a / b:10.2f}x")


if __name__ == "__main__":
    run()
