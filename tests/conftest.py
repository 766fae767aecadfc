"""Shared fixtures: every test gets its own project root (MLflow store, studies) and all tests
share one data cache, so MNIST-1D is generated once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist.npz"


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data-cache")


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path, data_cache):
    """Runs, studies and cached data go to temporary directories, never the repository."""
    monkeypatch.setenv("RESEARCH_ROOT", str(tmp_path))
    monkeypatch.setenv("RESEARCH_DATA_DIR", str(data_cache))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


def run_cli(*args: str, cwd: Path, timeout: float = 300, module: str = "research.run"):
    """Run ``python -m research.run ARGS`` as a real process in ``cwd``."""
    env = {**os.environ, "RESEARCH_ROOT": str(cwd), "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def postgres_url():
    """A fresh database on the test PostgreSQL server (``$RESEARCH_TEST_POSTGRES_URL``, which
    ``.ci/run`` sets after starting one with ``.ci/postgres.sh``), dropped afterwards."""
    admin = os.environ.get("RESEARCH_TEST_POSTGRES_URL")
    if not admin:
        pytest.skip("no PostgreSQL server: set RESEARCH_TEST_POSTGRES_URL (see .ci/postgres.sh)")
    psycopg = pytest.importorskip("psycopg", reason="pip install 'research[postgres]'")
    import uuid

    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = psycopg.connect(admin, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.close()
