"""Build the report of one study or the comparison of several, and write it to ``studies/``.

Each study kind (:data:`research.registry.KINDS`) says whether a name is one of its studies
and writes its own sections; this module only orders them and adds the side-by-side table when
studies of several kinds are compared.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from research.config import compose
from research.errors import ResearchError
from research.registry import KINDS
from research.report.document import Document, Section, Table, write
from research.report.search_report import output_dir
from research.track.store import Store, study_dir


def base_config(data):
    """The config every trial of a search started from (conf/ + the study's shared
    overrides); None when conf/ changed since the study ran (the diff column shows "-")."""
    try:
        return compose(data.signature.get("overrides", []))
    except ResearchError:
        return None


def load_studies(names: list[str], root: Path, store: Store, storage_url: str | None):
    """(kind, report data) of each name: the first kind that knows the study."""
    studies = []
    for name in names:
        for entry in KINDS.items():
            data = entry.factory.load_report(name, root, store, storage_url)
            if data is not None:
                studies.append((entry.factory, data))
                break
        else:
            raise ResearchError(
                f"unknown study {name!r}: no {study_dir(root, name) / 'journal.log'} and no "
                "evolution of that name in MLflow (run it first, or give --storage URL)"
            )
    return studies


def build_report(studies) -> Document:
    names = [d.name for _, d in studies]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = f"Study {names[0]}" if len(studies) == 1 else "Studies " + ", ".join(names)
    doc = Document(title, f"Generated {stamp} by `python -m research.report {' '.join(names)}`")
    kinds: dict[str, tuple[object, list]] = {}
    for kind, data in studies:
        kinds.setdefault(kind.name, (kind, []))[1].append(data)
    for kind, datas in kinds.values():
        if len(datas) > 1:
            doc.sections.extend(kind.comparison_sections(datas))
    if len(kinds) > 1:
        doc.sections.append(_mixed_table(studies))
    for kind, data in studies:
        doc.sections.extend(kind.report_sections(data))
    return doc


def _mixed_table(studies) -> Section:
    rows = [kind.summary_row(data) for kind, data in studies]
    return Section(
        "Search and evolution side by side",
        ["Budgets differ in kind (trials of gradient training vs network evaluations)."],
        [Table(["study", "method", "budget", "best", "test/acc"], rows)],
    )


def make_report(
    names: list[str], root: Path, store: Store, storage_url: str | None = None
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` for ``names`` (one study: into its folder;
    several: into ``studies/compare-<a>-<b>/``). Returns their paths."""
    studies = load_studies(names, root, store, storage_url)
    return write(build_report(studies), output_dir(root, names))
