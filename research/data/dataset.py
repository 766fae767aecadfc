"""The one data type every loader returns and every trainer consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Train/validation/test splits of one data set.

    ``x_*`` have shape ``(n, *feature_shape)`` and the dataset's dtype (float32 by default).
    For ``kind == "classification"`` the ``y_*`` are int64 class labels of shape ``(n,)``;
    for ``"regression"`` they are float targets of shape ``(n, n_outputs)``.
    Sequence data (for recurrent nets) has ``x`` of shape ``(n, T, n_inputs)``.
    """

    name: str
    kind: str  # "classification" | "regression"
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int = 0
    meta: dict = field(default_factory=dict)

    @property
    def n_inputs(self) -> int:
        """Features per example as a flat vector (per time step for 3-D sequence data)."""
        return (
            int(self.x_train.shape[-1])
            if self.x_train.ndim == 3
            else int(np.prod(self.x_train.shape[1:]))
        )

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.kind == "classification" else int(self.y_train.shape[1])

    def targets(self, y: np.ndarray, dtype=np.float32) -> np.ndarray:
        """Network targets for labels ``y``: one-hot rows for classification, else ``y``."""
        if self.kind != "classification":
            return np.asarray(y, dtype=dtype)
        out = np.zeros((len(y), self.n_classes), dtype=dtype)
        out[np.arange(len(y)), y] = 1
        return out
