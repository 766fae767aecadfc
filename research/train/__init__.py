"""Training regimes: optimisers, schedules, regularisers, early stopping and the ``fit`` loop.

Knows nothing of Optuna, DEAP, MLflow or the config layer: ``fit`` takes plain values (the
model and regime schemas, a data set, a seed) and reports to any object with an
``epoch(step, metrics) -> stop`` method. Importing the package fills
:data:`~research.train.base.OPTIMISERS` with the gradient optimisers and the stochastic regimes.
"""

from research.train import optimisers, stochastic  # noqa: F401  (they register themselves)
from research.train.base import OPTIMISERS, make_optimiser
from research.train.fit import FitResult, NullReporter, Reporter, fit, fit_model, stream
from research.train.prepare import prepare
from research.train.regime import RegimeConfig, optimiser_params
from research.train.schedules import SCHEDULES, ScheduleConfig

__all__ = [
    "OPTIMISERS",
    "SCHEDULES",
    "FitResult",
    "NullReporter",
    "RegimeConfig",
    "Reporter",
    "ScheduleConfig",
    "fit",
    "fit_model",
    "make_optimiser",
    "optimiser_params",
    "prepare",
    "stream",
]
