"""Build the report of one study or the comparison of several, and write it to ``studies/``
(or to the folder ``--out`` names, e.g. the reference reports in ``docs/reports/``).

Each study kind (:data:`research.registry.KINDS`) says whether a name is one of its studies
and writes its own sections; this module only orders them, adds the side-by-side table when
studies of several kinds are compared, and writes paths relative to the project root.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from research.config import compose
from research.errors import ResearchError
from research.registry import KINDS
from research.report.caveats import commit_label, differences, relative
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


def build_report(studies, command: str | None = None) -> Document:
    names = [d.name for _, d in studies]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = f"Study {names[0]}" if len(studies) == 1 else "Studies " + ", ".join(names)
    command = command or f"python -m research.report {' '.join(names)}"
    doc = Document(title, f"Generated {stamp} by `{command}`")
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
        warnings=differences({"git commit": {d.name: commit_label(d.tags) for _, d in studies}}),
    )


def make_report(
    names: list[str], root: Path, store: Store, storage_url: str | None = None
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` for ``names`` (one study: into its folder;
    several: into ``studies/compare-<a>-<b>/``). Returns their paths."""
    _, html_path, md_path = report(names, root, store, storage_url)
    return html_path, md_path


def report(
    names: list[str],
    root: Path,
    store: Store,
    storage_url: str | None = None,
    out_dir: Path | None = None,
    command: str | None = None,
) -> tuple[Document, Path, Path]:
    """The report of ``names`` written into ``out_dir`` (default: as :func:`make_report`),
    with the project root's absolute path left out of its text. Returns the document (its
    ``warnings`` for the terminal) and the two files."""
    doc = build_report(load_studies(names, root, store, storage_url), command)
    doc.map_text(lambda text: relative(text, root))
    html_path, md_path = write(doc, out_dir or output_dir(root, names))
    return doc, html_path, md_path
