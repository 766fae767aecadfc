"""What a run's numbers depend on, and what README may claim about them.

Same machine, libraries and thread count: the same config and seed give bit-identical
numbers. Across machines they need not: OpenBLAS picks its matrix kernel by CPU
(``OPENBLAS_CORETYPE`` forces another one) and numpy picks its SIMD loops for ``exp``/``tanh``
by CPU (``NPY_DISABLE_CPU_FEATURES`` removes the best ones). Emulating another CPU both ways
here shows whether single-threaded float64 training is identical anyway — README claims it
only if so — and that whenever the numbers differ, the run tags that record the BLAS kernel
and numpy's SIMD targets differ too, so a difference between machines is explainable from
the runs alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from research import threads

#: a float64 MLP trained for two epochs on digits, one BLAS thread: (digest of its weights,
#: tags) as JSON
SCRIPT = """
import hashlib, json
from threadpoolctl import threadpool_limits
threadpool_limits(1, user_api="blas")
from research import threads
from research.config import compose, validate
from research.train.fit import fit
from research.train.prepare import prepare
cfg = compose(["data=digits", "model.dtype=float64", "regime.epochs=2", "model.hidden=[32]"])
groups = validate(cfg)
data, _ = prepare(groups["data"], groups["model"], cfg.seed)
digests = []
for _ in range(2):  # twice in one process: the same numbers, or nothing below means anything
    result = fit(groups["model"], groups["regime"], data, seed=cfg.seed)
    weights = b"".join(v.tobytes() for v in result.model.state_dict().values())
    digests.append(hashlib.sha256(weights).hexdigest())
assert digests[0] == digests[1], digests
digest = digests[0]
tags = {k: v for k, v in threads.tags().items() if k in ("blas.library", "numpy.simd")}
print(json.dumps({"digest": digest, "tags": tags}))
"""


def _train(**env: str) -> dict:
    full = {**os.environ, "OPENBLAS_NUM_THREADS": "1", **env}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=full, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _other_cpus() -> dict[str, dict[str, str]]:
    """Environments that make this machine compute as another CPU would."""
    tags = threads.tags()
    kernel = tags["blas.library"].split()[-1]
    others = {}
    if tags["blas.library"].startswith("openblas"):
        others["OpenBLAS kernel of an old CPU"] = {
            "OPENBLAS_CORETYPE": "Haswell" if kernel != "Haswell" else "Sandybridge"
        }
    best = tags["numpy.simd"].split()[-1]
    if best not in ("unknown",) and len(tags["numpy.simd"].split()) > 1:
        others["numpy without its best SIMD target"] = {"NPY_DISABLE_CPU_FEATURES": best}
    return others


def test_float64_training_is_identical_here_and_explained_elsewhere():
    here = _train()  # trains twice and checks the two agree
    others = _other_cpus()
    if not others:
        pytest.skip("numpy's BLAS is not OpenBLAS and numpy reports no SIMD dispatch")
    for label, env in others.items():
        there = _train(**env)
        if there["digest"] != here["digest"]:
            assert there["tags"] != here["tags"], (
                f"{label}: the numbers differ but the run tags do not say why: {here['tags']}"
            )
        print(f"{label} ({env}): {'identical' if there == here else 'different'} numbers")
