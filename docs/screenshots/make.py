"""Screenshots of what a researcher sees: the MLflow UI on a study's runs and each report kind.

    python docs/screenshots/make.py             # PNGs into docs/screenshots/, paths printed
    python docs/screenshots/make.py --keep      # also keep the temporary project root
    python docs/screenshots/make.py --root DIR  # again on a kept root, without the studies

Runs three small studies into a temporary project root with the real commands (a Bayesian
search, a random one, a CMA-ES evolution), builds the reports (one search, the comparison of
the two searches, the evolution), starts ``python -m research.ui`` on that root and photographs
the pages with headless Chromium (``apt-get install chromium``). Every wait is on an event (a
process's exit, the UI's ``/health``, the page's DOM holding the run names), with long limits:
a slow machine takes longer, it does not fail. Before each MLflow screenshot the page is
rendered with ``--dump-dom`` until it shows the study's runs (the virtual-time budget doubles
each try), and what it showed is printed, so that a spinner or an empty page is said, not
photographed silently.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SEARCH = ["study.n_trials=4", "regime.epochs=3", "data=digits", "study.pruner=none"]
STUDIES = {  # name -> the command's arguments: seconds each, not the real budgets
    "bayes": ["+study=bayes", "study.n_startup_trials=2", *SEARCH],
    "random": ["+study=random", *SEARCH],
    "cmaes": ["+study=cmaes", "task=pole_single", "study.generations=30"],
}
#: a link to the MLflow UI as ``research.run`` and ``research.ui`` print it
LINK = re.compile(r"http://(?:127\.0\.0\.1|localhost):\d+/#/experiments\S*")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def tail(text: str | bytes | None, size: int = 3000) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return (text or "").strip()[-size:] or "(nothing)"


def command(args: list[str], root: Path, wait: float) -> str:
    """Run ``python ARGS`` in ``root`` as a user would; its stdout, or exit with its stderr."""
    env = {**os.environ, "RESEARCH_ROOT": str(root), "PYTHONUNBUFFERED": "1"}
    print("+ python " + " ".join(args), flush=True)
    began = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=wait
        )
    except subprocess.TimeoutExpired as exc:
        fail(f"waited {wait:.0f}s for `python {' '.join(args)}`; stderr ends:\n{tail(exc.stderr)}")
    if done.returncode != 0:
        fail(f"`python {' '.join(args)}` exited {done.returncode}:\n{tail(done.stderr)}")
    print(f"  ({time.monotonic() - began:.0f}s)", flush=True)
    return done.stdout + done.stderr


def report(root: Path, names: list[str], wait: float) -> Path:
    """Build the report of ``names`` (one study, or a comparison) and return its HTML file."""
    out = command(["-m", "research.report", *names], root, wait)
    found = re.search(r"^report: (\S+\.html)$", out, re.MULTILINE)
    if not found:
        fail(f"research.report printed no report path:\n{tail(out)}")
    return Path(found.group(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, body: dict | None = None, timeout: float = 60) -> bytes:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as r:
        return r.read()


def serve_ui(root: Path, port: int, log: Path, wait: float) -> subprocess.Popen:
    """``python -m research.ui`` on ``root``, once its ``/health`` answers OK."""
    print(f"+ python -m research.ui --port {port} --root {root}", flush=True)
    with log.open("wb") as out:  # a file, not a pipe: a chatty server cannot block on it
        proc = subprocess.Popen(
            [sys.executable, "-m", "research.ui", "--port", str(port), "--root", str(root)],
            cwd=root,
            env=os.environ.copy(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    began, seen = time.monotonic(), "nothing yet"
    while time.monotonic() - began < wait:
        if proc.poll() is not None:
            log_end = tail(log.read_text())
            fail(f"the MLflow UI exited ({proc.returncode}); its log ends:\n{log_end}")
        try:
            if get(f"http://127.0.0.1:{port}/health", timeout=10).strip() == b"OK":
                print(f"  (up after {time.monotonic() - began:.0f}s)", flush=True)
                return proc
        except OSError as exc:
            seen = repr(exc)
        time.sleep(0.5)
    stop(proc)
    fail(f"waited {wait:.0f}s for the MLflow UI's /health on port {port}; last seen: {seen}")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the UI's process group, SIGKILL what is left after a minute."""
    for sig, limit in ((signal.SIGTERM, 60), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            continue


def study_runs(port: int, name: str) -> tuple[str, str, str, list[str]]:
    """(experiment id, parent run id, parent run name, trial run names) of study ``name``."""
    base = f"http://127.0.0.1:{port}/api/2.0/mlflow"
    exp = json.loads(get(f"{base}/experiments/get-by-name?experiment_name={name}"))
    exp_id = exp["experiment"]["experiment_id"]
    runs = json.loads(get(f"{base}/runs/search", {"experiment_ids": [exp_id], "max_results": 500}))
    runs = runs.get("runs", [])
    tags = [{t["key"]: t["value"] for t in r["data"].get("tags", [])} for r in runs]
    parents = [r for r, t in zip(runs, tags) if "mlflow.parentRunId" not in t]
    if not parents:
        fail(f"experiment {name!r} has no parent run")
    children = [r["info"]["run_name"] for r, t in zip(runs, tags) if "mlflow.parentRunId" in t]
    parent = parents[0]["info"]
    return exp_id, parent["run_id"], parent["run_name"], children


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        fail("no chromium on PATH: apt-get update && apt-get install -y chromium")
    return found


def browse(url: str, extra: list[str], profile: Path, wait: float) -> subprocess.CompletedProcess:
    cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, url]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=wait)
    except subprocess.TimeoutExpired as exc:
        fail(f"waited {wait:.0f}s for chromium on {url}; stderr ends:\n{tail(exc.stderr)}")


def rendered(url: str, expect: list[str], budget: int, profile: Path, wait: float):
    """(budget, texts found): render ``url`` with ``--dump-dom`` until its DOM holds one of
    ``expect``, doubling the virtual-time budget up to three times."""
    for attempt in range(3):
        if attempt:
            budget *= 2
        dom = browse(url, [f"--virtual-time-budget={budget}", "--dump-dom"], profile, wait).stdout
        found = [text for text in expect if text in dom]
        if found:
            break
    return budget, found


def shoot(url: str, png: Path, size: str, budget: int, profile: Path, wait: float) -> None:
    extra = [f"--screenshot={png}", f"--window-size={size}", f"--virtual-time-budget={budget}"]
    done = browse(url, extra, profile, wait)
    if not png.exists() or png.stat().st_size == 0:
        fail(f"chromium wrote no screenshot of {url}:\n{tail(done.stderr)}")
    print(f"{png}  ({png.stat().st_size // 1024} KB)  <- {url}", flush=True)


def shoot_mlflow(port: int, out: Path, args, profile: Path) -> None:
    """The experiment as it opens, its runs table and the parent run's page."""
    exp_id, parent_id, parent_name, trials = study_runs(port, "bayes")
    base = f"http://127.0.0.1:{port}/#/experiments/{exp_id}"
    table = ["matching runs", *trials]  # the runs table's footer ("5 matching runs"), names
    pages = {
        "mlflow-experiment.png": (base, table),
        "mlflow-runs.png": (f"{base}/runs", table),
        "mlflow-parent-run.png": (f"{base}/runs/{parent_id}", [parent_id, *trials]),
    }
    for name, (url, expect) in pages.items():
        budget, found = rendered(url, expect, args.budget, profile, args.wait)
        said = f"shows {found[:3]}" if found else f"shows none of {expect[:3]}"
        if expect is table and not found:
            said += " (no runs table: MLflow's GenAI overview/traces page?)"
        print(f"  {name}: {said}; virtual-time budget {budget} ms", flush=True)
        shoot(url, out / name, "1400,900", budget, profile, args.wait)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python docs/screenshots/make.py", description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the PNGs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project root")
    parser.add_argument(
        "--root", type=Path, help="reuse the project root an earlier --keep left (no studies run)"
    )
    parser.add_argument("--wait", type=float, default=900, help="seconds allowed per step")
    parser.add_argument("--budget", type=int, default=20000, help="virtual-time budget (ms)")
    parser.add_argument("--report-size", default="1400,1800", help="window for the reports")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    root = args.root.resolve() if args.root else Path(tempfile.mkdtemp(prefix="research-shots-"))
    os.environ.setdefault("RESEARCH_DATA_DIR", str(root / "data"))
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    print(f"project root: {root}", flush=True)
    ui = None
    try:
        said = {
            name: command(["-m", "research.run", *study], root, args.wait)
            for name, study in ({} if args.root else STUDIES).items()
        }
        reports = {
            "report-search.png": report(root, ["bayes"], args.wait),
            "report-comparison.png": report(root, ["bayes", "random"], args.wait),
            "report-evolution.png": report(root, ["cmaes"], args.wait),
        }
        profile = root / "chromium-profile"
        for name, html in reports.items():
            shoot(html.as_uri(), args.out / name, args.report_size, 5000, profile, args.wait)
        port = free_port()
        ui = serve_ui(root, port, root / "ui.log", args.wait)
        shoot_mlflow(port, args.out, args, profile)
        links = {  # what the commands print for the user to open, on this UI's port
            "mlflow-deep-link.png": said.get("bayes", ""),
            "mlflow-ui-open.png": (root / "ui.log").read_text(errors="replace"),
        }
        for name, text in links.items():
            found = LINK.search(text)
            if found:
                url = re.sub(r"^http://[^/]+", f"http://127.0.0.1:{port}", found.group(0))
                budget = rendered(url, ["matching runs", "bayes"], args.budget, profile, args.wait)
                print(f"  {name}: shows {budget[1][:2] or 'none of the runs'}", flush=True)
                shoot(url, args.out / name, "1400,900", budget[0], profile, args.wait)
            else:
                print(f"  {name}: no MLflow link printed (nothing to photograph)", flush=True)
    finally:
        if ui is not None:
            stop(ui)
        if args.keep or args.root:
            print(f"kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
