"""Microseconds per network-step of the pole tasks: numpy reference vs compiled kernel.

    python bench/pole_speed.py [--populations 1 10 100 1000] [--repeat 3]

One network-step = one action of one network: its forward pass, the force, two RK4 steps
and the failure test. Each task runs its design set-up net (single pole 4-8-1 MLP, double
pole 6-6-1 MLP, no velocities 3-3-1 Elman; tanh, no biases, no bias input) with random
weights and the failure bounds lifted, so every individual runs every step and the count is
exact (P x steps). Both paths run in this process, interleaved, best of ``--repeat``; the
table prints the ratio numpy / kernel (higher = kernel faster) and checks that both gave
the same final states. Targets (issue 12): <= 5 us per network-step at P = 1, and the kernel
no slower than numpy at P = 1000.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from research.nn.elman import ElmanNet
from research.nn.mlp import MLP
from research.tasks import make_task, pole
from research.tasks.balance import run_episodes
from research.tasks.compiled import kernel, net_table

NETS = {
    "pole_single": lambda n_in: MLP(
        [n_in, 8, 1], ["tanh"], "linear", "quadratic", bias=False, dtype="float64"
    ),
    "pole_double": lambda n_in: MLP(
        [n_in, 6, 1], ["tanh"], "linear", "quadratic", bias=False, dtype="float64"
    ),
    "pole_double_nv": lambda n_in: ElmanNet(n_in, 3, 1, bias=False, dtype="float64"),
}
#: network-steps per timed call, about 0.1-0.5 s each
WORK = {"numpy": 20_000, "kernel": 400_000}


def timed(task, net, thetas, steps: int, compiled: bool, repeat: int):
    start = pole.standard_start(len(thetas), task.params)
    best, episode = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        episode = run_episodes(
            task,
            net,
            thetas,
            start,
            steps,
            track_jiggle=task.name == "pole_double_nv",
            compiled=compiled,
        )
        best = min(best, time.perf_counter() - began)
    assert (episode.steps == steps).all(), "an individual failed although bounds are lifted"
    return best / (len(thetas) * steps) * 1e6, episode


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--populations", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if kernel() is None:
        raise SystemExit("the compiled kernel is unavailable here: nothing to compare")
    print(f"us per network-step (best of {args.repeat}); ratio = numpy / kernel")
    print(f"{'task':16} {'P':>5} {'numpy':>9} {'kernel':>9} {'ratio':>8}  same")
    for name, build in NETS.items():
        task = make_task(name, bias_input=None)
        task.params = dataclasses.replace(
            task.params, x_limit=float("inf"), angle_limit=float("inf")
        )
        net = build(task.n_inputs)
        assert net_table(net) is not None, f"the kernel cannot run {name}'s network"
        rng = np.random.default_rng(0)
        for P in args.populations:
            thetas = rng.normal(0.0, 0.5, (P, net.n_params))
            steps = {k: max(5, w // P) for k, w in WORK.items()}
            us_np, ep_np = timed(task, net, thetas, steps["numpy"], False, args.repeat)
            us_k, _ = timed(task, net, thetas, steps["kernel"], True, args.repeat)
            _, ep_k = timed(task, net, thetas, steps["numpy"], True, 1)
            same = np.array_equal(ep_np.final, ep_k.final)
            print(f"{name:16} {P:5d} {us_np:9.3f} {us_k:9.3f} {us_np / us_k:7.1f}x  {same}")


if __name__ == "__main__":
    run()
