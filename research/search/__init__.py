"""Optuna studies: search spaces in Hydra's sweeper grammar (the driver follows in issue 3)."""
