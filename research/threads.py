"""BLAS threads per process: the root setting ``blas_threads``, applied with threadpoolctl, and
the tags that say what a run's numerics depended on.

``auto`` (the default) pins BLAS to one thread per process: measured on this 2-core machine
(``bench/blas_threads.py``, README), one thread is never slower for these small networks and
is much faster as soon as another process computes beside it (study workers, evolution pool
processes, anything else on the machine), where each process's idle BLAS threads spin and
oversubscribe the cores. ``null`` leaves BLAS's own default (one thread per core, or what
``OPENBLAS_NUM_THREADS`` says); an int pins that many threads.
"""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np
import scipy.special  # noqa: F401 - loads scipy's own BLAS now, so that a limit covers it too
from threadpoolctl import threadpool_info, threadpool_limits

try:  # numpy's own record of its SIMD targets, as numpy.show_runtime() reads it
    from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__, __cpu_features__

    _CPU = (__cpu_baseline__, __cpu_dispatch__, __cpu_features__)
except ImportError:
    _CPU = None

AUTO = "auto"
ALLOWED = "auto, null (BLAS's own default) or an int >= 1"
#: threads per process under ``auto``: with one process computing, and with several
AUTO_SINGLE = 1
AUTO_SEVERAL = 1

_state: dict[str, Any] = {"limits": None, "setting": AUTO, "applied": None}


def is_valid(value: Any) -> bool:
    """``auto``, None or an int >= 1 (not a bool)."""
    if value is None or value == AUTO:
        return True
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def processes_of(groups: dict[str, Any]) -> int:
    """How many processes compute at once for this command: ``study.workers`` of a search,
    ``study.processes`` of an evolution, else 1."""
    study = groups.get("study")
    return max(int(getattr(study, "workers", 1)), int(getattr(study, "processes", 1)))


def resolve(setting: Any, processes: int = 1) -> int | None:
    """The thread count to pin (None: leave BLAS's default) for ``setting``."""
    if setting == AUTO:
        return AUTO_SEVERAL if processes > 1 else AUTO_SINGLE
    return None if setting is None else int(setting)


def apply(threads: int | None, setting: Any = None) -> None:
    """Pin every loaded BLAS library of this process to ``threads`` (None: restore its
    original count). Replaces what an earlier call set; ``setting`` is kept for the tags."""
    if _state["limits"] is not None:
        _state["limits"].restore_original_limits()
        _state["limits"] = None
    if threads is not None:
        _state["limits"] = threadpool_limits(limits=threads, user_api="blas")
    _state["applied"] = threads
    _state["setting"] = threads if setting is None else setting


def configure(setting: Any, groups: dict[str, Any]) -> int | None:
    """Resolve ``setting`` for the command's processes and apply it here; returns the count
    pinned (None: BLAS's default) for the pool or worker processes to apply too."""
    threads = resolve(setting, processes_of(groups))
    apply(threads, setting)
    return threads


def applied() -> int | None:
    """What the last :func:`apply` pinned in this process (None: BLAS's default)."""
    return _state["applied"]


def _blas() -> list[dict[str, Any]]:
    return [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]


def _numpy_blas(libs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The BLAS library numpy's matrix products call (its wheel's own copy when there are
    several, e.g. numpy's and scipy's OpenBLAS)."""
    numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
    own = [lib for lib in libs if lib["filepath"].startswith(os.path.join(numpy_dir, "numpy"))]
    return (own or libs or [None])[0]


def in_effect() -> int | None:
    """The thread count numpy's BLAS uses now, read back from the library."""
    lib = _numpy_blas(_blas())
    return None if lib is None else int(lib["num_threads"])


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def numpy_simd() -> str:
    """The SIMD targets numpy's own loops run on this CPU (``exp``, ``tanh``, sums): other
    targets round some results differently, so they belong with the BLAS kernel among what a
    run's numbers depend on (``NPY_DISABLE_CPU_FEATURES`` changes them)."""
    if _CPU is None:  # another numpy layout: say so rather than guess
        return "unknown"
    baseline, dispatch, features = _CPU
    return " ".join([*baseline, *(f for f in dispatch if features.get(f))])


def _static_tags() -> dict[str, str]:
    if "static" not in _state:
        lib = _numpy_blas(_blas())
        library = "none"
        if lib is not None:
            parts = [lib.get("internal_api"), lib.get("version")]
            parts += [lib.get("threading_layer"), lib.get("architecture")]
            library = " ".join(str(p) for p in parts if p)
        _state["static"] = {
            "blas.library": library,
            "versions.numpy": np.__version__,
            "numpy.simd": numpy_simd(),
            "cpu.model": cpu_model(),
            "cpu.count": str(os.cpu_count()),
        }
    return _state["static"]


def tags() -> dict[str, str]:
    """``blas.threads`` in effect in this process (read back), the setting, the BLAS library
    (name, version, threading, kernel), numpy's version and the CPU: what numerics depend on."""
    threads = in_effect()
    setting = _state["setting"]
    return {
        "blas.threads": "default" if threads is None else str(threads),
        "blas.threads.setting": "null" if setting is None else str(setting),
        **_static_tags(),
    }
