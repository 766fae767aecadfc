"""Real servers for the fault tests: a free loopback port and an ``mlflow server``."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import stop, wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mlflow_server(backend_uri: str, artifacts: Path, port: int) -> subprocess.Popen:
    """Start ``mlflow server`` on 127.0.0.1:``port`` in its own process group (kill it with
    ``os.killpg``) and wait until it accepts connections."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            backend_uri,
            "--artifacts-destination",
            str(artifacts),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def accepts() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            return True

    try:
        wait_for(accepts, f"mlflow server to accept connections on port {port}", proc=proc)
    except BaseException:
        stop(proc)
        raise
    return proc
