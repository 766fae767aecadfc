"""Credentials in URLs (``tracking.uri``, ``study.storage``) never reach MLflow, the files a
study writes, or the terminal: real runs against a real MLflow server whose URL carries a
password, then every byte they left behind is searched for it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from research.run import main as run_main
from research.track.redact import redact, redact_value
from tests.conftest import run_cli
from tests.faults.servers import free_port, mlflow_server

SECRET = "Pw-9f8e7d"  # a password that occurs nowhere else


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "study.storage=postgresql://research:Pw-9f8e7d@db.example:5432/optuna",
            "study.storage=postgresql://research:***@db.example:5432/optuna",
        ),
        ("http://u:Pw-9f8e7d@127.0.0.1:5000", "http://u:***@127.0.0.1:5000"),
        ("postgresql+psycopg://u:p@ss@h/db", "postgresql+psycopg://u:***@h/db"),
        ("'mysql://:Pw-9f8e7d@h/db' is bad", "'mysql://:***@h/db' is bad"),
        ("a https://x:y@h/p?password=Pw&token=T b", "a https://x:***@h/p?password=***&token=*** b"),
        ("postgresql://h/db?user=u&password=Pw-9f8e7d", "postgresql://h/db?user=u&password=***"),
        # nothing to hide: unchanged
        ("http://127.0.0.1:5000/path?x=1", "http://127.0.0.1:5000/path?x=1"),
        ("postgresql://research@db.example/optuna", "postgresql://research@db.example/optuna"),
        ("sqlite:////abs/path.db", "sqlite:////abs/path.db"),
        ("regime.lr=0.1 model.hidden=[8, 8]", "regime.lr=0.1 model.hidden=[8, 8]"),
    ],
)
def test_redact_masks_the_password_and_keeps_the_rest(text, expected):
    assert redact(text) == expected
    assert redact(expected) == expected  # idempotent


def test_redact_value_reaches_nested_strings_and_keeps_other_values():
    value = {"uri": "http://u:pw@h", "n": 3, "list": ["mysql://a:b@h/d", 1.5], "none": None}
    assert redact_value(value) == {
        "uri": "http://u:***@h",
        "n": 3,
        "list": ["mysql://a:***@h/d", 1.5],
        "none": None,
    }


@pytest.mark.parametrize(
    ("args", "code"),
    [
        # the storage is refused or unreachable: the error line names the URL, masked
        (["+study=bayes", f"study.storage=mysqlx://u:{SECRET}@127.0.0.1:1/db"], 2),
        (["+study=bayes", f"study.storage=postgresql://u:{SECRET}@127.0.0.1:1/db"], 2),
        (["+study=bayes", "study.workers=2", f"study.storage=sqlite:///x.db?password={SECRET}"], 2),
        (["tracking=server", f"tracking.uri=ftp://u:{SECRET}@127.0.0.1:1"], 2),
        (["tracking=server", f"tracking.uri=http://u:{SECRET}@127.0.0.1:1"], 1),
    ],
)
def test_an_error_line_about_a_url_never_shows_its_password(isolated, capsys, args, code):
    assert run_main(args) == code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert SECRET not in err


def test_cfg_prints_the_config_with_the_password_masked(isolated, capsys):
    url = f"postgresql://u:{SECRET}@db.example:5432/optuna"
    assert run_main(["+study=bayes", f"study.storage={url}", "--cfg"]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out and "postgresql://u:***@db.example:5432/optuna" in out


def _files_holding(folder: Path, needle: bytes) -> list[str]:
    return [
        str(path.relative_to(folder))
        for path in sorted(folder.rglob("*"))
        if path.is_file() and needle in path.read_bytes()
    ]


@pytest.fixture
def server(tmp_path):
    """A real ``mlflow server`` (SQLite behind it) and its URL with a user and password in it:
    without an auth app the server ignores them, but the client sends them on every request."""
    folder = tmp_path / "server"
    folder.mkdir()
    port = free_port()
    proc = mlflow_server(f"sqlite:///{folder / 'mlflow.db'}", folder / "artifacts", port)
    try:
        yield folder, f"http://research:{SECRET}@127.0.0.1:{port}", port
    finally:
        os.killpg(proc.pid, 9)
        proc.wait(timeout=30)


def test_a_run_and_a_study_on_a_server_with_a_password_leave_it_nowhere(tmp_path, conf, server):
    folder, uri, port = server
    root = tmp_path / "project"
    root.mkdir()
    train = run_cli(
        "data=spirals",
        "model.hidden=[8]",
        "regime.epochs=2",
        "tracking=server",
        f"tracking.uri={uri}",
        cwd=root,
    )
    assert train.returncode == 0, train.stderr[-3000:]
    study = run_cli(
        conf,
        "+study=fast",
        "study.n_trials=2",
        "tracking=server",
        f"tracking.uri={uri}",
        cwd=root,
    )
    assert study.returncode == 0, study.stderr[-3000:]
    for proc in (train, study):
        assert SECRET not in proc.stdout + proc.stderr
    assert f"research:***@127.0.0.1:{port}" in train.stdout  # "store:" names it, masked

    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"http://127.0.0.1:{port}")
    runs = [
        run
        for exp in client.search_experiments()
        for run in client.search_runs([exp.experiment_id])
    ]
    assert len(runs) >= 4  # the training run, the study's parent and two trials
    for run in runs:
        for key, value in {**run.data.params, **run.data.tags}.items():
            assert SECRET not in value, (run.info.run_name, key, value)
    logged = [r.data.params["tracking.uri"] for r in runs if "tracking.uri" in r.data.params]
    assert len(logged) >= 3  # the training run and both trials
    assert set(logged) == {f"http://research:***@127.0.0.1:{port}"}
    commands = [r.data.tags["command"] for r in runs if "command" in r.data.tags]
    assert any(f"research:***@127.0.0.1:{port}" in c for c in commands), commands
    # and in every byte the server stored (database, config.yaml, report.html, tables...)
    # and every file the study wrote in the project (studies/fast/, report, journal)
    assert _files_holding(folder, SECRET.encode()) == []
    assert _files_holding(root, SECRET.encode()) == []
    assert list((folder / "artifacts").rglob("config.yaml"))  # artifacts were searched too


def test_a_report_of_runs_logged_before_redaction_masks_their_secrets(tmp_path):
    """Runs written by an older version (the password in a param and the command tag) are
    read back masked, so a report made today does not republish them."""
    from research.track import Tracker, resolve_store
    from research.track.reader import StoreReader

    store = resolve_store("local", root=str(tmp_path))
    tracker = Tracker(store)
    with tracker.run("old", "parent", tags={"study.kind": "search"}) as run:
        pass
    url = f"postgresql://u:{SECRET}@h/db"
    # write around the redaction, as the old code did
    tracker.client.log_param(run.run_id, "study.storage", url)
    tracker.client.set_tag(run.run_id, "command", f"python -m research.run study.storage={url}")
    record = StoreReader(store).study("old").parent
    assert record.params["study.storage"] == "postgresql://u:***@h/db"
    assert SECRET not in record.tags["command"]


def test_the_tracker_masks_what_any_caller_logs(tmp_path):
    from research.track import Tracker, resolve_store

    tracker = Tracker(resolve_store("local", root=str(tmp_path)))
    url = f"postgresql://u:{SECRET}@h/db"
    with tracker.run("demo", "r", tags={"storage": url}) as run:
        run.log_params({"p": url})
        run.set_tags({"t": url}, buffered=True)
        run.log_text(f"storage: {url}\n", "config.yaml")
        run.log_dict({"storage": url}, "spec.json")
        report = tmp_path / "report.html"
        report.write_text(f"<p>{url}</p>")
        run.log_artifact(report)
    data = tracker.client.get_run(run.run_id).data
    assert data.params["p"] == data.tags["t"] == data.tags["storage"] == "postgresql://u:***@h/db"
    assert report.read_text() == f"<p>{url}</p>"  # the user's own file is left alone
    assert _files_holding(tmp_path / "mlruns", SECRET.encode()) == []
    assert len(list((tmp_path / "mlruns" / "artifacts").rglob("*.*"))) == 3


def test_the_command_tag_masks_each_argument():
    """``command_line`` (the ``command`` tag of runs and trials) masks each argument."""
    from research.track.provenance import command_line

    line = command_line("research.run", [f"study.storage=postgresql://u:{SECRET}@h/db", "seed=1"])
    assert line == "python -m research.run 'study.storage=postgresql://u:***@h/db' seed=1"
