"""``python -m research.report STUDY [STUDY ...]``: what studies found, as HTML and Markdown.

One study: ``studies/<name>/report.html`` and ``report.md``. Several: a comparison at equal
budget (studies with the same sampler grouped as seeds) in ``studies/compare-<names>/``.
"""

from __future__ import annotations

import argparse
import logging
import sys

from research.errors import ResearchError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m research.report", description=__doc__)
    parser.add_argument("studies", nargs="+", help="study names (as in studies/<name>/)")
    parser.add_argument("--root", default=None, help="project root (default $RESEARCH_ROOT or cwd)")
    parser.add_argument("--storage", default=None, help="Optuna RDB URL for studies in a database")
    parser.add_argument("--tracking-uri", default=None, help="MLflow server (default: local store)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("mlflow", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from research.report.build import make_report
    from research.track.store import resolve_store

    try:
        for name in args.studies:
            from research.config import NAME_PATTERN

            if not NAME_PATTERN.match(name):
                raise ResearchError(
                    f"study name {name!r} is not allowed: letters, digits, '_', '.', '-'"
                )
        kind = "server" if args.tracking_uri else "local"
        store = resolve_store(kind, args.tracking_uri, args.root)
        html_path, md_path = make_report(args.studies, store.root, store, args.storage)
    except ResearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {html_path}")
    print(f"        {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
