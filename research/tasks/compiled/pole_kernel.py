"""The pole-balancing episode compiled with Numba: network forward pass, force, two RK4 steps
and the failure test of every individual, for as many actions as it survives, in one call.

It is the numpy reference (:func:`research.tasks.pole.simulate` driving
:class:`research.tasks.balance.NetController`) transcribed operation by operation: the same
lock-step over the still-balancing individuals (states held (n, A), failed ones compacted
away), the same order of every multiply and add (no fastmath, so no fused multiply-adds),
fixed-order sums in the affine maps, and numpy's own ``tanh``/``sin``/``cos``/``expit``
loops (:mod:`.ufunc_loops`) for the transcendental functions. Everything is elementwise
over individuals, so an individual's trajectory is bit-identical whatever population it is
simulated in, including a population of one; ``tests/tasks/test_pole_kernel.py`` checks
kernel == reference state by state.

Networks arrive as a table of affine maps ``layers`` (rows: n_in, n_out, offset of W in
theta, offset of b or -1) with an activation code per row; an Elman net is the three rows
x->h (with bh), h->h (no bias, added to the first) and h->y.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core.errors import NumbaError
from numba.core.extending import intrinsic

from research.tasks.compiled.codes import (
    FORCE_TANH,
    LEAKY_RELU,
    LOOP_COS,
    LOOP_EXPIT,
    LOOP_SIN,
    LOOP_TANH,
    OBS_MARKOV,
    RELU,
    SIGMOID,
    TANH,
)

FORCE_MAG = 10.0
DAMPING_WINDOW = 100
__all__ = ["NumbaError", "episodes"]


@intrinsic
def _call_loop(typingctx, function, args, dims, steps, data):
    """Call a numpy inner loop ``void f(char **args, npy_intp *dims, npy_intp *steps,
    void *data)`` given as addresses (intp), so the kernel stays cacheable."""
    sig = types.void(function, args, dims, steps, data)

    def codegen(context, builder, signature, llargs):
        i8p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i8p, i8p, i8p])
        fn = builder.inttoptr(llargs[0], fnty.as_pointer())
        builder.call(fn, [builder.inttoptr(a, i8p) for a in llargs[1:]])
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True)
def _ufunc(loops, which, src, dst, count, scratch):
    """dst[:count] = ufunc(src[:count]) through numpy's own loop (contiguous float64)."""
    if count == 0:
        return
    scratch[0] = src.ctypes.data
    scratch[1] = dst.ctypes.data
    scratch[2] = count
    scratch[3] = 8
    scratch[4] = 8
    base = scratch.ctypes.data
    _call_loop(loops[which, 0], base, base + 16, base + 24, loops[which, 1])


@njit(cache=True)
def _activate(code, z, out, count, loops, scratch):
    """out[:count] = f(z[:count]) exactly as the project's activation ``code`` computes it."""
    if code == TANH:
        _ufunc(loops, LOOP_TANH, z, out, count, scratch)
    elif code == SIGMOID:
        _ufunc(loops, LOOP_EXPIT, z, out, count, scratch)
    elif code == RELU:  # np.maximum(z, 0): NaN stays NaN, -0.0 becomes +0.0
        for k in range(count):
            v = z[k]
            out[k] = v if (v > 0.0 or v != v) else 0.0
    elif code == LEAKY_RELU:  # np.where(z > 0, z, z * 0.01)
        for k in range(count):
            v = z[k]
            out[k] = v if v > 0.0 else v * 0.01
    else:
        for k in range(count):
            out[k] = z[k]


@njit(cache=True)
def _affine(thetas, alive, A, a, n_in, n_out, w_off, b_off, z):
    """z[j, :] = sum_i a[j, i] W[i, :] (+ b) in the order i = 0, 1, ... for each of the A
    active individuals (row-major (A, n_in) -> (A, n_out) in flat buffers)."""
    for j in range(A):
        th = thetas[alive[j]]
        for k in range(n_out):
            s = a[j * n_in] * th[w_off + k]
            for i in range(1, n_in):
                s += a[j * n_in + i] * th[w_off + i * n_out + k]
            if b_off >= 0:
                s += th[b_off + k]
            z[j * n_out + k] = s


@njit(cache=True)
def _forward(thetas, alive, A, layers, acts, recurrent, obs, h, bufs, raw, loops, scratch):
    """raw[:A] = first output of each active network on ``obs``; Elman nets update h."""
    a, z, zh = bufs[0], bufs[1], bufs[2]
    if recurrent:
        n_in, H, n_out = layers[0, 0], layers[0, 1], layers[2, 1]
        _affine(thetas, alive, A, obs, n_in, H, layers[0, 2], layers[0, 3], z)
        _affine(thetas, alive, A, h, H, H, layers[1, 2], -1, zh)
        for k in range(A * H):
            z[k] += zh[k]
        _activate(acts[0], z, h, A * H, loops, scratch)
        _affine(thetas, alive, A, h, H, n_out, layers[2, 2], layers[2, 3], z)
        _activate(acts[2], z, a, A * n_out, loops, scratch)
    else:  # MLP: affine into z, activation into the buffer the layer did not read
        src = obs
        n_out = layers[0, 1]
        for l in range(layers.shape[0]):
            n_in, n_out = layers[l, 0], layers[l, 1]
            out = bufs[0] if l % 2 == 0 else bufs[2]
            _affine(thetas, alive, A, src, n_in, n_out, layers[l, 2], layers[l, 3], z)
            _activate(acts[l], z, out, A * n_out, loops, scratch)
            src = out
        a = src
    for j in range(A):
        raw[j] = a[j * n_out]


@njit(cache=True)
def _observe(y, A, obs_mode, has_bias, bias, obs):
    """The task's inputs for the A active states (as markov_inputs/velocity_free_inputs)."""
    n = y.shape[0]
    if obs_mode == OBS_MARKOV:
        width = n + (1 if has_bias else 0)
        for j in range(A):
            o = j * width
            obs[o] = y[0, j] / 4.8
            obs[o + 1] = y[1, j] / 2.0
            obs[o + 2] = y[2, j] / 0.52
            obs[o + 3] = y[3, j] / 2.0
            if n == 6:
                obs[o + 4] = y[4, j] / 0.52
                obs[o + 5] = y[5, j] / 2.0
            if has_bias:
                obs[o + n] = bias
    else:
        width = 3 + (1 if has_bias else 0)
        for j in range(A):
            o = j * width
            obs[o] = y[0, j] / 4.8
            obs[o + 1] = y[2, j] / 0.52
            obs[o + 2] = y[4, j] / 0.52
            if has_bias:
                obs[o + 3] = bias


@njit(cache=True)
def _forces(raw, A, force_mode, force, loops, scratch):
    """F = 10 tanh(out), or (clip(out, 0, 1) - 0.5) 20 for a sigmoid output."""
    if force_mode == FORCE_TANH:
        _ufunc(loops, LOOP_TANH, raw, force, A, scratch)
        for j in range(A):
            force[j] = FORCE_MAG * force[j]
    else:
        for j in range(A):
            v = raw[j]
            if v == v:  # np.clip propagates NaN
                v = v if v > 0.0 else 0.0
                v = v if v < 1.0 else 1.0
            force[j] = (v - 0.5) * (2 * FORCE_MAG)


@njit(cache=True)
def _derivs(y, force, A, n_poles, phys, trig, loops, scratch, d):
    """d[:, :A] = dy/dt, in pole._derivs' order of operations."""
    M, m1, l1, m2, l2, mup, g = phys[0], phys[1], phys[2], phys[3], phys[4], phys[5], phys[6]
    ang, cos1, sin1, cos2, sin2 = trig[0], trig[1], trig[2], trig[3], trig[4]
    for j in range(A):
        ang[j] = y[2, j]
    _ufunc(loops, LOOP_COS, ang, cos1, A, scratch)
    _ufunc(loops, LOOP_SIN, ang, sin1, A, scratch)
    if n_poles == 2:
        for j in range(A):
            ang[j] = y[4, j]
        _ufunc(loops, LOOP_COS, ang, cos2, A, scratch)
        _ufunc(loops, LOOP_SIN, ang, sin2, A, scratch)
    ml1 = l1 * m1
    ml2 = l2 * m2
    c1 = 0.75 * m1
    c2 = 0.75 * m2
    for j in range(A):
        gsin1 = g * sin1[j]
        temp1 = mup * y[3, j] / ml1
        fi1 = ml1 * y[3, j] * y[3, j] * sin1[j] + c1 * cos1[j] * (temp1 + gsin1)
        mi1 = m1 * (1.0 - 0.75 * cos1[j] * cos1[j])
        if n_poles == 2:
            gsin2 = g * sin2[j]
            temp2 = mup * y[5, j] / ml2
            fi2 = ml2 * y[5, j] * y[5, j] * sin2[j] + c2 * cos2[j] * (temp2 + gsin2)
            mi2 = m2 * (1.0 - 0.75 * cos2[j] * cos2[j])
            xdd = (force[j] + fi1 + fi2) / (mi1 + mi2 + M)
            d[4, j] = y[5, j]
            d[5, j] = -0.75 * (xdd * cos2[j] + gsin2 + temp2) / l2
        else:
            xdd = (force[j] + fi1) / (mi1 + M)
        d[0, j] = y[1, j]
        d[1, j] = xdd
        d[2, j] = y[3, j]
        d[3, j] = -0.75 * (xdd * cos1[j] + gsin1 + temp1) / l1


@njit(cache=True)
def _rk4(y, force, A, n_poles, phys, trig, loops, scratch, work):
    """One RK4 step of tau in place, in the C code's order: y + tau/6 (k1 + k4 + 2 (k2 + k3))."""
    tau = phys[7]
    hh = tau * 0.5
    h6 = tau / 6.0
    dydx, dyt, dym, yt = work[0], work[1], work[2], work[3]
    n = y.shape[0]
    _derivs(y, force, A, n_poles, phys, trig, loops, scratch, dydx)
    for i in range(n):
        for j in range(A):
            yt[i, j] = y[i, j] + hh * dydx[i, j]
    _derivs(yt, force, A, n_poles, phys, trig, loops, scratch, dyt)
    for i in range(n):
        for j in range(A):
            yt[i, j] = y[i, j] + hh * dyt[i, j]
    _derivs(yt, force, A, n_poles, phys, trig, loops, scratch, dym)
    for i in range(n):
        for j in range(A):
            yt[i, j] = y[i, j] + tau * dym[i, j]
            dym[i, j] += dyt[i, j]
    _derivs(yt, force, A, n_poles, phys, trig, loops, scratch, dyt)
    for i in range(n):
        for j in range(A):
            y[i, j] = y[i, j] + h6 * (dydx[i, j] + dyt[i, j] + 2.0 * dym[i, j])


@njit(cache=True)
def _failed(y, j, n_poles, x_limit, angle_limit):
    """Not within bounds (so NaN fails), as pole._failed."""
    out = not abs(y[0, j]) <= x_limit or not abs(y[2, j]) <= angle_limit
    if n_poles == 2:
        out = out or not abs(y[4, j]) <= angle_limit
    return out


@njit(cache=True)
def episodes(
    layers,
    acts,
    recurrent,
    thetas,
    starts,
    max_steps,
    n_poles,
    substeps,
    phys,
    obs_mode,
    has_bias,
    bias,
    force_mode,
    track_jiggle,
    loops,
):
    """(steps, final states, jiggle sums) of P episodes from ``starts`` (P, n); see
    :func:`research.tasks.pole.simulate` for their meaning."""
    P, n = starts.shape
    steps = np.full(P, max_steps, np.int64)
    final = starts.copy()
    y = np.ascontiguousarray(starts.T)
    alive = np.arange(P)
    width = 1
    for l in range(layers.shape[0]):
        width = max(width, layers[l, 0], layers[l, 1])
    bufs = np.zeros((3, P * width + 1))
    obs = np.zeros(P * width + 1)
    hidden = layers[0, 1] if recurrent else 1
    h = np.zeros(P * hidden + 1)  # Elman state, zero at the start of every episode
    raw = np.zeros(P)
    force = np.zeros(P)
    trig = np.zeros((5, P))
    work = np.zeros((4, n, P))
    ring = np.zeros((P if track_jiggle else 0, DAMPING_WINDOW))
    scratch = np.zeros(5, np.intp)
    A = P
    for t in range(1, max_steps + 1):
        _observe(y, A, obs_mode, has_bias, bias, obs)
        _forward(thetas, alive, A, layers, acts, recurrent, obs, h, bufs, raw, loops, scratch)
        _forces(raw, A, force_mode, force, loops, scratch)
        for _ in range(substeps):
            _rk4(y, force, A, n_poles, phys, trig, loops, scratch, work)
        A = _compact(y, A, alive, h, hidden if recurrent else 0, t, steps, final, n_poles, phys)
        if A == 0:
            break
        if track_jiggle:
            c = (t - 1) % DAMPING_WINDOW
            for j in range(A):
                ring[alive[j], c] = abs(y[0, j]) + abs(y[1, j]) + abs(y[2, j]) + abs(y[3, j])
    for j in range(A):
        final[alive[j], :] = y[:, j]
    return steps, final, _jiggle_sums(ring, P, track_jiggle)


@njit(cache=True)
def _compact(y, A, alive, h, hidden, t, steps, final, n_poles, phys):
    """Drop the individuals that failed at step ``t`` (recording their steps and final
    state); the survivors keep their order. Returns how many are still balancing."""
    kept = 0
    for j in range(A):
        if _failed(y, j, n_poles, phys[8], phys[9]):
            steps[alive[j]] = t - 1
            final[alive[j], :] = y[:, j]
            continue
        if kept != j:
            y[:, kept] = y[:, j]
            alive[kept] = alive[j]
            for k in range(hidden):
                h[kept * hidden + k] = h[j * hidden + k]
        kept += 1
    return kept


@njit(cache=True)
def _jiggle_sums(ring, P, track_jiggle):
    """Each episode's jiggle over the last ``DAMPING_WINDOW`` steps, summed in a fixed column
    order, as the reference."""
    jiggle = np.zeros(P)
    if track_jiggle:
        for p in range(P):
            s = ring[p, 0]
            for c in range(1, DAMPING_WINDOW):
                s += ring[p, c]
            jiggle[p] = s
    return jiggle
