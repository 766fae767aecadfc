"""Studies on a real PostgreSQL storage (skipped without a server)."""

from __future__ import annotations

import optuna
import pytest

from research.search.storage import open_storage
from tests.conftest import run_cli
from tests.search.test_study import study_runs

pytestmark = pytest.mark.postgres


def test_two_workers_on_postgresql_run_exactly_n_trials(isolated, conf, postgres_url):
    args = [conf, "+study=fast", "study.n_trials=6", "study.workers=2"]
    args.append(f"study.storage={postgres_url}")
    done = run_cli(*args, cwd=isolated)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name="fast", storage=open_storage(postgres_url, isolated, "fast")
    )
    trials = study.trials
    assert sorted(t.number for t in trials) == list(range(6))
    assert all(t.state.is_finished() for t in trials)
    assert len({t.user_attrs["worker"] for t in trials}) == 2
    _, parents, children = study_runs(isolated, "fast")
    assert parents[0].info.status == "FINISHED" and parents[0].data.tags["storage"].startswith(
        "postgresql://127.0.0.1"
    )
    assert sorted(int(r.data.tags["trial.number"]) for r in children) == list(range(6))
    assert not (isolated / "studies" / "fast" / "journal.log").exists()


def test_a_bad_postgresql_url_is_one_line(isolated, conf, capsys):
    from research.run import main

    bad = "postgresql://nobody@127.0.0.1:1/none"
    assert main([conf, "+study=fast", f"study.storage={bad}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot connect" in err[0] and "127.0.0.1:1" in err[0]


def test_an_embedded_study_migrates_to_postgresql_and_continues_there(
    isolated, conf, postgres_url, capsys
):
    from research.run import main
    from research.search.migrate import main as migrate

    assert main([conf, "+study=fast", "study.n_trials=3"]) == 0
    assert migrate(["fast", postgres_url]) == 0
    assert migrate(["fast", postgres_url]) == 2  # never twice
    assert main([conf, "+study=fast", "study.n_trials=5", f"study.storage={postgres_url}"]) == 0
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name="fast", storage=open_storage(postgres_url, isolated, "fast")
    )
    assert [t.number for t in study.trials] == list(range(5))
    _, parents, children = study_runs(isolated, "fast")
    assert len(parents) == 1, "the migrated study keeps its MLflow parent run"
    assert sorted(int(r.data.tags["trial.number"]) for r in children) == list(range(5))


def test_the_study_lock_on_postgresql_spans_project_roots(tmp_path, postgres_url):
    """Workers on other machines share only the URL: the lock must be the database's, also
    through the cache Optuna wraps around a loaded study's storage."""
    import threading

    from research.search.storage import study_lock

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(postgres_url, tmp_path, "locked")
    optuna.create_study(study_name="locked", storage=storage)
    cached = optuna.load_study(study_name="locked", storage=storage)._storage
    assert cached is not storage  # the wrapper the driver holds
    order: list[str] = []
    held = threading.Event()

    def other_host():
        with study_lock(
            open_storage(postgres_url, tmp_path / "b", "locked"), tmp_path / "b", "locked"
        ):
            order.append("b")

    with study_lock(cached, tmp_path / "a", "locked"):
        thread = threading.Thread(target=other_host)
        thread.start()
        held.wait(1.5)  # the other host would be done by now without a shared lock
        order.append("a")
    thread.join(30)
    assert order == ["a", "b"]
