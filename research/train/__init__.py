"""Training regimes: optimisers, schedules, regularisers, early stopping and the ``fit`` loop.

Knows nothing of Optuna, DEAP or MLflow: ``fit`` reports to any object with an
``epoch(step, metrics) -> stop`` method.
"""

from research.train.fit import FitResult, NullReporter, Reporter, fit, fit_model, stream

__all__ = ["FitResult", "NullReporter", "Reporter", "fit", "fit_model", "stream"]
