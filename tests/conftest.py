"""Shared fixtures: every test gets its own project root (MLflow store, studies) and all tests
share one data cache, so MNIST-1D is generated once per session."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

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


#: how long a test waits for an event (a file, a run's state, a process's exit) before it fails:
#: long, because a loaded machine is slow, and free, because a passing test goes on as soon as
#: the event happens ($RESEARCH_TEST_WAIT overrides it)
WAIT = float(os.environ.get("RESEARCH_TEST_WAIT", "600"))

T = TypeVar("T")


def tail(text: str | bytes | None, size: int = 2000) -> str:
    """The end of a process's output, for a failure message."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    text = (text or "").strip()
    return text[-size:] if text else "(nothing)"


def _output_of(proc: subprocess.Popen | None, log: Path | None) -> str:
    """What ``proc`` wrote on stderr (if piped and exited) or into ``log``, for a message."""
    if log is not None:
        return f"; {log.name} ends: {tail(log.read_bytes() if log.exists() else None)}"
    if proc is not None and proc.poll() is not None and proc.stderr and not proc.stderr.closed:
        return f"; stderr ends: {tail(proc.stderr.read())}"
    return ""


def wait_for(
    predicate: Callable[[], T],
    what: str,
    timeout: float = WAIT,
    proc: subprocess.Popen | None = None,
    log: Path | None = None,
) -> T:
    """Poll ``predicate`` (every 0.05 s, backing off to 0.5 s) until it returns something
    truthy, and return that. An exception from it (a store not created yet) counts as not
    yet. Fails, naming ``what`` and the last value or error seen, after ``timeout`` seconds or
    as soon as ``proc`` has exited without the event (with the end of its stderr or ``log``)."""
    began, delay, seen = time.monotonic(), 0.05, "nothing yet"
    while True:
        exited = proc is not None and proc.poll() is not None
        try:
            value = predicate()
        except Exception as exc:  # noqa: BLE001 - not there yet; said on failure
            value, seen = None, f"{type(exc).__name__}: {exc}"
        else:
            if value:
                return value
            seen = repr(value)
        waited = time.monotonic() - began
        if exited:
            pytest.fail(
                f"the process exited ({proc.returncode}) after {waited:.0f}s, before {what}; "
                f"last seen: {seen[-500:]}{_output_of(proc, log)}"
            )
        if waited > timeout:
            pytest.fail(
                f"waited {waited:.0f}s for {what}; last seen: {seen[-500:]}{_output_of(None, log)}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def _leads_group(proc: subprocess.Popen) -> bool:
    try:
        return os.getpgid(proc.pid) == proc.pid  # started with start_new_session=True
    except ProcessLookupError:
        return False


def kill(proc: subprocess.Popen, sig: int = signal.SIGKILL, group: bool | None = None) -> None:
    """Send ``sig`` to ``proc``'s process group when it leads one (its workers too), else to
    it alone; nothing if nothing is left."""
    group = _leads_group(proc) if group is None else group
    try:
        if group:
            os.killpg(proc.pid, sig)
        elif proc.poll() is None:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass


def stop(proc: subprocess.Popen, timeout: float = 60) -> None:
    """End ``proc`` (and its group) for cleanup: SIGTERM, then SIGKILL to whatever is left
    after ``timeout`` seconds. Never raises, so that it cannot hide a test's own failure."""
    group = _leads_group(proc)
    if proc.poll() is None:
        kill(proc, signal.SIGTERM, group)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    kill(proc, signal.SIGKILL, group)  # a group outlives its leader while a member lives
    proc.wait()


def finish(proc: subprocess.Popen, what: str, timeout: float = WAIT):
    """``proc.communicate()``: on a timeout, kill the process (and its group) and fail naming
    ``what`` was awaited and the end of its stderr."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass  # failed below, outside this handler: the message, not a chained traceback
    kill(proc)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # a grandchild outside its group holds the pipe
        err = None
    pytest.fail(f"waited {timeout:.0f}s for {what}; stderr ends: {tail(err)}")


def start_cli(
    *args: str,
    cwd: Path,
    module: str = "research.run",
    env: dict[str, str] | None = None,
    stdout=subprocess.PIPE,
) -> subprocess.Popen:
    """Start ``python -m research.run ARGS`` as a real process in ``cwd``, in its own process
    group (so a failed wait kills its workers too); ``env`` adds to the environment."""
    env = {**os.environ, "RESEARCH_ROOT": str(cwd), "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run_cli(
    *args: str,
    cwd: Path,
    timeout: float = WAIT,
    module: str = "research.run",
    env: dict[str, str] | None = None,
):
    """Run ``python -m research.run ARGS`` as a real process in ``cwd`` (in its own process
    group, so a failed wait kills its workers too) and return it as completed; ``env`` adds
    to the environment."""
    proc = start_cli(*args, cwd=cwd, module=module, env=env)
    try:
        shown = " ".join(a if len(a) < 80 else a[:40] + "..." for a in args)
        out, err = finish(proc, f"`python -m {module} {shown}` to exit", timeout)
    finally:
        stop(proc, timeout=0)  # its workers, and itself if pytest was interrupted
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


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
    # fast_arch: a conditional space, the family first, then its own keys
    "fast_arch": """
defaults: [fast, _self_]
name: fast_arch
sampler: tpe_group
params:
  model.hidden: null
  regime.lr: tag(log, interval(1e-3, 0.1))
  model: choice(mlp, cnn)
when:
  model=mlp:
    model.hidden: choice([8], [16])
  model=cnn:
    model.channels: choice([2,2,2], [3,3,3])
    model.kernel: choice(1, 2)
    model.stride: choice(1)
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
