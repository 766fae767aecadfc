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


# studies of our own, found through Hydra's search path as a user's would be
STUDIES = {
    # fast: 2-D spirals, a few epochs per trial
    "fast": """
defaults: [base_search, _self_]
name: fast
sampler: tpe
n_startup_trials: 2
overrides: [data=spirals, data.n_per_class=100, regime=adam, regime.epochs=4]
params:
  model.hidden: choice([8], [32])
  regime.lr: tag(log, interval(1e-4, 0.3))
""",
    "fast_lr": """
defaults: [fast, _self_]
params:
  regime.lr: tag(log, interval(0.001, 0.1))
""",
    "fast_linear": """
defaults: [fast, _self_]
params:
  regime.lr: interval(0.001, 0.1)
""",
    "unknown_key": """
defaults: [fast, _self_]
params:
  model.nosuch: choice(1, 2)
""",
    "unknown_option": """
defaults: [fast, _self_]
params:
  regime: choice(sgd, nosuch)
""",
    "unknown_metric": """
defaults: [fast, _self_]
objectives: {val/nosuch: maximize}
""",
    "diverging": """
defaults: [base_search, _self_]
name: diverging
sampler: grid
pruner: none
overrides: [data=spirals, regime=sgd, regime.epochs=3]
params:
  regime.lr: choice(0.1, 1e12)
""",
}


def study_searchpath(folder: Path, studies: dict[str, str]) -> str:
    """``hydra.searchpath=[file://...]`` of ``folder`` after writing ``studies`` (name ->
    YAML text) into its ``study/`` group."""
    (folder / "study").mkdir()
    for name, text in studies.items():
        (folder / "study" / f"{name}.yaml").write_text(text)
    return f"hydra.searchpath=[file://{folder}]"


@pytest.fixture(scope="session")
def conf(tmp_path_factory) -> str:
    """``hydra.searchpath=[file://...]`` of a folder holding :data:`STUDIES`."""
    return study_searchpath(tmp_path_factory.mktemp("conf"), STUDIES)
