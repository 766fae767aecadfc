"""Atomic, authenticated checkpoints of an evolution, one file per generation.

A checkpoint is ``MAGIC || sha256(mac || payload) || mac || payload``: the payload is the
pickled state (engine state with its RNG states, hall of fame, stage, counters) and ``mac`` is
HMAC-SHA256 of the payload under the study's key. The key is 32 random bytes in a file *outside*
the study folder (``<root>/mlruns/.keys/<study>.key``, mode 0600, made on the first save), so a
file dropped into ``studies/<name>/checkpoints/`` — copied from elsewhere, committed, crafted —
is refused before a single byte of it is unpickled: pickle runs code, and only files this
installation wrote may be loaded.

Reading checks, in order: the plain checksum (a disk fault or a truncated copy: the newest
checkpoint falls back to the one before, with a warning, unread), then the MAC (no valid MAC
for a file whose checksum holds means it was not written with this study's key: refused with
one line, :class:`CheckpointRefused`, never a fallback). A checkpoint of the older format (a
bare checksum, no MAC) is refused the same way. Writes go to a temporary file, fsynced,
renamed into place and the directory fsynced, so a crash leaves either the old or the new
checkpoint, never half of one. The newest ``keep`` files are kept.

Classes that moved since a checkpoint was written are found where they live now
(:data:`MOVED`: the evolution's ``Progress`` was ``research.jobs.evolve.Progress`` before the
evolution driver existed), so those checkpoints resume bit-identically; one that names a
class that no longer exists is refused in one line.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import logging
import os
import pickle
import re
from pathlib import Path
from typing import Any

from research.errors import ResearchError

log = logging.getLogger(__name__)

PATTERN = re.compile(r"^gen-(\d{6})\.ckpt$")
DIGEST = 32
MAGIC = b"RCKPT\x02\n\x00"  # format 2: authenticated
KEY_BYTES = 32


#: (module, name) pickled by an older version -> where the class lives now
MOVED = {("research.jobs.evolve", "Progress"): ("research.evolve.progress", "Progress")}


class CheckpointRefused(ResearchError):
    """A checkpoint that may not be unpickled: no valid MAC, or the unauthenticated old format."""


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------- the key
def key_path(directory: Path) -> Path:
    """Where the key of the checkpoints in ``directory`` lives: for a study's
    ``<root>/studies/<name>/checkpoints``, ``<root>/mlruns/.keys/<name>.key``; for any other
    folder, ``.keys/<folder>.key`` beside it. Never inside ``directory`` itself."""
    d = Path(directory).resolve()
    if d.name == "checkpoints" and d.parent.parent.name == "studies":
        return d.parent.parent.parent / "mlruns" / ".keys" / f"{d.parent.name}.key"
    return d.parent / ".keys" / f"{d.name}.key"


def _shown(path: Path) -> str:
    """``studies/<name>/...`` or ``mlruns/.keys/...``: relative to the project root if possible."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_key(directory: Path) -> bytes | None:
    """The key of ``directory``'s checkpoints, or None when it has none yet."""
    try:
        key = key_path(directory).read_bytes()
    except FileNotFoundError:
        return None
    if len(key) != KEY_BYTES:
        raise CheckpointRefused(
            f"the checkpoint key {_shown(key_path(directory))} is damaged ({len(key)} bytes, "
            f"not {KEY_BYTES}): delete {_shown(Path(directory))} and the key to start afresh"
        )
    return key


def ensure_key(directory: Path) -> bytes:
    """The key of ``directory``'s checkpoints, made (random, mode 0600) if missing. Made in a
    private file then linked into place: two processes never end up with two keys."""
    key = read_key(directory)
    if key is not None:
        return key
    path = key_path(directory)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(KEY_BYTES))
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs
            os.link(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return read_key(directory)  # type: ignore[return-value]


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


# ------------------------------------------------------------------------ write and read
def save(
    directory: Path,
    generation: int,
    state: dict[str, Any],
    keep: int = 3,
    *,
    key: bytes | None = None,
) -> Path:
    """Write generation ``generation``'s ``state`` atomically, authenticated with ``key``
    (default: the folder's key, made if missing); prune all but ``keep``."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ensure_key(directory) if key is None else key
    payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    mac = _mac(key, payload)
    path = directory / f"gen-{generation:06d}.ckpt"
    tmp = directory / f".{path.name}.tmp"
    with open(tmp, "wb") as f:
        f.write(MAGIC)
        f.write(hashlib.sha256(mac + payload).digest())
        f.write(mac)
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


def _refuse_old_format(path: Path, data: bytes) -> None:
    digest, payload = data[:DIGEST], data[DIGEST:]
    if len(data) > DIGEST and hmac.compare_digest(hashlib.sha256(payload).digest(), digest):
        raise CheckpointRefused(
            f"checkpoint {_shown(path)} was written by an older version without "
            f"authentication and is not loaded (it could run code): delete "
            f"{_shown(path.parent)} to start the evolution afresh"
        )


def read(path: Path, key: bytes | None = None) -> dict[str, Any]:
    """The state in ``path``. ``ValueError`` if it is damaged (checksum), and
    :class:`CheckpointRefused` if it is whole but not authenticated by ``key`` (default: the
    folder's key). Nothing is unpickled unless the MAC verifies."""
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        _refuse_old_format(path, data)
        raise ValueError("not a checkpoint (checksum mismatch)")
    body = data[len(MAGIC) :]
    digest, rest = body[:DIGEST], body[DIGEST:]
    if len(rest) <= DIGEST or not hmac.compare_digest(hashlib.sha256(rest).digest(), digest):
        raise ValueError("checksum mismatch")
    mac, payload = rest[:DIGEST], rest[DIGEST:]
    if key is None:
        key = read_key(path.parent)
    if key is None:
        raise CheckpointRefused(
            f"checkpoint {_shown(path)} cannot be authenticated: the study's key "
            f"{_shown(key_path(path.parent))} is missing; restore it, or delete "
            f"{_shown(path.parent)} to start the evolution afresh"
        )
    if not hmac.compare_digest(_mac(key, payload), mac):
        raise CheckpointRefused(
            f"checkpoint {_shown(path)} is not authenticated by this study's key "
            f"({_shown(key_path(path.parent))}) and is not loaded (it could run code): "
            "delete it to resume from the one before, or delete the folder to start afresh"
        )
    return _Unpickler(io.BytesIO(payload), path).load()  # authenticated above: ours


class _Unpickler(pickle.Unpickler):
    """Finds moved classes (:data:`MOVED`); a class that no longer exists is one line."""

    def __init__(self, file, path: Path) -> None:
        super().__init__(file)
        self.path = path

    def find_class(self, module: str, name: str):
        module, name = MOVED.get((module, name), (module, name))
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            raise CheckpointRefused(
                f"checkpoint {_shown(self.path)} is from an older version of research: it "
                f"refers to {module}.{name}, which no longer exists; start a new study.name"
            ) from None


def load_latest(directory: Path, key: bytes | None = None) -> tuple[int, dict[str, Any]] | None:
    """(generation, state) of the newest checkpoint that verifies, or None if there is none.
    A damaged newest file falls back to the one before; one that is whole but unauthenticated
    raises :class:`CheckpointRefused`."""
    for path in reversed(checkpoints(directory)):
        try:
            state = read(path, key)
        except (ValueError, OSError, pickle.UnpicklingError, EOFError) as exc:
            log.warning(
                "checkpoint %s is unreadable (%s); falling back to the previous one", path.name, exc
            )
            continue
        return int(PATTERN.match(path.name).group(1)), state
    return None
