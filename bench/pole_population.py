"""Double-pole balancing speed: a whole population per numpy call vs one individual at a time.

Both sides run the same task code (``research.tasks``); the loop calls it with P = 1 for each
individual in turn. The population is a perturbed linear (LQR-like) controller in a bias-free
net, so individuals balance for varied lengths; the loop side times a sample of them and is
reported per individual-step. The issue's bar: batched >= 50x the loop.

    python bench/pole_population.py --population 1000 --steps 1000 [--kernel numpy|compiled]

``--kernel numpy`` (default) measures the vectorised numpy reference, whose per-call
overhead is what batching hides; with the compiled kernel one network alone is already
fast (``bench/pole_speed.py`` compares the two paths directly).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from research.nn import MLP, ElmanNet
from research.tasks import make_task

#: a stabilising linear controller for the Markov double pole, weights on the 7 inputs
LQR = np.array([-0.3278, -0.3468, -2.39, -2.4356, 2.0081, 0.6479, 0.0])


def population(net, P: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """P weight sets: the LQR controller embedded in ``net`` with multiplicative noise (in
    an Elman net: one tanh unit in its near-linear range, read out with gain 10)."""
    base = np.zeros(net.n_params)
    if isinstance(net, MLP):
        base[:] = LQR
    else:
        net.layout.view(base, "Wx")[:, 0] = 0.1 * LQR
        net.layout.view(base, "Wo")[0, 0] = 10.0
    thetas = base * np.exp(sigma * rng.standard_normal((P, net.n_params)))
    return thetas + 0.02 * rng.standard_normal((P, net.n_params))


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", type=int, default=1000, help="P for the batched call")
    ap.add_argument("--steps", type=int, default=1000, help="max actions per individual")
    ap.add_argument("--loop", type=int, default=40, help="individuals timed one at a time")
    ap.add_argument("--sigma", type=float, default=0.1, help="weight noise (log scale)")
    ap.add_argument("--net", choices=("mlp", "elman"), default="mlp")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kernel", choices=("numpy", "compiled"), default="numpy")
    args = ap.parse_args(argv)
    if args.kernel == "numpy":  # read when the first episode runs
        os.environ["RESEARCH_JIT"] = "0"
    rng = np.random.default_rng(args.seed)
    if args.net == "mlp":
        net = MLP([7, 1], [], "linear", "quadratic", dtype="float64", bias=False)
    else:
        net = ElmanNet(7, 4, 1, "tanh", "linear", bias=False, dtype="float64")
    task = make_task("pole_double", max_steps=args.steps)
    thetas = population(net, args.population, args.sigma, rng)

    t0 = time.perf_counter()
    batched = task.evaluate(net, thetas)
    t_batch = time.perf_counter() - t0
    steps_batch = int(batched.info["steps"].sum())

    sample = thetas[: args.loop]
    t0 = time.perf_counter()
    alone = [task.evaluate(net, theta[None, :]) for theta in sample]
    t_loop = time.perf_counter() - t0
    steps_loop = int(sum(r.info["steps"][0] for r in alone))
    same = all(
        r.fitness[0] == batched.fitness[k] and r.info["steps"][0] == batched.info["steps"][k]
        for k, r in enumerate(alone)
    )

    rate_batch = steps_batch / t_batch
    rate_loop = steps_loop / t_loop
    print(
        f"double pole, {args.net}, {net.n_params} weights, max {args.steps} actions, "
        f"{args.kernel} path"
    )
    print(
        f"batched  P={args.population}: {steps_batch:,} individual-steps in {t_batch:.2f} s "
        f"= {rate_batch:,.0f} steps/s (solved {int(batched.solved.sum())})"
    )
    print(
        f"loop     P=1 x {len(sample)}: {steps_loop:,} individual-steps in {t_loop:.2f} s "
        f"= {rate_loop:,.0f} steps/s"
    )
    print(f"ratio    {rate_batch / rate_loop:.1f}x (bar: >= 50x); results identical: {same}")
    return {"batched": rate_batch, "loop": rate_loop, "ratio": rate_batch / rate_loop}


if __name__ == "__main__":
    main()
