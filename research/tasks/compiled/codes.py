"""The numbers the compiled kernel and its Python side agree on (no Numba import here).

Numba's on-disk cache is keyed on pole_kernel.py alone: after changing a value here, touch
that file (or clear the cache) so the kernel is compiled anew."""

from __future__ import annotations

#: activation name -> code (the kernel reproduces exactly these)
ACTIVATIONS = {"linear": 0, "tanh": 1, "sigmoid": 2, "relu": 3, "leaky_relu": 4}
LINEAR, TANH, SIGMOID, RELU, LEAKY_RELU = 0, 1, 2, 3, 4
#: rows of the table of numpy loops handed to the kernel
LOOP_TANH, LOOP_SIN, LOOP_COS, LOOP_EXPIT = 0, 1, 2, 3
#: what the network sees: markov_inputs or velocity_free_inputs
OBS_MARKOV, OBS_NO_VELOCITY = 0, 1
#: how its first output becomes a force: 10 tanh(out) or (clip(out, 0, 1) - 0.5) 20
FORCE_TANH, FORCE_SIGMOID = 0, 1
#: PoleParams fields in the order of the kernel's physics vector
PHYSICS_FIELDS = (
    "cart_mass",
    "long_mass",
    "long_length",
    "short_mass",
    "short_length",
    "mup",
    "gravity",
    "tau",
    "x_limit",
    "angle_limit",
)
