"""The report of an evolution study (read from MLflow), and the comparison of several.

Fitness per generation (best and mean; stage boundaries dashed), evaluations to solve
against the published table of the design (only for the table's own task: a staged or
altered task is not the task the literature solved), the Pareto front when multi-objective,
and the champion. Several evolutions of the same task and algorithm (e.g. seeds) are
summarised as median and spread; one run is labelled as one run.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from dataclasses import dataclass

import numpy as np

from research.report.caveats import commit_label, differences, seeds, spread
from research.report.document import Figure, Section, Table, figure_png
from research.report.evolve_figures import (
    apply_scale,
    fitness_figure,
    fitness_scale,
    pareto_figure,
)
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

#: the settings of the published tasks (conf/task/*.yaml as the literature ran them): a run
#: with other values (e.g. ``+study=stage``'s 0.15 m short pole) solved another task
STANDARD = {"task.max_steps": 100000.0, "task.short_length": 0.05, "task.short_mass": 0.01}
POLE_BENCH = "python bench/evolve_poles.py --seeds 10 --tasks {task}"


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

    @property
    def commit(self) -> str:
        return commit_label(self.tags)

    def source(self) -> str:
        return f"MLflow parent run `{self.parent_id}` of study `{self.name}`, git `{self.commit}`"

    def not_standard(self) -> list[str]:
        """How this run's task differs from the published one (empty: it is that task)."""
        params = self.runs.parent.params
        out = [
            f"{key}={params[key]} (the table's: {value:g})"
            for key, value in STANDARD.items()
            if key in params and _number(params[key]) != value
        ]
        if params.get("study.stages", "None") not in ("None", "[]", ""):
            out.append(f"reached through stages {params['study.stages']}")
        return out

    def curve(self, key: str) -> list[tuple[int, float]]:
        return self.reader.history(self.parent_id, key)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


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
    summary.figures.append(_fitness(data))
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


def _fitness(data: EvolveData) -> Figure:
    """Best and mean fitness per generation, on a scale where the generations before a
    jump to "solved" stay visible; the caption says what is drawn."""
    curves = {k: data.curve(k) for k in ("fitness/best", "fitness/mean")}
    stages = _stage_starts(data)
    scale = fitness_scale(curves)
    fig = fitness_figure(curves, stages, f"{data.name}: fitness per generation", scale=scale)
    caption = "Best and mean fitness per generation"
    if scale != "linear":
        caption += f" (y on a {scale} scale: the values before the jump span decades)"
    if stages:
        caption += f"; dashed: stage changes at generations {stages}"
    return Figure(f"{data.name}-fitness", f"{caption}. From {data.source()}.", figure_png(fig))


def _front_section(data: EvolveData, front: np.ndarray) -> Section:
    figure = Figure(
        f"{data.name}-pareto",
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
    """Evaluations to solve: ours (one run, or median and spread over the studies) against
    the table — or, when a study's task is not the table's, why they are not compared."""
    task = studies[0].task
    title = f"Evaluations to solve {task}"
    other = {d.name: d.not_standard() for d in studies if d.not_standard()}
    if other:
        why = "; ".join(f"`{name}`: {', '.join(diff)}" for name, diff in other.items())
        return Section(
            title,
            [
                f"Not set against the published {task} table (Gomez et al. 2008): the task "
                f"run here is not the table's ({why}). Its evaluations to solve count a "
                "different problem, so the literature's numbers would mislead."
            ],
        )
    solved = [d.solved_at for d in studies if d.solved_at is not None]
    algorithm = studies[0].tags.get(T.ALGORITHM)
    if len(studies) == 1:
        label = f"this study ({algorithm}): one run (seed {studies[0].tags.get(T.SEED, '?')})"
        ours = f"{solved[0]}" if solved else "not solved"
    else:
        label = f"this study ({algorithm}): {len(studies)} runs"
        ours = f"{statistics.median(solved):.0f}" if solved else "not solved"
        if len(solved) > 1:
            ours += f" [{min(solved)}..{max(solved)}]"
        ours += f" (median [min..max]), {len(solved)}/{len(studies)} solved"
    rows = [[label, ours]]
    rows += [[method, f"{n:,}"] for method, n in PUBLISHED[task].items()]
    paragraphs = []
    if len(studies) == 1:
        paragraphs.append(
            "One run is one sample of a distribution; the published numbers are averages over "
            "many runs. For the distribution over seeds run the bench: "
            f"`{POLE_BENCH.format(task=task)}`."
        )
    return Section(
        title,
        paragraphs,
        [
            Table(
                ["method", "evaluations to solve (lower is better)"],
                rows,
                "Published: Gomez et al. 2008 (JMLR), tables 1/3/4, averages. Ours: "
                + ("one run" if len(studies) == 1 else f"{len(studies)} runs")
                + ": "
                + "; ".join(d.source() for d in studies),
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
        line = ax.plot(steps, med, label=f"{label} ({seeds(len(members))})")[0]
        if len(members) > 1:
            lo = [min(c.get(g, np.nan) for c in curves) for g in steps]
            hi = [max(c.get(g, np.nan) for c in curves) for g in steps]
            ax.fill_between(steps, lo, hi, alpha=0.2, color=line.get_color())
        solved = [float(d.solved_at) for d in members if d.solved_at is not None]
        rows.append(
            [
                label,
                ", ".join(d.name for d in members),
                f"{len(solved)}/{len(members)}",
                spread(solved),
            ]
        )
    ax.set(xlabel="generation", ylabel="best fitness", title="Best fitness per generation")
    best = {d.name: d.curve("fitness/best") for d in studies}
    apply_scale(ax, fitness_scale(best), best)
    ax.grid(alpha=0.3)
    ax.legend()
    sources = "; ".join(d.source() for d in studies)
    drawn = (
        "Median (line) and min..max (band) over the runs of each method"
        if any(len(m) > 1 for m in groups.values())
        else "One run per method (1 seed each)"
    )
    return Section(
        "Comparison of evolutions",
        warnings=evolve_differences(studies),
        tables=[Table(["method", "studies", "solved", "evaluations to solve"], rows, sources)],
        figures=[Figure("evolve_comparison", f"{drawn}. From {sources}.", figure_png(fig))],
    )


def evolve_differences(studies: list[EvolveData]) -> list[str]:
    """A warning per way the evolutions differ besides their algorithm and seed."""

    def part(d: EvolveData, *prefixes: str) -> str:
        params = d.runs.parent.params
        return ", ".join(f"{k}={v}" for k, v in sorted(params.items()) if k.startswith(prefixes))

    return differences(
        {
            "git commit": {d.name: d.commit for d in studies},
            "task": {d.name: f"{d.task} ({part(d, 'task.')})" for d in studies},
            "budget": {d.name: part(d, "study.generations", "study.max_evals") for d in studies},
            "objective": {d.name: part(d, "study.objectives") for d in studies},
            "network": {d.name: part(d, "model.") for d in studies},
        }
    )
