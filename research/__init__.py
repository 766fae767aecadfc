"""research: study neural networks with numpy networks, Hydra configs, Optuna, DEAP and MLflow."""

__version__ = "0.1.0"
