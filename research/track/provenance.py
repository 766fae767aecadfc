"""Provenance tags: git commit and dirty flag, command line, package versions, numerics (BLAS
threads and library, CPU)."""

from __future__ import annotations

import getpass
import platform
import shlex
import subprocess
from importlib import metadata
from pathlib import Path

from research import threads
from research.track import tags as T
from research.track.redact import redact

PACKAGES = ("research", "numpy", "scipy", "hydra-core", "omegaconf", "optuna", "mlflow", "deap")


def git_state(path: Path) -> dict[str, str]:
    """``git.commit`` and ``git.dirty`` of the repository containing ``path`` (empty if none)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(path), *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"mlflow.source.git.commit": commit, T.GIT_COMMIT: commit, T.GIT_DIRTY: str(dirty)}


def package_versions() -> dict[str, str]:
    out = {"versions.python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[f"versions.{name}"] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def command_line(module: str, args: list[str]) -> str:
    """The command that reproduces a run, e.g. ``python -m research.run regime.lr=0.5``; a
    password in a URL argument is ``***`` (``study.storage=postgresql://u:***@host/db``)."""
    return shlex.join(["python", "-m", module, *(redact(str(a)) for a in args)])


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's anonymous uid)
        return "unknown"


def provenance_tags(root: Path, command: str) -> dict[str, str]:
    """Every tag that says where a run came from: command, versions, git commit and dirty flag
    (of the package's own checkout, else of the project root), BLAS threads, library and CPU;
    and MLflow's own user and source tags, which its UI shows as "Created by" and "Source"."""
    tags = {"command": redact(command), **package_versions(), **threads.tags()}
    source = " ".join(command.split()[:3])  # python -m research.run
    tags.update({T.MLFLOW_USER: _user(), T.MLFLOW_SOURCE: source, T.MLFLOW_SOURCE_TYPE: "LOCAL"})
    tags.update(git_state(Path(__file__).resolve().parent))
    if T.GIT_COMMIT not in tags:
        tags.update(git_state(root))
    return tags
