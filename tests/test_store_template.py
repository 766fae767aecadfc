"""A new local store is a copy of a migrated empty store cached in the data folder (one per
MLflow version), not a fresh migration: the same schema, its Default experiment moved to the new
store, the template made once and reused, and a store made anyway when the cache is unusable."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from mlflow.version import VERSION

from research.track import Tracker, resolve_store
from research.track import store as store_module
from research.track.store import create_local_db


def rows(db: Path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def schema(db: Path) -> tuple[list[tuple], dict[tuple, list[tuple]]]:
    """The alembic version, and every table, index and trigger with its columns: not its SQL,
    whose constraint order differs between two migrations by MLflow itself."""
    version = rows(db, "SELECT version_num FROM alembic_version")
    objects = rows(db, "SELECT type, name FROM sqlite_master")
    pragma = {"table": "table_info", "index": "index_info", "trigger": None}
    return version, {
        (kind, name): rows(db, f"PRAGMA {pragma[kind]}('{name}')") if pragma[kind] else []
        for kind, name in objects
    }


def default_location(db: Path) -> str:
    return rows(db, "SELECT artifact_location FROM experiments WHERE experiment_id = 0")[0][0]


def template() -> Path:
    return Path(os.environ["RESEARCH_DATA_DIR"]) / f"mlflow-{VERSION}-empty.db"


def new_store(root: Path) -> Path:
    (root / "mlruns").mkdir(parents=True)
    create_local_db(root / "mlruns" / "mlflow.db")
    return root / "mlruns" / "mlflow.db"


@pytest.fixture(scope="module")
def fallback(tmp_path_factory) -> tuple[Path, list[Path]]:
    """A store MLflow migrated itself, made as ``create_local_db`` does when the cache folder
    is under a regular file (unusable even as root), in its project root as working directory
    (MLflow puts the Default experiment under ``<cwd>/mlruns``); and the files migrated."""
    root = tmp_path_factory.mktemp("migrated")
    (root / "afile").write_text("not a folder")
    migrations: list[Path] = []
    real = getattr(store_module, "_migrate", None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RESEARCH_DATA_DIR", str(root / "afile" / "sub"))
        mp.chdir(root)
        counted = lambda db: (migrations.append(db), real(db))  # noqa: E731
        mp.setattr(store_module, "_migrate", counted, raising=False)
        return new_store(root), migrations


@pytest.fixture(scope="module")
def migrated(fallback) -> Path:
    return fallback[0]


def test_a_store_from_the_template_has_the_migrated_schema(tmp_path, migrated):
    db = new_store(tmp_path)
    assert template().is_file()
    assert schema(db) == schema(migrated)
    assert schema(template()) == schema(migrated)


def test_the_default_experiment_points_into_the_new_store(tmp_path, migrated):
    db = new_store(tmp_path)
    assert default_location(migrated) == str(migrated.parent / "0")  # what MLflow writes
    assert default_location(db) == str(tmp_path / "mlruns" / "0")
    experiment = MlflowClient(f"sqlite:///{db}").get_experiment("0")
    assert experiment.name == "Default" and experiment.lifecycle_stage == "active"


def test_the_template_is_made_once_then_copied(tmp_path, monkeypatch):
    new_store(tmp_path / "first")  # made now unless an earlier test made it
    before = template().stat()

    def no_migration(db):
        raise AssertionError(f"migrated {db} instead of copying the template")

    monkeypatch.setattr(store_module, "_migrate", no_migration)
    new_store(tmp_path / "second")
    after = template().stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_the_template_stays_in_the_cache_not_the_project(tmp_path):
    new_store(tmp_path)
    made = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert made == ["mlruns", "mlruns/mlflow.db"]
    leftovers = [p.name for p in template().parent.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers


def test_runs_are_logged_to_a_copied_store_and_read_back(tmp_path):
    tracker = Tracker(resolve_store("local", root=str(tmp_path)))
    with tracker.run("demo", "one") as run:
        run.log_params({"lr": 0.1})
        run.log_metrics({"val/acc": 0.5}, step=1)
        run_id = run.run_id
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    got = client.get_run(run_id)
    assert got.data.params == {"lr": "0.1"}
    assert got.data.metrics == {"val/acc": 0.5}
    assert got.info.status == "FINISHED"
    names = {e.name for e in client.search_experiments()}
    assert names == {"Default", "demo"}


def test_an_unusable_cache_still_makes_a_working_store(fallback):
    migrated, migrations = fallback
    assert [m.parent for m in migrations] == [migrated.parent]  # the store's own file
    root = migrated.parent.parent
    assert not (root / "afile" / "sub").exists()
    assert [p.name for p in migrated.parent.iterdir()] == ["mlflow.db"]
    client = MlflowClient(f"sqlite:///{migrated}")
    run = client.create_run(client.create_experiment("x"))
    assert client.get_run(run.info.run_id).info.status == "RUNNING"


def test_a_failed_template_leaves_nothing_and_the_store_migrates(tmp_path, monkeypatch, migrated):
    cache = tmp_path / "cache"
    monkeypatch.setenv("RESEARCH_DATA_DIR", str(cache))
    migrations: list[Path] = []

    def migrate(db: Path):
        migrations.append(db)
        if db.parent == cache:
            db.write_bytes(b"half a schema")
            raise RuntimeError("killed mid-migration")
        shutil.copyfile(migrated, db)  # stands for MLflow's migration of the store itself

    monkeypatch.setattr(store_module, "_migrate", migrate)
    db = new_store(tmp_path / "project")
    assert [m.parent for m in migrations] == [cache, db.parent]
    assert list(cache.iterdir()) == []  # no template, no private file
    assert schema(db) == schema(migrated)


def test_racing_threads_make_one_store_from_the_template(tmp_path):
    new_store(tmp_path / "warm")  # the template exists: the race is over the copy and link
    (tmp_path / "mlruns").mkdir()
    db = tmp_path / "mlruns" / "mlflow.db"
    threads = [threading.Thread(target=create_local_db, args=(db,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [p.name for p in db.parent.iterdir()] == ["mlflow.db"]
    assert default_location(db) == str(db.parent / "0")
