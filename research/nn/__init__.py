"""Numpy networks: MLP, RBF, Elman; activations, costs, initialisers; population forward.

Every model keeps its trainable parameters in one flat vector ``theta`` (with ``grad`` and
``decay_mask`` beside it) and offers ``forward``, ``loss_and_grad``, ``loss``, ``predict``,
``prepare``, ``state_dict`` and ``load_state_dict``. The package knows nothing of training.
"""

from research.nn.elman import ElmanNet
from research.nn.functions import ACTIVATIONS, COSTS, INITIALISERS, OUTPUTS
from research.nn.mlp import MLP
from research.nn.population import elman_step_population, mlp_forward_population
from research.nn.rbf import RBFNet

__all__ = [
    "ACTIVATIONS",
    "COSTS",
    "INITIALISERS",
    "OUTPUTS",
    "MLP",
    "ElmanNet",
    "RBFNet",
    "elman_step_population",
    "mlp_forward_population",
]
