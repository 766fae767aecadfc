"""A tracking server that does not answer is one line within seconds, before anything starts
(MLflow's client would retry it for minutes); one that answers, even with an error, passes."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from research.track.store import Unreachable, check_reachable, resolve_store
from tests.conftest import run_cli


def _closed_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("study", [[], ["+study=bayes"], ["+study=cmaes", "task=pole_double"]])
def test_an_unreachable_tracking_server_is_one_line_within_seconds(tmp_path, study):
    uri = f"http://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    proc = run_cli(*study, "tracking=server", f"tracking.uri={uri}", cwd=tmp_path, timeout=120)
    elapsed = time.monotonic() - started
    assert elapsed < 15, f"took {elapsed:.0f} s"
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        f"error: tracking.uri={uri} cannot be reached (connection refused); start the server "
        "or check the URL"
    ], proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "studies").exists() and not (tmp_path / "mlruns").exists()


def test_an_unknown_host_is_named_too(tmp_path):
    uri = "http://nosuch-host.invalid:5000"
    proc = run_cli("tracking=server", f"tracking.uri={uri}", cwd=tmp_path, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"error: tracking.uri={uri} cannot be reached (host not found); start the server or "
        "check the URL"
    )


def test_a_server_that_accepts_but_never_answers_times_out(tmp_path):
    with socket.socket() as listener:  # the kernel accepts; nobody ever reads or replies
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        store = resolve_store("server", f"http://127.0.0.1:{port}", str(tmp_path))
        started = time.monotonic()
        with pytest.raises(Unreachable, match=r"no answer within 1 s"):
            check_reachable(store, timeout=1)
        assert time.monotonic() - started < 5


def test_a_database_uri_that_refuses_is_named_with_its_password_masked(tmp_path):
    port = _closed_port()
    store = resolve_store("server", f"postgresql://u:pw@127.0.0.1:{port}/mlflow", str(tmp_path))
    with pytest.raises(Unreachable) as caught:
        check_reachable(store, timeout=2)
    assert str(caught.value) == (
        f"tracking.uri=postgresql://u:***@127.0.0.1:{port}/mlflow cannot be reached "
        "(connection refused); start the server or check the URL"
    )


class _Deny(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's hook
        self.send_response(401)
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


def test_any_http_answer_counts_as_reachable(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Deny)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        uri = f"http://user:pw@127.0.0.1:{server.server_address[1]}"
        check_reachable(resolve_store("server", uri, str(tmp_path)), timeout=2)  # no raise
    finally:
        server.shutdown()
        server.server_close()


def test_the_local_store_and_sqlite_files_are_not_probed(tmp_path):
    check_reachable(resolve_store("local", root=str(tmp_path)))
    check_reachable(resolve_store("server", f"sqlite:///{tmp_path}/x.db", str(tmp_path)))
    assert not (tmp_path / "x.db").exists()
