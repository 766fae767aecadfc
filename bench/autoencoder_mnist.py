"""Denoising and contractive autoencoders on real MNIST, against PCA (issue 10).

    python bench/autoencoder_mnist.py [--n-train 10000] [--epochs 30] [--code 64]
        [--noise 0.25] [--contractive 0.01 0.1] [--lr 0.01] [--batch 64] [--seed 0] [--quick]

1. Denoising: ``model=autoencoder`` (sigmoid code of ``--code`` units, sigmoid output,
   cross-entropy, masking noise ``--noise`` in training) trained by the framework's own fit
   loop (Adam) on the first ``--n-train`` MNIST training images. On the 10000 test images,
   corrupted with the same masking noise, the mean squared error per pixel of the
   reconstruction against the CLEAN image, beside PCA with as many components (fit on the
   clean training images, reconstructing the noisy test image). The issue asks AE < PCA.
2. Contractive: the same autoencoder trained again with each ``--contractive`` weight; the
   encoder Jacobian's mean squared Frobenius norm on the clean test images for each, the
   ratio to the weight-0 network, and each one's reconstruction errors.

Data: ``--data`` (default ../shared/data/mnist.npz), checked against the MD5 sums of the
official IDX files in its README. Pixels are scaled to [0, 1] by the ``mnist`` loader.
"""

from __future__ import annotations

import argparse
import hashlib
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

from research import threads
from research.config import compose, validate
from research.nn.autoencoder import AutoencoderModel, build_autoencoder
from research.nn.build import MODELS
from research.train.fit import fit_model
from research.train.prepare import prepare

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"
#: MD5 of each array written as its official IDX file (shared/data/README.md)
IDX_MD5 = {
    "x_train": "6bbc9ace898e44ae57da46a324031adb",
    "x_test": "2646ac647ad5339dbf082846283269ea",
    "y_train": "a25bea736e30d166cdddb491f175f624",
    "y_test": "27ae3e4e09519cfbb04c329615203637",
}


def check_md5(path: Path) -> None:
    """Each array, with its IDX header (magic 0x0801 labels / 0x0803 images, big-endian
    sizes), hashes to the official file's MD5."""
    with np.load(path, allow_pickle=False) as f:
        for key, expected in IDX_MD5.items():
            a = np.ascontiguousarray(f[key], dtype=np.uint8)
            header = bytes([0, 0, 8, a.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in a.shape)
            got = hashlib.md5(header + a.tobytes()).hexdigest()
            if got != expected:
                sys.exit(f"{path}: {key} has MD5 {got}, expected {expected} (README.md)")
    print(f"data: {path} (MD5 of the four IDX arrays match the README)")


def register() -> None:
    """``model=autoencoder`` for the config layer, unless research.nn.build registers it."""
    if "autoencoder" not in MODELS.names():
        MODELS.register("autoencoder", schema=AutoencoderModel)(build_autoencoder)


def train(args, contractive: float):
    overrides = [
        "model=autoencoder",
        f"model.code={args.code}",
        f"model.noise={args.noise}",
        f"model.contractive={contractive}",
        "data=mnist",
        f"data.path={args.data}",
        f"data.n_train={args.n_train}",
        f"data.n_val={args.n_val}",
        "regime=adam",
        f"regime.lr={args.lr}",
        f"regime.batch_size={args.batch}",
        f"regime.epochs={args.epochs}",
        "regime.eval_train=false",
        f"seed={args.seed}",
    ]
    cfg = compose(overrides)
    groups = validate(cfg)
    threads.configure(cfg.blas_threads, groups)  # auto: one BLAS thread, as a run has
    data, net = prepare(groups["data"], groups["model"], args.seed)
    result = fit_model(net, groups["regime"], data, seed=args.seed)
    last = result.history[-1]
    print(
        f"  trained contractive={contractive}: {result.epochs} epochs in {result.seconds:.1f} s "
        f"({result.status}); val/recon {result.history[0]['val/recon']:.4f} -> "
        f"{last['val/recon']:.4f}"
    )
    return net, data


def mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared error per pixel (float64 sums)."""
    return float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=MNIST)
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--n-val", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--code", type=int, default=64)
    parser.add_argument("--noise", type=float, default=0.25)
    parser.add_argument("--contractive", type=float, nargs="+", default=[0.01, 0.1])
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="1000 images, 2 epochs")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_train, args.n_val, args.epochs = 1000, 500, 2
    print("command: python " + shlex.join(["bench/autoencoder_mnist.py", *(argv or sys.argv[1:])]))
    print(
        f"settings: n_train={args.n_train} n_val={args.n_val} epochs={args.epochs} "
        f"code={args.code} noise={args.noise} (mask) lr={args.lr} batch={args.batch} "
        f"seed={args.seed}"
    )
    check_md5(args.data)
    register()
    started = time.perf_counter()

    net, data = train(args, 0.0)
    clean = data.x_test.reshape(len(data.x_test), -1)
    noisy = net.corrupt(clean, np.random.default_rng(args.seed))  # the training noise
    pca = PCA(n_components=args.code, random_state=args.seed).fit(data.x_train)
    ae_noisy, ae_clean = mse(net.predict(noisy), clean), mse(net.predict(clean), clean)
    pca_noisy = mse(pca.inverse_transform(pca.transform(noisy)), clean)
    pca_clean = mse(pca.inverse_transform(pca.transform(clean)), clean)
    print(f"\n1. denoising, test set ({len(clean)} images), MSE per pixel against clean images")
    print(f"   {'':28}{'noisy input':>12}{'clean input':>12}")
    print(f"   {'autoencoder (code ' + str(args.code) + ')':28}{ae_noisy:12.5f}{ae_clean:12.5f}")
    print(f"   {'PCA (' + str(args.code) + ' components)':28}{pca_noisy:12.5f}{pca_clean:12.5f}")
    verdict = "below" if ae_noisy < pca_noisy else "NOT below"
    print(f"   ratio AE / PCA on noisy inputs: {ae_noisy / pca_noisy:.3f} (AE {verdict} PCA)")

    rows = [(0.0, net)] + [(w, train(args, w)[0]) for w in args.contractive if w != 0]
    base = net.jacobian_norm(clean)
    print("\n2. contractive: mean ||d code / d input||_F^2 on clean test images")
    print(f"   {'weight':>8}{'jacobian':>12}{'ratio':>8}{'MSE noisy':>12}{'MSE clean':>12}")
    for weight, model in rows:
        jac = model.jacobian_norm(clean)
        print(
            f"   {weight:8g}{jac:12.4f}{jac / base:8.3f}"
            f"{mse(model.predict(noisy), clean):12.5f}{mse(model.predict(clean), clean):12.5f}"
        )
    print(f"\nwall time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
