"""NumPy's own float64 inner loops for ``tanh``, ``sin``, ``cos`` and ``expit``, callable
from compiled code.

Why: numpy's ``tanh`` is not the C library's (it differs in the last bit for about a quarter
of inputs on x86-64 with AVX2), and on some CPUs its ``sin``/``cos`` are not either. Over a
100,000-step pole episode one last-bit difference can turn "solved" into "failed". So the
compiled kernel does not call libm: it calls the very function numpy's ufunc calls — the
``d->d`` entry of the ufunc's loop table — and the kernel and the numpy reference agree on
every machine by construction, not by two implementations that happen to match.

A ufunc's loop table sits in the public ``PyUFuncObject`` struct (numpy/ufuncobject.h):
``functions``, ``data``, ``ntypes``, ``name`` and ``types`` follow ``PyObject_HEAD`` and four
ints. :func:`find_loop` reads them with ctypes, checks the name and the count against what
Python sees, and proves the loop on probe values against the ufunc itself (every length
1..17, so SIMD tails are covered, plus signed zeros, infinities and NaN). Anything unexpected
raises :class:`LoopUnavailable` and the tasks fall back to the numpy reference.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

_PTR = ctypes.sizeof(ctypes.c_void_p)
_HEAD = 2 * _PTR  # PyObject_HEAD: ob_refcnt, ob_type (release builds)
_OFF_FUNCTIONS = _HEAD + 4 * ctypes.sizeof(ctypes.c_int)  # after nin, nout, nargs, identity
_OFF_DATA = _OFF_FUNCTIONS + _PTR
_OFF_NTYPES = _OFF_DATA + _PTR
_OFF_NAME = _OFF_NTYPES + 2 * ctypes.sizeof(ctypes.c_int)  # ntypes, reserved1
_OFF_TYPES = _OFF_NAME + _PTR

_LOOP = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


class LoopUnavailable(RuntimeError):
    """This numpy's loop table could not be read or did not reproduce the ufunc."""


@dataclass(frozen=True)
class Loop:
    """Address of a ufunc's float64 inner loop and the ``data`` pointer it expects."""

    name: str
    function: int
    data: int


def _read(ufunc: np.ufunc) -> tuple[int, int, int, bytes, bytes]:
    base = id(ufunc)
    nin, nout, nargs = (ctypes.c_int * 3).from_address(base + _HEAD)
    functions = ctypes.c_void_p.from_address(base + _OFF_FUNCTIONS).value or 0
    data = ctypes.c_void_p.from_address(base + _OFF_DATA).value or 0
    ntypes = ctypes.c_int.from_address(base + _OFF_NTYPES).value
    name = ctypes.c_char_p.from_address(base + _OFF_NAME).value or b""
    if (nin, nout, nargs) != (ufunc.nin, ufunc.nout, ufunc.nargs) or ntypes != ufunc.ntypes:
        raise LoopUnavailable(f"{ufunc.__name__}: unexpected PyUFuncObject layout")
    types_at = ctypes.c_void_p.from_address(base + _OFF_TYPES).value
    if not functions or not types_at:
        raise LoopUnavailable(f"{ufunc.__name__}: no loop table")
    types = ctypes.string_at(types_at, ntypes * nargs)
    return functions, data, ntypes, name, types


def _probe_values() -> list[np.ndarray]:
    rng = np.random.default_rng(20261201)
    special = np.array([0.0, -0.0, 1e-300, -1e-300, 0.5, -0.5, 20.0, -20.0, 710.0, -745.0])
    special = np.concatenate([special, [np.inf, -np.inf, np.nan]])
    wide = rng.uniform(-8.0, 8.0, 4000)
    small = rng.normal(0.0, 0.3, 4000)
    return [special, wide, small] + [rng.uniform(-3.0, 3.0, n) for n in range(1, 18)]


def _call(loop: Loop, x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, np.float64)
    out = np.empty_like(x)
    args = (ctypes.c_void_p * 2)(x.ctypes.data, out.ctypes.data)
    dims = (ctypes.c_ssize_t * 1)(x.size)
    steps = (ctypes.c_ssize_t * 2)(8, 8)
    _LOOP(loop.function)(args, dims, steps, loop.data or None)
    return out


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal to the last bit (so -0.0 != 0.0), any NaN equal to any NaN."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    return a.shape == b.shape and bool(np.all(both_nan | (a.view(np.int64) == b.view(np.int64))))


def find_loop(ufunc: np.ufunc) -> Loop:
    """The ``d->d`` loop of a one-in one-out ufunc, proven on probe values."""
    functions, data, ntypes, name, types = _read(ufunc)
    if name.decode() != ufunc.__name__:
        raise LoopUnavailable(f"{ufunc.__name__}: the loop table names {name!r}")
    want = bytes([np.dtype(np.float64).num] * ufunc.nargs)
    for i in range(ntypes):  # numpy resolves to the first matching entry: so do we
        if types[i * ufunc.nargs : (i + 1) * ufunc.nargs] == want:
            function = ctypes.c_void_p.from_address(functions + i * _PTR).value or 0
            extra = (ctypes.c_void_p.from_address(data + i * _PTR).value or 0) if data else 0
            loop = Loop(ufunc.__name__, function, extra)
            break
    else:
        raise LoopUnavailable(f"{ufunc.__name__}: no float64 loop")
    with np.errstate(all="ignore"):
        for x in _probe_values():
            if not same_bits(_call(loop, x), ufunc(x)):
                raise LoopUnavailable(f"{ufunc.__name__}: its loop does not reproduce the ufunc")
    return loop
