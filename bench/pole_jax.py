"""Why the pole kernel is Numba and not JAX: the single pole (4-8-1 bias-free tanh net, the
project's physics) written in JAX on CPU, float64.

    pip install jax && python bench/pole_jax.py

Prints how many inputs JAX's tanh/sin/cos give other bits than numpy's (the reference's)
and the microseconds per network-step at P = 1 and P = 1000. JAX has no way to call numpy's
own loops inside a jitted loop, and a fixed-shape lax loop keeps simulating networks that
already fell (no compaction), so this is an upper bound on its speed for real populations.
Compare with ``python bench/pole_speed.py`` (the Numba kernel).
"""

import time

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)
M, m1, l1, mup, g, tau = 1.0, 0.1, 0.5, 2e-6, -9.8, 0.01


def derivs(y, F):
    c, s = jnp.cos(y[2]), jnp.sin(y[2])
    ml = l1 * m1
    temp = mup * y[3] / ml
    gs = g * s
    fi = ml * y[3] * y[3] * s + 0.75 * m1 * c * (temp + gs)
    mi = m1 * (1 - 0.75 * c * c)
    xdd = (F + fi) / (mi + M)
    return jnp.stack([y[1], xdd, y[3], -0.75 * (xdd * c + gs + temp) / l1])


def rk4(y, F):
    hh, h6 = tau * 0.5, tau / 6.0
    k1 = derivs(y, F)
    k2 = derivs(y + hh * k1, F)
    k3 = derivs(y + hh * k2, F)
    yt = y + tau * k3
    k3 = k3 + k2
    k4 = derivs(yt, F)
    return y + h6 * (k1 + k4 + 2.0 * k3)


def step(carry, W0, W1):
    y, alive, steps = carry
    obs = jnp.stack([y[0] / 4.8, y[1] / 2.0, y[2] / 0.52, y[3] / 2.0])  # (4, P)
    h = jnp.tanh(jnp.einsum("ip,pij->pj", obs, W0))
    out = jnp.einsum("pj,pjk->pk", h, W1)[:, 0]
    F = 10.0 * jnp.tanh(out)
    y2 = rk4(rk4(y, F), F)
    ok = (jnp.abs(y2[0]) <= 2.4) & (jnp.abs(y2[2]) <= 0.2094384)
    alive2 = alive & ok
    return (jnp.where(alive, y2, y), alive2, steps + alive2)


@jax.jit
def episode(W0, W1, n):
    P = W0.shape[0]
    y = jnp.zeros((4, P)).at[2].set(0.07)
    init = (y, jnp.ones(P, bool), jnp.zeros(P, jnp.int64))
    return jax.lax.fori_loop(0, n, lambda t, c: step(c, W0, W1), init)[2]


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, 100_000)
    for f in ("tanh", "sin", "cos"):
        differ = int((np.asarray(getattr(jnp, f)(x)) != getattr(np, f)(x)).sum())
        print(f"{f}: JAX differs from numpy on {differ} of {x.size} inputs")
    for P in (1, 1000):
        W0 = jnp.asarray(rng.normal(0, 0.5, (P, 4, 8)))
        W1 = jnp.asarray(rng.normal(0, 0.5, (P, 8, 1)))
        n = 20000 if P == 1 else 300
        episode(W0, W1, n).block_until_ready()
        t = time.perf_counter()
        episode(W0, W1, n).block_until_ready()
        dt = time.perf_counter() - t
        print(
            f"P={P}: {dt / (n * P) * 1e6:.3f} us per network-step "
            "(no early exit: every step of every net)"
        )


if __name__ == "__main__":
    main()
