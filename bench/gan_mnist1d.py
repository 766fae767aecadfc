"""Conditional GAN on MNIST-1D, judged by a CNN that never saw a generated example (issue 10).

    python bench/gan_mnist1d.py [--seeds 0 1 2] [--epochs 250] [--z-dim 16]
        [--g-hidden 512 512] [--d-hidden 512 512] [--d-lr 1e-3] [--g-lr 1e-3] [--beta1 0.5]
        [--gamma 0.3 --step-size 150] [--batch 64] [--samples 1000] [--cnn-epochs 40]
        [--figure PATH]

Per seed (the validation split's, the judge's and the GAN's):

1. the judge: bench/mnist1d_networks.py's CNN config (the MNIST-1D paper's 94% network),
   trained by ``fit_model`` on the 3200 training rows; its accuracy on the 1000 real test
   rows is printed as ``real acc``;
2. ``model=gan`` (MLP G(z, y) and D(x, y), one-hot class) trained by ``fit_model`` ->
   ``fit_adversarial`` on the same 3200 rows. MNIST-1D comes standardised (mean 0, std 1,
   range about +-4.5) and G's output layer is linear, so no rescaling is needed;
3. ``--samples`` generated rows, classes uniform (equal counts), fixed z:
   - gen acc: the judge's accuracy on them, the label being the class G was asked for;
     worst cls: the same on the class where it is lowest;
   - diversity: per class, the mean pairwise distance of the generated rows over that of the
     real test rows of the class; ``div mean`` averages the 10 ratios, ``div min`` is the
     lowest (a collapsed class shows as a ratio near 0);
   - nn ratio: median distance of a generated row to its nearest training row, over the same
     for real test rows (near 0: G copies training rows; near 1: as novel as fresh data).

The median over seeds is printed last, with this command line.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial.distance import cdist, pdist

from research import threads
from research.config import compose, validate
from research.data import load_dataset
from research.data.dataset import Dataset
from research.nn.gan import GANModel, build_gan
from research.train.fit import fit_model, stream
from research.train.optimisers import AdamRegime
from research.train.prepare import prepare
from research.train.schedules import ScheduleConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling bench, as a module
from mnist1d_networks import NETWORKS  # noqa: E402

#: the judge: the CNN of bench/mnist1d_networks.py (its epochs come from --cnn-epochs)
JUDGE = [o for o in NETWORKS["cnn"][0] if not o.startswith("regime.epochs=")]
#: the reference: Greydanus 2020, table 1, CNN test accuracy on real MNIST-1D
PAPER_CNN = 0.94
COLUMNS = ("real_acc", "gen_acc", "worst_cls", "div_mean", "div_min", "nn_ratio")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=250, help="GAN epochs")
    p.add_argument("--z-dim", type=int, default=16)
    p.add_argument("--g-hidden", type=int, nargs="+", default=[512, 512])
    p.add_argument("--d-hidden", type=int, nargs="+", default=[512, 512])
    p.add_argument("--d-lr", type=float, default=1e-3)
    p.add_argument("--g-lr", type=float, default=1e-3)
    p.add_argument("--d-steps", type=int, default=1)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--gamma", type=float, default=0.3, help="lr factor every --step-size epochs")
    p.add_argument("--step-size", type=int, default=150)
    p.add_argument("--l2", type=float, default=0.0, help="the regime's l2, on both nets")
    p.add_argument("--samples", type=int, default=1000, help="generated rows scored")
    p.add_argument("--cnn-epochs", type=int, default=40)
    p.add_argument("--n-train", type=int, default=None, help="first rows of train (tests)")
    p.add_argument("--figure", type=Path, help="PNG of real vs generated rows (first seed)")
    return p.parse_args(argv)


def load(seed: int, n_train: int | None) -> Dataset:
    """MNIST-1D with the validation split of ``seed`` (as ``data=mnist1d`` loads it)."""
    return load_dataset(
        "mnist1d", seed=seed, dtype="float32", val_fraction=0.2, cache_dir=None, n_train=n_train
    )


def train_judge(seed: int, epochs: int, n_train: int | None = None):
    """(the trained CNN, its accuracy on the real test rows); it sees only real data."""
    extra = [f"regime.epochs={epochs}", f"seed={seed}"]
    if n_train is not None:
        extra.append(f"data.n_train={n_train}")
    groups = validate(compose(["data=mnist1d", *JUDGE, *extra]))
    data, net = prepare(groups["data"], groups["model"], seed)
    result = fit_model(net, groups["regime"], data, seed=seed)
    return net, float(result.metrics["test/acc"])


def train_gan(args: argparse.Namespace, data: Dataset, seed: int):
    """The conditional GAN fitted on ``data``'s training rows by the framework's loop."""
    model = GANModel(
        z_dim=args.z_dim,
        g_hidden=list(args.g_hidden),
        d_hidden=list(args.d_hidden),
        d_lr=args.d_lr,
        g_lr=args.g_lr,
        d_steps=args.d_steps,
        samples=min(args.samples, 1000),
    )
    schedule = ScheduleConfig(name="step", gamma=args.gamma, step_size=args.step_size)
    regime = AdamRegime(
        epochs=args.epochs,
        batch_size=args.batch,
        beta1=args.beta1,
        schedule=schedule,
        l2=args.l2,
    )
    net = build_gan(model, data, stream(seed, "init"))
    result = fit_model(net, regime, data, seed=seed)
    if result.diverged:
        raise RuntimeError(f"seed {seed}: the GAN diverged: {result.reason}")
    return net


def balanced_labels(n: int, n_classes: int) -> np.ndarray:
    """``n`` class labels, as equal in count as ``n`` allows, in class order."""
    return np.sort(np.arange(n) % n_classes)


def mean_pairwise(x: np.ndarray) -> float:
    """Mean Euclidean distance over the distinct pairs of rows of ``x``."""
    return float(pdist(x).mean()) if len(x) > 1 else 0.0


def nearest_distance(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Each row of ``x``'s distance to its nearest row of ``ref``."""
    return cdist(x, ref).min(axis=1)


def diversity(fake: np.ndarray, wanted: np.ndarray, data: Dataset) -> np.ndarray:
    """Per class: mean pairwise distance of the generated rows over the real test rows'."""
    ratios = []
    for c in range(data.n_classes):
        real = data.x_test[data.y_test == c].astype(np.float64)
        ratios.append(mean_pairwise(fake[wanted == c].astype(np.float64)) / mean_pairwise(real))
    return np.array(ratios)


def score(judge, gan, data: Dataset, n: int, seed: int) -> dict[str, float]:
    """gen acc, diversity and nn ratio of ``n`` generated rows (classes equal, fixed z)."""
    wanted = balanced_labels(n, data.n_classes)
    fake = gan.sample(wanted, np.random.default_rng([seed, 1]))
    hit = np.argmax(judge.predict(fake), axis=1) == wanted
    ratios = diversity(fake, wanted, data)
    train = data.x_train.astype(np.float64)
    nn_fake = np.median(nearest_distance(fake.astype(np.float64), train))
    nn_real = np.median(nearest_distance(data.x_test.astype(np.float64), train))
    return {
        "gen_acc": float(hit.mean()),
        "worst_cls": float(min(hit[wanted == c].mean() for c in range(data.n_classes))),
        "div_mean": float(ratios.mean()),
        "div_min": float(ratios.min()),
        "nn_ratio": float(nn_fake / nn_real),
    }


def run_seed(args: argparse.Namespace, seed: int) -> tuple[dict[str, float], object, Dataset]:
    """One seed's row (its metrics and seconds), the trained GAN and the data."""
    started = time.perf_counter()
    judge, real_acc = train_judge(seed, args.cnn_epochs, args.n_train)
    judge_seconds = time.perf_counter() - started
    data = load(seed, args.n_train)
    gan = train_gan(args, data, seed)
    row = {"seed": seed, "real_acc": real_acc, **score(judge, gan, data, args.samples, seed)}
    row["judge_s"] = judge_seconds
    row["gan_s"] = time.perf_counter() - started - judge_seconds
    return row, gan, data


def figure(gan, data: Dataset, path: Path, per_class: int = 4, seed: int = 0) -> None:
    """Real (top rows, grey) and generated (bottom rows, red) examples of every class."""
    from research.report.figures import plt

    rng = np.random.default_rng([seed, 2])
    k = data.n_classes
    fake = gan.sample(np.repeat(np.arange(k), per_class), rng).reshape(k, per_class, -1)
    fig, axes = plt.subplots(
        2 * per_class, k, figsize=(1.2 * k, 0.75 * 2 * per_class), sharex=True, sharey=True
    )
    for c in range(k):
        real = data.x_test[data.y_test == c][:per_class]
        for i in range(per_class):
            axes[i, c].plot(real[i], color="0.35", lw=0.9)
            axes[per_class + i, c].plot(fake[c, i], color="tab:red", lw=0.9)
        axes[0, c].set_title(f"class {c}", fontsize=8)
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    axes[0, 0].set_ylabel("real", fontsize=8)
    axes[per_class, 0].set_ylabel("generated", fontsize=8)
    fig.suptitle("MNIST-1D: real test rows (grey) vs conditional GAN samples (red)", fontsize=9)
    fig.subplots_adjust(left=0.03, right=0.99, bottom=0.01, top=0.9, wspace=0.05, hspace=0.08)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def median_row(rows: list[dict[str, float]]) -> dict[str, float]:
    """The median over seeds of every metric column."""
    return {k: float(statistics.median(r[k] for r in rows)) for k in COLUMNS}


def line(label: str, r: dict[str, float], seconds: str = "") -> str:
    cells = "  ".join(f"{r[k]:>8.3f}" for k in COLUMNS)
    return f"{label:>6}  {cells}  {seconds}"


def main(argv: list[str] | None = None) -> dict:
    """Train, score and print every seed; the rows and their median."""
    args = parse(argv)
    threads.apply(1)
    shown = sys.argv[1:] if argv is None else argv
    print("$ " + shlex.join(["python", "bench/gan_mnist1d.py", *shown]))
    print(f"{'seed':>6}  " + "  ".join(f"{k.replace('_', ' '):>8}" for k in COLUMNS) + "  time")
    rows = []
    for seed in args.seeds:
        row, gan, data = run_seed(args, seed)
        rows.append(row)
        took = f"{row['judge_s']:.0f} s judge + {row['gan_s']:.0f} s GAN"
        print(line(str(seed), row, took), flush=True)
        if args.figure is not None and seed == args.seeds[0]:
            figure(gan, data, args.figure, seed=seed)
    median = median_row(rows)
    print(line("median", median, f"(paper CNN on real test: {PAPER_CNN:.2f})"))
    if args.figure is not None:
        print(f"wrote {args.figure}")
    return {"rows": rows, "median": median}


if __name__ == "__main__":
    main()
    sys.exit(0)
