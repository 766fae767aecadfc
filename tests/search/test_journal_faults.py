"""Faults of a study's storage: a journal torn mid-write, a journal damaged inside, a rerun in
another storage or in memory. Each ends in one line, never a traceback, and loses nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import optuna
import pytest

from research.report.__main__ import main as report_main
from research.run import main
from research.search.migrate import main as migrate_main
from tests.conftest import run_cli
from tests.search.test_study import load, study_runs

FAST = ["study.report=false"]


def _tear(journal: Path, n: int = 40) -> bytes:
    """Cut the last ``n`` bytes of ``journal`` (a write cut short); returns the torn rest."""
    data = journal.read_bytes()[:-n]
    journal.write_bytes(data)
    torn = data[data.rfind(b"\n") + 1 :]
    assert torn, "the cut must leave part of a record behind"
    return torn


def _side_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("journal.log.torn-*"))


def _without_progress(err: str) -> str:
    """``err`` without the lines a run prints as it goes (where it resumes, its progress):
    what is left is what the run had to say."""
    kept = [
        line
        for line in err.splitlines()
        if not line.startswith("resuming study") and not re.match(r"^\S+: \d+/\d+ trials", line)
    ]
    return "\n".join(kept)


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _every_line_a_record(journal: Path) -> None:
    data = journal.read_bytes()
    assert data.endswith(b"\n")
    for line in data.splitlines():
        assert isinstance(json.loads(line), dict)


def test_a_torn_journal_tail_is_set_aside_and_the_study_resumes_to_n_trials(isolated, capsys, conf):
    # a real process (dead by now, like one that crashed mid-write) ran the first trials
    first = run_cli(conf, "+study=fast", "study.n_trials=2", *FAST, cwd=isolated)
    assert first.returncode == 0, first.stderr
    folder = isolated / "studies" / "fast"
    journal = folder / "journal.log"
    torn = _tear(journal)

    assert main([conf, "+study=fast", "study.n_trials=3", *FAST]) == 0
    note = _one_line(_without_progress(capsys.readouterr().err))
    (side,) = _side_files(folder)
    assert note == (
        f"note: studies/fast/journal.log ended in a torn record ({len(torn)} bytes, a write "
        f"cut short); moved them to studies/fast/{side.name}; the study continues from its "
        "last complete record"
    )
    assert side.read_bytes() == torn  # kept, never deleted
    _every_line_a_record(journal)  # the new records start on a line of their own
    trials = load(isolated, "fast").trials
    counted = [t for t in trials if not t.user_attrs.get("retried")]
    assert len(counted) == 3 and all(t.state.is_finished() for t in trials)
    _, parents, _ = study_runs(isolated, "fast")
    assert len(parents) == 1

    # the report reads a torn journal too: the same repair, the same one line
    torn = _tear(journal, 25)
    assert report_main(["fast"]) == 0
    note = _one_line(capsys.readouterr().err)
    assert note.startswith(f"note: studies/fast/journal.log ended in a torn record ({len(torn)} ")
    assert len(_side_files(folder)) == 2 and (folder / "report.html").is_file()
    _every_line_a_record(journal)


def test_a_torn_tail_of_zero_bytes_after_a_crash_is_set_aside_too(isolated, capsys):
    from research.search.storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(None, isolated, "zeros")
    study = optuna.create_study(study_name="zeros", storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    journal = isolated / "studies" / "zeros" / "journal.log"
    with open(journal, "ab") as f:
        f.write(b"\x00" * 64)  # a file system that grew the file but never wrote the block
    assert capsys.readouterr().err == ""
    reloaded = optuna.load_study(study_name="zeros", storage=open_storage(None, isolated, "zeros"))
    assert "ended in a torn record (64 bytes" in _one_line(capsys.readouterr().err)
    assert len(reloaded.trials) == 3
    reloaded.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    _every_line_a_record(journal)
    (side,) = _side_files(journal.parent)
    assert side.read_bytes() == b"\x00" * 64


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda line: line[:30], 'line 5 is not a journal record (\'{"op_code":'),
        (
            lambda line: line.replace(b'"op_code":', b'"op_code":9', 1),
            "line 5 holds an unknown operation (op_code 9",
        ),
    ],
    ids=["garbage", "unknown-op"],
)
def test_damage_inside_the_journal_is_one_line_and_changes_nothing(
    isolated, capsys, conf, damage, expected
):
    from research.search.storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="fast", storage=open_storage(None, isolated, "fast"))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    journal = isolated / "studies" / "fast" / "journal.log"
    lines = journal.read_bytes().split(b"\n")
    lines[4] = damage(lines[4])
    journal.write_bytes(b"\n".join(lines))
    damaged = journal.read_bytes()

    assert main([conf, "+study=fast", "study.n_trials=4", *FAST]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("error: studies/fast/journal.log is damaged: ") and expected in line
    assert report_main(["fast"]) == 2
    assert _one_line(capsys.readouterr().err) == line
    assert journal.read_bytes() == damaged and not _side_files(journal.parent)


def test_a_rerun_in_another_storage_is_refused_and_overwrites_nothing(isolated, capsys, conf):
    assert main([conf, "+study=fast", "study.n_trials=2"]) == 0
    folder = isolated / "studies" / "fast"
    kept = (
        "journal.log",
        "trials.csv",
        "report.html",
        "report.md",
        "report_figures/fast-history.png",
    )
    before = {name: (folder / name).read_bytes() for name in kept}
    _, parents, children = study_runs(isolated, "fast")
    assert len(parents) == 1 and len(children) == 2
    capsys.readouterr()

    other = isolated / "other.db"
    url = f"sqlite:///{other}"
    assert main([conf, "+study=fast", "study.n_trials=3", f"study.storage={url}"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line == (
        f"error: study 'fast' lives in journal:studies/fast/journal.log, not in {url}: another "
        "study.storage would start a second study over its files. Rerun with the storage it "
        "was created in, set another study.name, or move it first: python -m "
        "research.search.migrate fast URL"
    )
    assert {name: (folder / name).read_bytes() for name in kept} == before
    _, parents_after, children_after = study_runs(isolated, "fast")
    assert [r.info.run_id for r in parents_after] == [r.info.run_id for r in parents]
    assert len(children_after) == 2 and not other.exists()

    # moving the study is the way: then it continues there, with its parent run
    assert migrate_main(["fast", url]) == 0
    capsys.readouterr()
    assert main([conf, "+study=fast", "study.n_trials=3", f"study.storage={url}", *FAST]) == 0
    _, parents_after, children_after = study_runs(isolated, "fast")
    assert [r.info.run_id for r in parents_after] == [r.info.run_id for r in parents]
    assert len(children_after) == 3
    capsys.readouterr()
    # and the journal left behind is no longer the study
    assert main([conf, "+study=fast", "study.n_trials=4", *FAST]) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"lives in sqlite:///{other}, not in journal:studies/fast/journal.log" in line


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_storage_is_refused_before_anything_exists(isolated, capsys, conf, url):
    assert main([conf, "+study=fast", "study.n_trials=2", f"study.storage={url}"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"error: study.storage={url!r} is not allowed: an in-memory database")
    assert not (isolated / "studies").exists()
    assert not (isolated / "mlruns").exists()


def test_storages_are_compared_and_named_without_credentials(isolated):
    from research.errors import ConfigError
    from research.search.storage import check_storage, remember_storage, storage_key

    url = "postgresql+psycopg://alice:s3cret@db.example:5432/optuna?sslmode=require"
    assert storage_key(url, "x") == "postgresql://db.example:5432/optuna"
    same = "postgresql://bob:other@db.example:5432/optuna"
    assert storage_key(same, "x") == storage_key(url, "x")
    remember_storage(None, isolated, "x")
    check_storage(None, isolated, "x")  # its own storage: fine
    with pytest.raises(ConfigError) as refused:
        check_storage(url, isolated, "x")
    assert "postgresql://db.example:5432/optuna" in str(refused.value)
    assert "s3cret" not in str(refused.value) and "alice" not in str(refused.value)
