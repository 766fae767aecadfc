"""The ``tracking`` group: where runs are logged (fields, defaults and ranges, once)."""

from __future__ import annotations

from dataclasses import dataclass

from research import schema as S

KINDS = ("local", "server")


@dataclass
class TrackingConfig:
    """Where runs are logged. ``local``: ``sqlite:///<root>/mlruns/mlflow.db`` with artifacts in
    ``<root>/mlruns/artifacts``. ``server``: ``uri`` (or ``$MLFLOW_TRACKING_URI``)."""

    kind: str = "local"
    uri: str | None = None
    root: str | None = None
    experiment: str | None = None
    flush_every: int = 200
    flush_seconds: float = 10.0
    log_weights: bool = True
    log_figure: bool = True
    #: MLflow's system metrics (CPU, memory, disk, network) on the parent run of a study
    system_metrics: bool = True
    #: the best trial's network (search) or the champion (evolve) as a registered MLflow model
    log_model: bool = True

    def __post_init__(self) -> None:
        S.one_of("kind", self.kind, KINDS)
        if self.experiment is not None:  # it names a folder under mlruns/artifacts/
            S.name_ok("experiment", self.experiment)
        S.positive("flush_every", self.flush_every)
        S.require(self.flush_seconds >= 0, "flush_seconds", self.flush_seconds, "must be >= 0")
