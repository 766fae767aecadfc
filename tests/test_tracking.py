"""Tracking against a real SQLite MLflow store: buffering, run states, artifact location."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from mlflow.tracking import MlflowClient

from research.track import Terminated, Tracker, resolve_store
from research.track.tags import REASON as REASON_TAG
from tests.mlflow_store import local_client


@pytest.fixture
def tracker(tmp_path):
    return Tracker(resolve_store("local", root=str(tmp_path)), flush_every=50, flush_seconds=60)


def metric_history(client: MlflowClient, run_id: str, key: str) -> list[float]:
    """Values of ``key`` in step order."""
    values = client.get_metric_history(run_id, key)
    return [m.value for m in sorted(values, key=lambda m: (m.step, m.timestamp))]


def status(tracker, run_id):
    return tracker.client.get_run(run_id).info.status


def test_local_store_is_absolute_sqlite_under_the_root(tmp_path, tracker):
    store = tracker.store
    assert store.tracking_uri == f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    exp_id = tracker.experiment_id("demo")
    location = tracker.client.get_experiment(exp_id).artifact_location
    assert location == (tmp_path / "mlruns" / "artifacts" / "demo").as_uri()
    assert tracker.experiment_id("demo") == exp_id  # created once


def test_metrics_are_buffered_until_flush_every(tracker):
    run = tracker.start_run("demo", "r")
    for step in range(24):
        run.log_metrics({"a": step, "b": -step}, step)  # 48 values: below flush_every=50
    assert tracker.client.get_run(run.run_id).data.metrics == {}
    run.log_metrics({"a": 24, "b": -24}, 24)  # 50 values -> one log_batch
    assert metric_history(tracker.client, run.run_id, "a") == list(range(25))
    run.end()
    assert status(tracker, run.run_id) == "FINISHED"


def test_many_params_and_long_values_are_logged(tracker):
    run = tracker.start_run("demo", "r")
    params = {f"p{i}": i for i in range(250)}
    params["long"] = "x" * 7000
    run.log_params(params)
    run.end()
    logged = tracker.client.get_run(run.run_id).data.params
    assert len(logged) == 251 and logged["p249"] == "249"
    assert logged["long"].endswith("[truncated]") and len(logged["long"]) <= 6000


def test_buffered_params_tags_and_metrics_arrive_in_batches_within_mlflows_limits(tmp_path):
    tracker = Tracker(resolve_store("local", root=str(tmp_path)), flush_every=10**6)
    run = tracker.start_run("demo", "r")
    run.log_params({f"p{i}": i for i in range(150)}, buffered=True)
    run.set_tags({f"t{i}": i for i in range(130)}, buffered=True)
    for step in range(1500):
        run.log_metrics({"m": step}, step)
    assert tracker.client.get_run(run.run_id).data.params == {}  # nothing written yet
    run.end("FINISHED", "done")
    data = tracker.client.get_run(run.run_id).data
    assert len(data.params) == 150 and data.tags["t129"] == "129"
    assert data.tags[REASON_TAG] == "done"
    assert metric_history(tracker.client, run.run_id, "m") == list(range(1500))


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ValueError("bad thing\nmore"), "FAILED"),
        (KeyboardInterrupt(), "KILLED"),
        (Terminated("received signal SIGTERM"), "KILLED"),
    ],
)
def test_a_raising_block_ends_the_run_with_status_and_reason(tracker, exc, expected):
    with pytest.raises(type(exc)), tracker.run("demo", "r") as run:
        run.log_metrics({"a": 1.0}, 0)
        raise exc
    info = tracker.client.get_run(run.run_id)
    assert info.info.status == expected
    assert info.data.metrics == {"a": 1.0}  # the buffer was flushed
    if expected == "FAILED":
        assert info.data.tags[REASON_TAG] == "ValueError: bad thing"


def test_child_runs_point_at_their_parent(tracker):
    with tracker.run("demo", "parent") as parent, tracker.run("demo", "child", parent=parent) as c:
        pass
    assert tracker.client.get_run(c.run_id).data.tags["mlflow.parentRunId"] == parent.run_id


def test_a_process_that_exits_with_an_open_run_leaves_it_killed(tmp_path):
    code = textwrap.dedent(
        f"""
        from research.track import Tracker, resolve_store
        t = Tracker(resolve_store("local", root={str(tmp_path)!r}))
        run = t.start_run("demo", "left-open")
        print(run.run_id)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    run_id = out.stdout.strip().splitlines()[-1]
    client = local_client(tmp_path)
    run = client.get_run(run_id)
    assert run.info.status == "KILLED"
    assert "exited" in run.data.tags[REASON_TAG]


def test_server_tracking_without_a_uri_is_a_clear_error():
    from research.errors import ConfigError

    with pytest.raises(ConfigError, match="tracking.uri"):
        resolve_store("server", None)
    with pytest.raises(ConfigError, match="ftp://x"):
        resolve_store("server", "ftp://x")


def test_a_sigterm_inside_a_store_write_is_held_until_the_write_returns():
    import os
    import signal

    from research.track.lifecycle import Terminated, handle_sigterm, shielded

    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    handle_sigterm()
    finished = []
    try:
        with pytest.raises(Terminated), shielded():
            os.kill(os.getpid(), signal.SIGTERM)
            finished.append("write completed")
        assert finished == ["write completed"]
        with pytest.raises(Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10**6):  # the handler runs between bytecodes, outside any shield
                pass
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
