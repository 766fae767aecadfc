"""Reading a study back from MLflow (for reports): its parent run, child runs and curves."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from research.track import tags
from research.track.redact import redact, redact_value
from research.track.store import Store


@dataclass(frozen=True)
class RunRecord:
    """What a report needs of one run, without MLflow types."""

    run_id: str
    name: str
    status: str
    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, float]
    start_ms: int
    end_ms: int | None


@dataclass(frozen=True)
class StudyRuns:
    experiment: str
    parent: RunRecord
    children: list[RunRecord] = field(default_factory=list)


def _record(run) -> RunRecord:
    """The run, with credentials masked in its params and tags (a run logged before they were
    redacted at write time must not carry them into a report)."""
    return RunRecord(
        run.info.run_id,
        run.info.run_name or "",
        run.info.status,
        redact_value(dict(run.data.params)),
        redact_value(dict(run.data.tags)),
        dict(run.data.metrics),
        run.info.start_time,
        run.info.end_time,
    )


class StoreReader:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.client = MlflowClient(tracking_uri=store.tracking_uri)

    def study(self, experiment: str, parent_run_id: str | None = None) -> StudyRuns | None:
        """The study's parent run (``parent_run_id``, else the newest top-level run with a
        ``study.kind`` tag) and its children; None if the experiment or parent is missing."""
        try:
            exp = self.client.get_experiment_by_name(experiment)
        except MlflowException:
            return None
        if exp is None:
            return None
        runs = self.client.search_runs([exp.experiment_id], max_results=50000)
        parents = [
            r
            for r in runs
            if tags.PARENT not in r.data.tags
            and tags.STUDY_KIND in r.data.tags
            and (parent_run_id is None or r.info.run_id == parent_run_id)
        ]
        if not parents:
            return None
        parent = max(parents, key=lambda r: r.info.start_time)
        children = [r for r in runs if r.data.tags.get(tags.PARENT) == parent.info.run_id]
        return StudyRuns(experiment, _record(parent), [_record(r) for r in children])

    def history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        """(step, value) of ``key`` in step order."""
        points = self.client.get_metric_history(run_id, key)
        return [(m.step, m.value) for m in sorted(points, key=lambda m: (m.step, m.timestamp))]

    def artifact_text(self, run_id: str, path: str) -> str | None:
        """The text of artifact ``path`` of run ``run_id``, or None if it does not exist."""
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # no bar in logs
        try:
            local = self.client.download_artifacts(run_id, path)
        except (MlflowException, OSError):
            return None
        return redact(Path(local).read_text())

    def artifact_bytes(self, run_id: str, path: str) -> bytes | None:
        """The bytes of artifact ``path`` of run ``run_id`` (a figure), or None if it does not
        exist; downloaded into a temporary folder that is removed again."""
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # no bar in logs
        with tempfile.TemporaryDirectory() as tmp:
            try:
                local = self.client.download_artifacts(run_id, path, tmp)
            except (MlflowException, OSError):
                return None
            return Path(local).read_bytes()

    def log_artifact(self, run_id: str, path: str, artifact_path: str | None = None) -> None:
        self.client.log_artifact(run_id, path, artifact_path)
