"""MLflow's system metrics (``system/cpu_utilization_percentage``, memory, disk, network) on a
study's parent run: one sample every ``SAMPLE_SECONDS``, logged by MLflow's own monitor thread.
Needs ``psutil``; without it, or if the monitor cannot start, a run goes on without them."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

SAMPLE_SECONDS = 10.0

# MLflow says "Started monitoring system metrics" and the like at INFO on every run
logging.getLogger("mlflow.system_metrics").setLevel(logging.WARNING)


def start_monitor(run_id: str, tracking_uri: str, *, resume: bool = False):
    """A started ``SystemMetricsMonitor`` on run ``run_id`` (its steps go on after those the
    run has when ``resume``), or None when system metrics are not available here."""
    try:
        from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

        monitor = SystemMetricsMonitor(
            run_id,
            sampling_interval=SAMPLE_SECONDS,
            resume_logging=resume,
            tracking_uri=tracking_uri,
        )
    except Exception as exc:  # noqa: BLE001 - psutil missing, an odd platform: no metrics
        log.warning("no system metrics on run %s: %s", run_id, exc)
        return None
    monitor.start()
    return monitor
