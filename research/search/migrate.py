"""``python -m research.search.migrate STUDY URL``: copy an embedded study (its journal file in
``studies/<name>/``) into an RDB storage such as a shared PostgreSQL, with Optuna's own
``copy_study`` (trials, states, values, intermediate values, user attributes — including the
MLflow parent run id, so the study keeps its runs). Then run it with
``study.storage=URL``; the journal is left untouched."""

from __future__ import annotations

import argparse
import sys

import optuna

from research.errors import ResearchError
from research.schema import NAME_PATTERN
from research.search.driver import quiet_optuna
from research.search.storage import (
    describe,
    open_storage,
    recorded_storage,
    remember_storage,
    storage_key,
    study_dir,
)
from research.track.redact import redact
from research.track.store import project_root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m research.search.migrate", description=__doc__)
    parser.add_argument("study", help="study name (studies/<name>/journal.log)")
    parser.add_argument("url", help="target RDB URL, e.g. postgresql://user:pw@host:5432/db")
    parser.add_argument("--root", default=None, help="project root (default $RESEARCH_ROOT or cwd)")
    args = parser.parse_args(argv)
    try:
        if not NAME_PATTERN.match(args.study):
            raise ResearchError(f"study name {args.study!r} is not allowed")
        root = project_root(args.root)
        journal = study_dir(root, args.study) / "journal.log"
        if not journal.is_file():
            raise ResearchError(f"unknown study {args.study!r}: no {journal}")
        if not args.url or args.url.split("://", 1)[0] in ("", "journal"):
            raise ResearchError(f"url={args.url!r} is not allowed: give an RDB URL")
        recorded = recorded_storage(root, args.study)
        if recorded not in (None, storage_key(None, args.study)):
            raise ResearchError(
                f"study {args.study!r} already lives in {recorded}: its journal is not the study"
            )
        quiet_optuna()
        target = open_storage(args.url, root, args.study)
        if args.study in {s.study_name for s in optuna.get_all_study_summaries(target)}:
            raise ResearchError(
                f"study {args.study!r} already exists at {describe(args.url, root, args.study)}"
            )
        optuna.copy_study(
            from_study_name=args.study,
            from_storage=open_storage(None, root, args.study),
            to_storage=target,
        )
        remember_storage(args.url, root, args.study)  # the copy is the study from now on
    except ResearchError as exc:
        print(redact(f"error: {exc}"), file=sys.stderr)
        return 2
    print(redact(f"copied study {args.study!r} to {describe(args.url, root, args.study)}"))
    print(redact(f"continue it with: python -m research.run +study=... study.storage={args.url}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
