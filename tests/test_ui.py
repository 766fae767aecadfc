"""``python -m research.ui`` serves the project's store on 127.0.0.1 only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request

from research.track import Tracker, resolve_store
from tests.conftest import kill, run_cli, wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ui_without_a_store_is_a_one_line_error(tmp_path):
    proc = run_cli("--root", str(tmp_path), cwd=tmp_path, module="research.ui")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: no MLflow store")


def test_ui_serves_the_store_on_loopback(tmp_path):
    with Tracker(resolve_store("local", root=str(tmp_path))).run("demo", "r") as run:
        run.log_metrics({"a": 1.0}, 0)
    port = free_port()
    log = tmp_path / "ui.log"
    with log.open("wb") as out:  # a file, not a pipe: the server's log cannot fill and block it
        proc = subprocess.Popen(
            [sys.executable, "-m", "research.ui", "--port", str(port), "--root", str(tmp_path)],
            cwd=tmp_path,
            env=os.environ.copy(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def health() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as r:
            return r.read().decode()

    try:
        body = wait_for(health, f"the MLflow UI's /health on port {port}", proc=proc, log=log)
        assert body.strip() == "OK"
        url = f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/get-by-name?experiment_name=demo"
        with urllib.request.urlopen(url, timeout=60) as r:
            assert b'"demo"' in r.read()
    finally:
        kill(proc)  # the server and its workers: SIGTERM's graceful stop takes seconds
        proc.wait()
