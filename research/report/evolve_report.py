"""The report of an evolution study (read from MLflow), and the comparison of several.

Fitness per generation (best and mean; stage boundaries dashed), evaluations to solve
against the published table of the design, the Pareto front when multi-objective, and the
champion. Several evolutions of the same task and algorithm (e.g. seeds) are summarised as
median and spread.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from dataclasses import dataclass

import numpy as np

from research.report.document import Figure, Section, Table, figure_png
from research.report.evolve_figures import fitness_figure, pareto_figure
from research.report.figures import plt
from research.track import tags as T
from research.track.reader import StoreReader, StudyRuns

#: average evaluations to solve (Gomez et al. 2008, JMLR, tables 1/3/4); lower is better
PUBLISHED = {
    "pole_single": {"CoSyNE": 98, "CMA-ES": 283, "NEAT": 743, "ESP": 289, "SANE": 302},
    "pole_double": {"CoSyNE": 954, "CMA-ES": 895, "NEAT": 3600, "ESP": 3800, "SANE": 12600},
    "pole_double_nv": {
        "CoSyNE": 3416,
        "CMA-ES": 6061,
        "NEAT": 6929,
        "ESP": 26342,
        "SANE": 451612,
    },
}


@dataclass
class EvolveData:
    name: str
    runs: StudyRuns
    reader: StoreReader

    @property
    def tags(self) -> dict[str, str]:
        return self.runs.parent.tags

    @property
    def parent_id(self) -> str:
        return self.runs.parent.run_id

    @property
    def task(self) -> str:
        return self.tags.get(T.TASK, "?")

    @property
    def solved_at(self) -> int | None:
        value = self.tags.get(T.EVOLVE_SOLVED_AT, "")
        return int(value) if value else None

    def source(self) -> str:
        commit = self.tags.get(T.GIT_COMMIT, "unknown")[:12]
        return f"MLflow parent run `{self.parent_id}` of study `{self.name}`, git `{commit}`"

    def curve(self, key: str) -> list[tuple[int, float]]:
        return self.reader.history(self.parent_id, key)


def load_evolve(name: str, reader: StoreReader) -> EvolveData | None:
    runs = reader.study(name)
    if runs is None or runs.parent.tags.get(T.STUDY_KIND) != "evolve":
        return None
    return EvolveData(name, runs, reader)


def _stage_starts(data: EvolveData) -> list[int]:
    stages = data.curve(T.STAGE)
    return [g for (g, s), (_, prev) in zip(stages[1:], stages[:-1]) if s != prev]


def evolve_sections(data: EvolveData, *, generalisation_starts: int) -> list[Section]:
    """One study's sections; ``generalisation_starts``: how many starts the pole tasks'
    generalisation test has (the tasks' constant, passed in by the study kind)."""
    t = data.tags
    solved = data.solved_at
    summary = Section(
        f"Summary: {data.name}",
        [
            f"Algorithm `{t.get(T.ALGORITHM)}`, encoding `{t.get(T.ENCODING)}`, task "
            f"`{data.task}`, seed {t.get(T.SEED)}: {t.get(T.EVOLVE_GENERATIONS)} generations, "
            f"{t.get(T.EVOLVE_EVALS)} evaluations, champion fitness "
            f"{float(t.get(T.EVOLVE_CHAMPION_FITNESS, 'nan')):.6g}."
            + (f" Solved after {solved} evaluations." if solved else " Not solved."),
            f"Command: `{t.get('command', '?')}`. Source: {data.source()}.",
        ],
    )
    if T.EVOLVE_GENERALISATION in t:
        summary.paragraphs.append(
            f"Generalisation test: the champion balances {t[T.EVOLVE_GENERALISATION]} of "
            f"{generalisation_starts} "
            "starting states for 1000 steps (goal: >= 200)."
        )
    stages = json.loads(t.get(T.EVOLVE_STAGE_EVALS, "[]") or "[]")
    if stages:
        summary.paragraphs.append(f"Stages were left after evaluations {stages}.")
    curves = {k: data.curve(k) for k in ("fitness/best", "fitness/mean")}
    fig = fitness_figure(curves, _stage_starts(data), f"{data.name}: fitness per generation")
    summary.figures.append(
        Figure(
            f"{data.name}_fitness",
            f"Best and mean fitness per generation (stage changes dashed). From {data.source()}.",
            figure_png(fig),
        )
    )
    sections = [summary]
    if data.task in PUBLISHED:
        sections.append(published_section([data]))
    front = _pareto(data)
    if front is not None:
        sections.append(_front_section(data, front))
    champion = _champion(data)
    if champion:
        sections.append(
            Section(
                f"Champion: {data.name}",
                [
                    f"Network: {champion['network']}, {champion['n_params']} weights "
                    f"({champion['active']} active), fitness {champion['fitness']:.6g}; weights "
                    f"in `champion.npz` of run `{data.parent_id}`."
                ],
            )
        )
    return sections


def _front_section(data: EvolveData, front: np.ndarray) -> Section:
    figure = Figure(
        f"{data.name}_pareto",
        f"Pareto front from `pareto_front.csv` of {data.source()}.",
        figure_png(pareto_figure(np.column_stack([front[:, 0], -front[:, 1]]))),
    )
    return Section(
        f"Pareto front: {data.name}",
        [f"{len(front)} non-dominated networks (fitness vs active connections)."],
        [],
        [figure],
    )


def published_section(studies: list[EvolveData]) -> Section:
    """Evaluations to solve: ours (median and spread over the studies) against the table."""
    task = studies[0].task
    solved = [d.solved_at for d in studies if d.solved_at is not None]
    ours = "not solved"
    if solved:
        ours = f"{statistics.median(solved):.0f}"
        if len(solved) > 1:
            ours += f" [{min(solved)}..{max(solved)}], {len(solved)}/{len(studies)} solved"
    rows = [[f"this study ({studies[0].tags.get(T.ALGORITHM)})", ours]]
    rows += [[method, f"{n:,}"] for method, n in PUBLISHED[task].items()]
    return Section(
        f"Evaluations to solve {task}",
        [],
        [
            Table(
                ["method", "evaluations to solve (lower is better)"],
                rows,
                "Published: Gomez et al. 2008 (JMLR), tables 1/3/4, averages. Ours: median "
                f"[min..max] over {len(studies)} run(s): " + "; ".join(d.source() for d in studies),
            )
        ],
    )


def _artifact_text(data: EvolveData, path: str) -> str | None:
    return data.reader.artifact_text(data.parent_id, path)


def _pareto(data: EvolveData) -> np.ndarray | None:
    text = _artifact_text(data, "pareto_front.csv")
    if not text:
        return None
    rows = list(csv.reader(io.StringIO(text)))[1:]
    return np.array([[float(a), float(b)] for a, b in rows]) if rows else None


def _champion(data: EvolveData) -> dict | None:
    text = _artifact_text(data, "champion.json")
    return json.loads(text) if text else None


def evolve_comparison(studies: list[EvolveData]) -> Section:
    """Best fitness per generation: median and min..max band per (algorithm, task) group."""
    groups: dict[str, list[EvolveData]] = {}
    for d in studies:
        groups.setdefault(f"{d.tags.get(T.ALGORITHM)} on {d.task}", []).append(d)
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    rows = []
    for label, members in groups.items():
        curves = [dict(d.curve("fitness/best")) for d in members]
        length = min(max(c) for c in curves if c) if all(curves) else 0
        steps = list(range(1, length + 1))
        med = [statistics.median(c.get(g, np.nan) for c in curves) for g in steps]
        line = ax.plot(steps, med, label=f"{label} (n={len(members)})")[0]
        if len(members) > 1:
            lo = [min(c.get(g, np.nan) for c in curves) for g in steps]
            hi = [max(c.get(g, np.nan) for c in curves) for g in steps]
            ax.fill_between(steps, lo, hi, alpha=0.2, color=line.get_color())
        solved = [d.solved_at for d in members if d.solved_at is not None]
        rows.append(
            [
                label,
                ", ".join(d.name for d in members),
                f"{len(solved)}/{len(members)}",
                f"{statistics.median(solved):.0f}" if solved else "-",
            ]
        )
    ax.set(xlabel="generation", ylabel="best fitness", title="Best fitness per generation")
    ax.grid(alpha=0.3)
    ax.legend()
    sources = "; ".join(d.source() for d in studies)
    return Section(
        "Comparison of evolutions",
        [],
        [Table(["method", "studies", "solved", "median evaluations to solve"], rows, sources)],
        [
            Figure(
                "evolve_comparison", f"Median and min..max band. From {sources}.", figure_png(fig)
            )
        ],
    )
