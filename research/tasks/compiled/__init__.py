"""Compiled task kernels (Numba), with the numpy reference as the fallback.

:func:`pole_episodes` runs whole pole-balancing episodes — network, force, physics — in
one compiled call that gives bit for bit what the numpy reference
(:func:`research.tasks.pole.simulate`) gives; :func:`net_table` says whether a network can
go there (float64 MLP or Elman net, activations linear/tanh/sigmoid/relu/leaky_relu, at most
64 inputs per unit, as the reference's fixed-order sums).

The kernel is loaded on first use (importing Numba costs ~0.8 s, compiling ~10 s once; the
compiled code is cached on disk). When Numba is missing or broken, or ``RESEARCH_JIT=0``,
the tasks use the numpy reference — same numbers, slower — after one logged line.

Cache: Numba writes compiled code beside the module by default; here it goes to
``$NUMBA_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/research/numba`` (``~/.cache/...``).
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from types import ModuleType

import numpy as np
from scipy.special import expit

from research.nn.elman import ElmanNet
from research.nn.mlp import MLP
from research.nn.population import FIXED_ORDER_MAX
from research.tasks.compiled import codes
from research.tasks.compiled.ufunc_loops import LoopUnavailable, find_loop

log = logging.getLogger(__name__)

JIT_ENV = "RESEARCH_JIT"  # "0" turns the compiled kernels off
_state: dict[str, object] = {}


def cache_dir() -> Path:
    """Where compiled code is cached: $NUMBA_CACHE_DIR, else the user's cache folder."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "research" / "numba"


def _load() -> tuple[ModuleType, np.ndarray]:
    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir()))
    numba = importlib.import_module("numba")
    numba.config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]  # if numba was imported before
    kernel = importlib.import_module("research.tasks.compiled.pole_kernel")
    loops = np.zeros((4, 2), np.int64)
    for row, ufunc in ((0, np.tanh), (1, np.sin), (2, np.cos), (3, expit)):
        loop = find_loop(ufunc)
        loops[row] = loop.function, loop.data
    return kernel, loops


def _unavailable(why: str) -> None:
    log.warning(
        "compiled pole kernel unavailable (%s); using the numpy reference (same numbers, slower)",
        why,
    )
    _state["kernel"] = None


def kernel() -> tuple[ModuleType, np.ndarray] | None:
    """The compiled pole kernel and numpy's loop table, or None (reason logged once)."""
    if "kernel" not in _state:
        if os.environ.get(JIT_ENV, "1").strip() == "0":
            log.warning("%s=0: pole tasks run on the numpy reference (same numbers)", JIT_ENV)
            _state["kernel"] = None
        else:
            try:
                _state["kernel"] = _load()
            except (ImportError, OSError, LoopUnavailable) as error:
                _unavailable(str(error).splitlines()[0])
    return _state["kernel"]  # type: ignore[return-value]


def net_table(net) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """(layers, activation codes, recurrent) describing ``net`` to the kernel, or None when
    the kernel cannot reproduce it exactly (the numpy reference runs it then)."""
    if net.dtype != np.float64:
        return None
    view = net.layout.slices
    if isinstance(net, ElmanNet):
        names = (net.act.name, net.act.name, net.out.name)
        H = net.n_hidden
        rows = [
            (net.n_inputs, H, view["Wx"][0].start, view["bh"][0].start if net.bias else -1),
            (H, H, view["Wh"][0].start, -1),
            (H, net.n_outputs, view["Wo"][0].start, view["bo"][0].start if net.bias else -1),
        ]
        recurrent = True
    elif isinstance(net, MLP) and not net.batch_norm and not net.dropout:
        names = tuple(a.name for a in net.acts) + (net.out.name,)
        rows = [
            (
                net.sizes[l],
                net.sizes[l + 1],
                view[f"W{l}"][0].start,
                view[f"b{l}"][0].start if f"b{l}" in view else -1,
            )
            for l in range(net.n_layers)
        ]
        recurrent = False
    else:
        return None
    if (
        any(name not in codes.ACTIVATIONS for name in names)
        or max(r[0] for r in rows) > FIXED_ORDER_MAX
    ):
        return None
    acts = np.array([codes.ACTIVATIONS[name] for name in names], np.int64)
    return np.array(rows, np.int64), acts, recurrent


def pole_episodes(
    net,
    thetas: np.ndarray,
    start: np.ndarray,
    params,
    max_steps: int,
    *,
    velocities: bool,
    bias_input: float | None,
    force: str,
    track_jiggle: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(steps, final states, jiggle sums) of the episodes of networks ``thetas`` (P, n_params)
    from ``start`` (P, n) — exactly :func:`research.tasks.pole.simulate`'s — or None when
    the kernel is unavailable or cannot run ``net`` (the caller runs the reference then)."""
    table = net_table(net)
    loaded = kernel() if table is not None else None
    if loaded is None:
        return None
    module, loops = loaded
    layers, acts, recurrent = table
    physics = np.array([float(getattr(params, f)) for f in codes.PHYSICS_FIELDS])
    try:
        return module.episodes(
            layers,
            acts,
            recurrent,
            np.ascontiguousarray(thetas, np.float64),
            np.ascontiguousarray(start, np.float64),
            int(max_steps),
            int(params.n_poles),
            int(params.substeps),
            physics,
            codes.OBS_MARKOV if velocities else codes.OBS_NO_VELOCITY,
            bias_input is not None,
            0.0 if bias_input is None else float(bias_input),
            codes.FORCE_TANH if force == "tanh" else codes.FORCE_SIGMOID,
            bool(track_jiggle),
            loops,
        )
    except module.NumbaError as error:  # a compiler fault: never a crash, the same numbers
        _unavailable(f"it did not compile: {str(error).splitlines()[0]}")
        return None
