"""``python -m research.report STUDY [STUDY ...]``: what studies found, as HTML and Markdown.

One study: ``studies/<name>/report.html`` and ``report.md``. Several: a comparison at equal
budget (studies with the same sampler grouped as seeds) in ``studies/compare-<names>/``.
``--out DIR`` writes them elsewhere (the reference reports: ``--out docs/reports/<name>``).
Every way compared studies differ (commit, budget, data, space, objective) is a warning in the
report and a ``warning: ...`` line on stderr.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
from pathlib import Path

from research.errors import ConfigError, EnvironmentFault, ResearchError
from research.report.build import report
from research.schema import NAME_PATTERN
from research.search.storage import RDB_SCHEMES
from research.track.provenance import command_line
from research.track.redact import redact
from research.track.store import check_schema, resolve_store


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (``error: ...``) and exit status 2."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        raise ConfigError(f"{message} (see python -m research.report --help)")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m research.report", description=__doc__)
    parser.add_argument("studies", nargs="+", help="study names (as in studies/<name>/)")
    parser.add_argument("--root", default=None, help="project root (default $RESEARCH_ROOT or cwd)")
    parser.add_argument("--storage", default=None, help="Optuna RDB URL for studies in a database")
    parser.add_argument("--tracking-uri", default=None, help="MLflow server (default: local store)")
    parser.add_argument(
        "--out", default=None, help="folder for report.html/.md (default: studies/<name>/)"
    )
    try:
        args = parser.parse_args(argv)
    except ResearchError as exc:
        print(redact(f"error: {exc}"), file=sys.stderr)
        return exc.exit_status
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("mlflow", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # MLflow logs a traceback for every failed SQL statement, then raises it: we report it
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    try:
        for name in args.studies:
            if not NAME_PATTERN.match(name):
                raise ResearchError(
                    f"study name {name!r} is not allowed: letters, digits, '_', '.', '-'"
                )
        kind = "server" if args.tracking_uri else "local"
        store = resolve_store(kind, args.tracking_uri, args.root)
        _check_inputs(args, store)
        out = Path(args.out).expanduser().resolve() if args.out else None
        if out is not None and out.exists() and not out.is_dir():
            raise ConfigError(f"--out {args.out} is a file, not a folder")
        command = command_line("research.report", argv if argv is not None else sys.argv[1:])
        doc, html_path, md_path = report(
            args.studies, store.root, store, args.storage, out, command
        )
    except ResearchError as exc:
        print(redact(f"error: {exc}"), file=sys.stderr)
        return exc.exit_status
    for warning in doc.warnings:
        print(redact(f"warning: {warning}"), file=sys.stderr)
    print(f"report: {html_path}")
    print(f"        {md_path}")
    return 0


def _check_inputs(args, store) -> None:
    """What a report reads, checked before anything is opened (opening would create it): the
    project root, the Optuna database of ``--storage`` and the local MLflow store."""
    root = store.root
    if root.exists() and not root.is_dir():
        raise ConfigError(f"--root {root} is a file, not a project folder")
    if args.storage:
        _check_optuna_sqlite(args.storage)
    if store.is_local:
        db = store.local_db
        if db.exists():
            _check_sqlite(db, "the MLflow store", EnvironmentFault)
            check_schema(db)
            return
        if args.storage:
            return
        for name in args.studies:  # no MLflow store: only a journal can hold the study
            journal = root / "studies" / name / "journal.log"
            if not journal.is_file():
                raise ResearchError(
                    f"unknown study {name!r}: no {journal} and no MLflow store at {db} (run it "
                    "first, or give --root or --storage URL)"
                )


SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_sqlite(path: Path, what: str, error=ConfigError) -> None:
    """``path`` is an SQLite database file (its 16-byte header says so)."""
    if path.is_dir():
        raise error(f"{what} {path} is a folder, not an SQLite database")
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if head != SQLITE_MAGIC:
        raise error(f"{what} {path} is not an SQLite database")


def _check_optuna_sqlite(url: str) -> None:
    """An ``sqlite:///`` ``--storage`` must be an existing Optuna database: Optuna would
    otherwise create one (or its tables inside another program's database) just to read it."""
    if not url.startswith("sqlite:"):
        if "://" not in url or url.split("://", 1)[0] not in RDB_SCHEMES:
            raise ConfigError(
                f"--storage {url!r} is not allowed: give the RDB URL the study was run with "
                "(postgresql://user:password@host:5432/db or sqlite:////abs/path.db)"
            )
        return  # the storage layer connects (or says in one line why it cannot)
    database = url.split("://", 1)[1][1:] if "://" in url else ""
    if database in ("", ":memory:"):
        raise ConfigError(
            f"--storage {url!r} is not allowed: an in-memory database holds no study; give "
            "sqlite:////abs/path.db or postgresql://..."
        )
    path = Path(database.split("?", 1)[0]).expanduser()
    if not path.exists():
        raise ConfigError(f"--storage {url!r}: no such database file {path}")
    _check_sqlite(path, "--storage")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise ConfigError(f"--storage {path}: cannot read it as SQLite ({exc})") from None
    if not {"studies", "trials", "version_info"} <= tables:
        raise ConfigError(
            f"--storage {path} is an SQLite database but not an Optuna storage (no studies "
            "table): give the database the study was run with"
        )


if __name__ == "__main__":
    sys.exit(main())
