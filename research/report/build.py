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
    """Each name as a search (an Optuna study in its journal or ``storage_url``) or an
    evolution (a parent run with ``study.kind=evolve`` in MLflow)."""
    from research.report.evolve_report import load_evolve
    from research.search.storage import open_storage, study_dir

    reader = StoreReader(store)
    studies = []
    for name in names:
        if storage_url or (study_dir(root, name) / "journal.log").is_file():
            studies.append(load_search(name, open_storage(storage_url, root, name), reader))
            continue
        evolution = load_evolve(name, reader)
        if evolution is None:
            raise ResearchError(
                f"unknown study {name!r}: no {study_dir(root, name) / 'journal.log'} and no "
                "evolution of that name in MLflow (run it first, or give --storage URL)"
            )
        studies.append(evolution)
    return studies


def build_report(studies: list[SearchData]) -> Document:
    names = [d.name for d in studies]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if len(studies) == 1:
        title = f"Study {names[0]}"
    else:
        title = "Studies " + ", ".join(names)
    doc = Document(title, f"Generated {stamp} by `python -m research.report {' '.join(names)}`")
    from research.report.evolve_report import (
        EvolveData,
        evolve_comparison,
        evolve_sections,
        published_section,
    )

    searches = [d for d in studies if isinstance(d, SearchData)]
    evolutions = [d for d in studies if isinstance(d, EvolveData)]
    if len(searches) > 1:
        doc.sections.append(comparison_section(searches))
    if len(evolutions) > 1:
        doc.sections.append(evolve_comparison(evolutions))
        tasks = {d.task for d in evolutions}
        if len(tasks) == 1 and evolutions[0].task in _published():
            doc.sections.append(published_section(evolutions))
    if searches and evolutions:
        doc.sections.append(_mixed_table(searches, evolutions))
    for data in studies:
        if isinstance(data, SearchData):
            doc.sections.extend(search_sections(data, _base_config(data)))
        else:
            doc.sections.extend(evolve_sections(data))
    return doc


def _published():
    from research.report.evolve_report import PUBLISHED

    return PUBLISHED


def _mixed_table(searches, evolutions):
    from research.report.document import Section, Table

    rows = []
    for d in searches:
        best = d.ranked()[0] if d.complete else None
        metrics = best.user_attrs.get("metrics", {}) if best else {}
        rows.append(
            [
                d.name,
                "Bayesian search",
                f"{len(d.trials)} trials",
                f"{d.metrics[0]} {best.values[0]:.4g}" if best else "-",
                f"{metrics.get('test/acc', float('nan')):.4g}",
            ]
        )
    for d in evolutions:
        rows.append(
            [
                d.name,
                f"neuroevolution ({d.tags.get('algorithm')})",
                f"{d.tags.get('evolve.evals')} evaluations",
                f"fitness {float(d.tags.get('evolve.champion_fitness', 'nan')):.4g}",
                "-",
            ]
        )
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
