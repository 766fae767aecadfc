"""The notes' vanishing-gradient point, measured: on "recall the first symbol" of a long random
sequence (``data=recall``), the error signal dLoss/dh_t that reaches the first step decays
geometrically in an Elman net and much less in LSTM and GRU, and the accuracies follow.

    python bench/vanishing_gradients.py [--lengths 50 100] [--seeds 1 2 3] [--epochs 30]
        [--lr 0.01] [--out docs/reports/vanishing-gradients]

Cells (32 units, read at the last step): ``model=rnn`` (Elman, tanh) with the notes' fan-in
init and with orthogonal recurrent weights (a known remedy: Saxe et al. 2014, Le et al.
2015), ``model=lstm`` and ``model=gru`` (orthogonal too). Each trains at each seed with Adam
(``--lr``, batch 50, gradient norm clipped at 1) for ``--epochs`` epochs through the
framework's own ``fit``; the table gives each seed's test accuracy and the median (chance:
1/4). The gate that keeps the past starts open: the LSTM's forget-gate bias at 1 (Gers et
al. 2000), the GRU's update-gate bias at 2 (the GRU keeps sigmoid(b) of h_{t-1} per step:
0.73^49 ~ 2e-7 of step 0 survives 49 steps at b = 1, 0.88^49 ~ 2e-3 at b = 2; at b = 1 it
did not learn this task in 30 epochs).

The figure plots, per cell at initialisation (median over seeds), the batch mean of
||dLoss/dh_t|| against t: the signal that reaches step 0, where the answer is, from the loss
at the last step. ``--out`` writes ``gradients-<T>.png`` and ``README.md`` (tables, command).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from research.config import compose, validate
from research.report.figures import plt
from research.train.fit import fit_model, stream
from research.train.prepare import prepare

#: name -> (label, overrides): Elman with the model's init (fan-in, as in the notes) and with
#: orthogonal recurrent weights (a known remedy: Saxe et al. 2014, Le et al. 2015)
CELLS = {
    "rnn_fan_in": ("Elman (tanh), fan-in init", ["model=rnn", "model.orthogonal=false"]),
    "rnn": ("Elman (tanh), orthogonal init", ["model=rnn"]),
    "lstm": ("LSTM", ["model=lstm"]),
    "gru": ("GRU", ["model=gru"]),
}


def overrides(cell: str, length: int, args) -> list[str]:
    out = [
        "data=recall",
        f"data.length={length}",
        *CELLS[cell][1],
        "model.hidden=[32]",
        "regime=adam",
        f"regime.lr={args.lr}",
        "regime.batch_size=50",
        f"regime.epochs={args.epochs}",
        "regime.clip_norm=1.0",
    ]
    bias = {"lstm": args.lstm_forget_bias, "gru": args.gru_update_bias}.get(cell)
    return out + ([f"model.forget_bias={bias}"] if bias is not None else [])


def initial_norms(net, data, seed: int) -> np.ndarray:
    """||dLoss/dh_t|| per step t (batch mean) of the fresh network on 200 training rows."""
    rows = slice(0, 200)
    targets = data.targets(data.y_train[rows], net.dtype)
    net.loss_and_grad(data.x_train[rows], targets, rng=stream(seed, "noise"))
    return np.asarray(net.layers[0].grad_norms, dtype=float)


def run_cell(cell: str, length: int, seed: int, args) -> tuple[float, np.ndarray, float]:
    groups = validate(compose([*overrides(cell, length, args), f"seed={seed}"]))
    data, net = prepare(groups["data"], groups["model"], seed)
    norms = initial_norms(net, data, seed)
    data, net = prepare(groups["data"], groups["model"], seed)  # the same fresh weights
    started = time.perf_counter()
    result = fit_model(net, groups["regime"], data, seed=seed)
    return result.metrics["test/acc"], norms, time.perf_counter() - started


def figure(norms: dict[str, np.ndarray], length: int, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for cell, curve in norms.items():
        ax.semilogy(np.arange(len(curve)), curve, label=CELLS[cell][0], lw=2)
    ax.set_xlabel("time step t (the answer is the symbol at t = 0)")
    ax.set_ylabel("mean ||dLoss/dh_t|| at initialisation")
    ax.set_title(f"Error signal reaching step t from the loss at step {length - 1}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def table(length: int, args) -> tuple[list[str], dict[str, np.ndarray]]:
    """The table's lines for one sequence length, and each cell's median gradient curve."""
    lines = [
        f"### Length {length}",
        "",
        "| cell | test accuracy per seed | median | ‖dL/dh_0‖ / ‖dL/dh_T-1‖ at init | s/run |",
        "|---|---|---|---|---|",
    ]
    medians = {}
    for cell in args.cells:
        runs = [run_cell(cell, length, seed, args) for seed in args.seeds]
        accs = [r[0] for r in runs]
        medians[cell] = curve = np.median(np.stack([r[1] for r in runs]), axis=0)
        lines.append(
            f"| {CELLS[cell][0]} | {', '.join(f'{a:.3f}' for a in accs)} | "
            f"{statistics.median(accs):.3f} | {curve[0] / curve[-1]:.2e} | "
            f"{statistics.median(r[2] for r in runs):.0f} |"
        )
        print(lines[-1], flush=True)
    return lines, medians


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[50])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lstm-forget-bias", type=float, default=1.0)
    parser.add_argument("--gru-update-bias", type=float, default=2.0)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    parser.add_argument("--out", type=Path, help="folder for the figures and README.md")
    args = parser.parse_args(argv)
    command = "python bench/vanishing_gradients.py " + " ".join(argv or sys.argv[1:])
    lines = [
        "# Vanishing gradients: Elman vs LSTM vs GRU",
        "",
        f"Made by `{command.strip()}`: recall the first of T symbols (4 symbols, chance 0.25), "
        f"32 units, {args.epochs} epochs of Adam at lr {args.lr}, seeds {args.seeds}, one BLAS "
        "thread.",
        "",
    ]
    curves = {}
    with threadpool_limits(1):
        for length in args.lengths:
            part, curves[length] = table(length, args)
            lines += [
                *part,
                "",
                f"![gradient norm vs time step, T = {length}](gradients-{length}.png)",
                "",
            ]
    print("\n".join(lines))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for length, medians in curves.items():
            figure(medians, length, args.out / f"gradients-{length}.png")
        (args.out / "README.md").write_text("\n".join(lines))
        print(f"wrote {args.out / 'README.md'}")


if __name__ == "__main__":
    run()
