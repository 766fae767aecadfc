"""Checkpoints are authenticated (HMAC-SHA256, a per-study key outside the study folder): a
crafted or foreign file is refused in one line and never unpickled, an old unauthenticated one
too; a damaged one still falls back to the one before."""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
from pathlib import Path

import pytest

from research.evolve import checkpoint
from research.evolve.checkpoint import CheckpointRefused
from research.run import main

ARGS = ["+study=cmaes", "task.max_steps=200", "study.generations=3", "study.stop_on_solve=false"]
ARGS += ["study.report=false"]


class Plant:
    """Unpickling this creates ``path``: what a crafted checkpoint could do (run code)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def old_format(payload: bytes) -> bytes:
    """A checkpoint as versions before authentication wrote it: sha256(payload) || payload."""
    return hashlib.sha256(payload).digest() + payload


def new_format(payload: bytes, key: bytes) -> bytes:
    """The current layout, with a MAC under ``key`` (someone else's key)."""
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    return checkpoint.MAGIC + hashlib.sha256(mac + payload).digest() + mac + payload


def test_a_checkpoint_round_trips_and_its_key_lives_outside_the_folder(tmp_path):
    folder = tmp_path / "studies" / "x" / "checkpoints"
    checkpoint.save(folder, 1, {"a": [1, 2]})
    assert checkpoint.load_latest(folder) == (1, {"a": [1, 2]})
    key = checkpoint.key_path(folder)
    assert key == (tmp_path / "mlruns" / ".keys" / "x.key").resolve()
    assert key.stat().st_mode & 0o077 == 0 and len(key.read_bytes()) == 32
    assert not any(p.name.endswith(".key") for p in folder.parent.rglob("*"))


@pytest.mark.parametrize("forge", ["old_format", "other_key"])
def test_an_unauthenticated_checkpoint_is_refused_before_unpickling(tmp_path, forge):
    folder = tmp_path / "studies" / "x" / "checkpoints"
    checkpoint.save(folder, 1, {"a": 1})
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Plant(marker))
    data = old_format(payload) if forge == "old_format" else new_format(payload, os.urandom(32))
    (folder / "gen-000002.ckpt").write_bytes(data)
    with pytest.raises(CheckpointRefused) as info:
        checkpoint.load_latest(folder)
    assert "gen-000002.ckpt" in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()


def test_a_checkpoint_without_its_key_is_refused(tmp_path):
    folder = tmp_path / "studies" / "x" / "checkpoints"
    checkpoint.save(folder, 1, {"a": 1})
    checkpoint.key_path(folder).unlink()
    with pytest.raises(CheckpointRefused, match="key .* is missing"):
        checkpoint.load_latest(folder)


@pytest.mark.parametrize("forge", ["old_format", "other_key"])
def test_a_crafted_checkpoint_in_a_study_is_refused_in_one_line_and_runs_no_code(
    isolated, capsys, forge
):
    """The attack: a file dropped into studies/<name>/checkpoints/ as the newest checkpoint,
    laid out as the program writes them (valid checksum). Before authentication the rerun
    unpickled it (and created the marker file); now it is one line, exit 2, nothing run."""
    assert main(ARGS) == 0
    capsys.readouterr()
    folder = isolated / "studies" / "cmaes" / "checkpoints"
    marker = isolated / "pwned"
    payload = pickle.dumps(Plant(marker))
    data = old_format(payload) if forge == "old_format" else new_format(payload, os.urandom(32))
    (folder / "gen-000099.ckpt").write_bytes(data)
    assert main([*ARGS, "study.generations=5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: checkpoint "), err
    assert "gen-000099.ckpt" in err[0]
    expected = "older version without authentication" if forge == "old_format" else "not auth"
    assert expected in err[0]
    assert not marker.exists()


def test_a_raw_pickle_without_a_checksum_is_skipped_unread(isolated, capsys, caplog):
    """A file that is not even laid out as a checkpoint is damage, as before: the rerun falls
    back to the newest good checkpoint with a warning, and never unpickles it."""
    assert main(ARGS) == 0
    folder = isolated / "studies" / "cmaes" / "checkpoints"
    marker = isolated / "pwned"
    (folder / "gen-000099.ckpt").write_bytes(pickle.dumps(Plant(marker)))
    assert main([*ARGS, "study.generations=4"]) == 0
    assert "gen-000099.ckpt" in caplog.text and "falling back" in caplog.text
    assert not marker.exists()
