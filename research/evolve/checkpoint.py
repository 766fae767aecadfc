"""Atomic, verified checkpoints of an evolution, one file per generation.

A checkpoint is ``sha256(payload) || payload`` where the payload is the pickled state (engine
state with its RNG states, hall of fame, logbook, stage, counters). It is written to a temporary
file, fsynced, renamed into place and the directory fsynced, so a crash leaves either the old
or the new checkpoint, never half of one. The newest ``keep`` files are kept; when the newest
does not verify (a disk fault, a truncated copy) loading falls back to the one before, with a
warning. Checkpoints live in ``studies/<name>/checkpoints/`` and are only read from there:
pickle is safe for files this program wrote, not for files from elsewhere.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PATTERN = re.compile(r"^gen-(\d{6})\.ckpt$")
DIGEST = 32


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save(directory: Path, generation: int, state: dict[str, Any], keep: int = 3) -> Path:
    """Write generation ``generation``'s ``state`` atomically; prune all but ``keep``."""
    directory.mkdir(parents=True, exist_ok=True)
    payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    path = directory / f"gen-{generation:06d}.ckpt"
    tmp = directory / f".{path.name}.tmp"
    with open(tmp, "wb") as f:
        f.write(hashlib.sha256(payload).digest())
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    _fsync_dir(directory)
    for old in checkpoints(directory)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def checkpoints(directory: Path) -> list[Path]:
    """Checkpoint files, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if PATTERN.match(p.name))


def read(path: Path) -> dict[str, Any]:
    """The state in ``path``; ``ValueError`` if it does not verify."""
    data = path.read_bytes()
    digest, payload = data[:DIGEST], data[DIGEST:]
    if len(data) <= DIGEST or hashlib.sha256(payload).digest() != digest:
        raise ValueError("checksum mismatch")
    return pickle.loads(payload)  # noqa: S301 - our own file, verified above


def load_latest(directory: Path) -> tuple[int, dict[str, Any]] | None:
    """(generation, state) of the newest checkpoint that verifies, or None if there is none."""
    for path in reversed(checkpoints(directory)):
        try:
            state = read(path)
        except (ValueError, OSError, pickle.UnpicklingError, EOFError) as exc:
            log.warning(
                "checkpoint %s is unreadable (%s); falling back to the previous one", path.name, exc
            )
            continue
        return int(PATTERN.match(path.name).group(1)), state
    return None
