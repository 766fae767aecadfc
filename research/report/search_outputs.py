"""What the best trial's network produces, in the search report: an autoencoder's
reconstructions, a conditional GAN's samples. The trial drew them when it trained (the train
kind's figures, logged to its MLflow run); the report reads them back, it does not retrain."""

from __future__ import annotations

from research.report.document import Figure, Section
from research.report.reconstructions import RECONSTRUCTIONS
from research.report.samples import SAMPLES
from research.report.search_data import SearchData
from research.track import tags as T

#: artifact -> what its figure shows
CAPTIONS = {
    RECONSTRUCTIONS: "Eight validation examples (rows: input, corrupted input, reconstruction)",
    SAMPLES: "Generated examples of every class (on 2-D data, over the real points in grey)",
}


def outputs_section(data: SearchData) -> list[Section]:
    """The best complete trial's figures, as a one-section list (empty when it has none: a
    classifier's study, or a study logged with ``tracking.log_figure=false``)."""
    ranked = data.ranked()
    run_id = ranked[0].user_attrs.get(T.RUN_ATTR) if ranked else None
    if not run_id:
        return []
    best, multi = ranked[0], len(data.metrics) > 1
    which = "the Pareto front's first trial" if multi else "the best trial"
    figures = []
    for artifact, what in CAPTIONS.items():
        png = data.reader.artifact_bytes(run_id, artifact)
        if png:
            name = f"{data.name}-best-{artifact.removesuffix('.png')}"
            caption = (
                f"{what}: {which} (number {best.number}), at the end of its training — "
                f"`{artifact}` of MLflow run `{run_id}`, {data.source()}."
            )
            figures.append(Figure(name, caption, png))
    if not figures:
        return []
    title = "What the best trial's network produces"
    return [Section(title + (" (first of the Pareto front)" if multi else ""), [], [], figures)]
