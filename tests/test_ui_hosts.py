"""``python -m research.ui`` refuses to serve beyond loopback unless told to, and a bad or busy
port is one line: real processes on real sockets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

from research.track import Tracker, resolve_store
from research.ui import is_loopback
from tests.conftest import WAIT


@pytest.fixture
def root(tmp_path):
    """A project root with a store in it, so that only the host or port can stop the UI."""
    with Tracker(resolve_store("local", root=str(tmp_path))).run("demo", "r") as run:
        run.log_metrics({"a": 1.0}, 0)
    return tmp_path


def ui(root, *args: str, timeout: float = WAIT) -> subprocess.CompletedProcess:
    """Run the UI; one that starts serving instead of refusing is killed, and the test fails
    (a refusal returns at once; the long limit only keeps a loaded machine from passing a
    slow refusal off as serving)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "research.ui", "--root", str(root), *args],
        cwd=root,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"research.ui {' '.join(args)} served for {timeout:.0f}s instead of refusing")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_every_interface_is_refused_without_allow_remote(root):
    proc = ui(root, "--host", "0.0.0.0", "--port", "5999")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --host 0.0.0.0 is not allowed"), lines
    assert "--allow-remote" in lines[0] and "ssh -L 5999:127.0.0.1:5999" in lines[0]
    assert "MLflow UI on" not in proc.stdout


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "mlflow.example"])
def test_non_loopback_hosts_are_not_loopback(host):
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_hosts_are_loopback(host):
    assert is_loopback(host)


@pytest.fixture
def busy_port():
    """A port another program (this test) listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield s.getsockname()[1]


def test_allow_remote_warns_and_points_at_basic_auth(root, busy_port):
    # the busy port stops it right after the warning, so nothing is ever served to the network
    proc = ui(root, "--host", "0.0.0.0", "--allow-remote", "--port", str(busy_port))
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2, proc.stderr
    assert lines[0].startswith("warning: serving on 0.0.0.0") and "basic-auth" in lines[0]
    assert lines[1].startswith(f"error: port {busy_port} on 0.0.0.0 is busy")
    assert proc.returncode == 1


@pytest.mark.parametrize("port", ["99999", "0", "-1", "abc"])
def test_a_port_out_of_range_is_one_line(root, port):
    proc = ui(root, "--port", port)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: --port={port} is not allowed: must be in 1..65535"
    assert proc.stdout == ""


def test_a_busy_port_says_so_and_suggests_another(root, busy_port):
    proc = ui(root, "--port", str(busy_port))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: port {busy_port} on 127.0.0.1 is busy")
    assert "--port " in lines[0]
    assert "MLflow UI on" not in proc.stdout
    assert "Traceback" not in proc.stderr


def test_an_unknown_option_is_one_line(root):
    proc = ui(root, "--nosuch")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unrecognized arguments: --nosuch")
