"""Build the report of one study or the comparison of several, and write it to ``studies/``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from research.errors import ResearchError
from research.report.document import Document, write
from research.report.search_report import (
    SearchData,
    comparison_section,
    load_search,
    output_dir,
    search_sections,
)
from research.track.reader import StoreReader
from research.track.store import Store


def _base_config(data: SearchData):
    """The config every trial started from (conf/ + the study's shared overrides)."""
    from research.config import compose

    try:
        return compose(data.signature.get("overrides", []))
    except ResearchError:
        return None  # conf/ changed since the study ran; the diff column shows "-"


def load_studies(names: list[str], root: Path, store: Store, storage_url: str | None):
    from research.search.storage import open_storage, study_dir

    reader = StoreReader(store)
    studies = []
    for name in names:
        if not storage_url and not (study_dir(root, name) / "journal.log").is_file():
            raise ResearchError(
                f"unknown study {name!r}: no {study_dir(root, name) / 'journal.log'} "
                "(run it first, or give --storage URL for a study in a database)"
            )
        storage = open_storage(storage_url, root, name)
        studies.append(load_search(name, storage, reader))
    return studies


def build_report(studies: list[SearchData]) -> Document:
    names = [d.name for d in studies]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if len(studies) == 1:
        title = f"Study {names[0]}"
    else:
        title = "Studies " + ", ".join(names)
    doc = Document(title, f"Generated {stamp} by `python -m research.report {' '.join(names)}`")
    if len(studies) > 1:
        doc.sections.append(comparison_section(studies))
    for data in studies:
        doc.sections.extend(search_sections(data, _base_config(data)))
    return doc


def make_report(
    names: list[str], root: Path, store: Store, storage_url: str | None = None
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` for ``names`` (one study: into its folder;
    several: into ``studies/compare-<a>-<b>/``). Returns their paths."""
    studies = load_studies(names, root, store, storage_url)
    return write(build_report(studies), output_dir(root, names))
