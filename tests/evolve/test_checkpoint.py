"""Checkpoints are atomic and verified; a corrupt newest one falls back to the previous."""

from __future__ import annotations

import logging

import numpy as np

from research.evolve import checkpoint


def state(g: int) -> dict:
    return {"generation": g, "rng": np.random.default_rng(g).bit_generator.state, "x": [g] * 3}


def test_the_newest_checkpoint_is_loaded_and_only_the_last_few_kept(tmp_path):
    for g in range(1, 6):
        checkpoint.save(tmp_path, g, state(g), keep=3)
    assert [p.name for p in checkpoint.checkpoints(tmp_path)] == [
        "gen-000003.ckpt",
        "gen-000004.ckpt",
        "gen-000005.ckpt",
    ]
    generation, loaded = checkpoint.load_latest(tmp_path)
    assert generation == 5 and loaded == state(5)
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_corrupt_newest_checkpoint_falls_back_to_the_previous_with_a_warning(tmp_path, caplog):
    checkpoint.save(tmp_path, 1, state(1))
    newest = checkpoint.save(tmp_path, 2, state(2))
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    newest.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        generation, loaded = checkpoint.load_latest(tmp_path)
    assert generation == 1 and loaded == state(1)
    assert "gen-000002.ckpt" in caplog.text and "falling back" in caplog.text


def test_a_truncated_checkpoint_and_an_empty_folder_are_handled(tmp_path):
    assert checkpoint.load_latest(tmp_path / "none") is None
    path = checkpoint.save(tmp_path, 7, state(7))
    path.write_bytes(path.read_bytes()[:10])
    assert checkpoint.load_latest(tmp_path) is None
