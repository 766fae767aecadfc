"""Evolution reports claim no more than one run shows (issue 14, item 4): one run is labelled
as one run beside the literature's averages, the dirty flag shows, the fitness plot's scale
keeps the generations before "solved" visible and its caption says what is drawn."""

from __future__ import annotations

from research.report.document import Document, render_markdown
from research.report.evolve_figures import fitness_figure, fitness_scale
from research.report.evolve_report import EvolveData, evolve_comparison, evolve_sections
from research.report.figures import plt
from research.track import tags as T
from research.track.reader import RunRecord, StudyRuns


class _Reader:
    """What the report reads of an evolution's MLflow runs: a solved run's curves."""

    CURVES = {
        "fitness/best": [(1, 40.0), (2, 90.0), (3, 210.0), (4, 100000.0)],
        "fitness/mean": [(1, 10.0), (2, 30.0), (3, 60.0), (4, 900.0)],
    }

    def history(self, run_id, key):
        return self.CURVES.get(key, [])

    def artifact_text(self, run_id, path):
        return None


def _evolve(tags: dict[str, str], params: dict[str, str] | None = None) -> EvolveData:
    parent = RunRecord("r1", "cmaes", "FINISHED", params or {}, tags, {}, 0, None)
    return EvolveData("cmaes", StudyRuns("cmaes", parent), reader=_Reader())


SOLVED = {
    T.ALGORITHM: "cmaes",
    T.TASK: "pole_single",
    T.SEED: "3",
    T.EVOLVE_SOLVED_AT: "270",
    T.EVOLVE_GENERATIONS: "4",
    T.EVOLVE_EVALS: "270",
    T.EVOLVE_CHAMPION_FITNESS: "100000",
    T.GIT_COMMIT: "a" * 40,
    T.GIT_DIRTY: "False",
}


def _markdown(data: EvolveData) -> str:
    doc = Document("t", "s", evolve_sections(data, generalisation_starts=625))
    return render_markdown(doc, "report_figures")


def test_a_single_evolution_is_one_run_beside_the_literature_and_points_to_the_bench():
    md = _markdown(_evolve(SOLVED, {"task.max_steps": "100000"}))
    assert "| this study (cmaes): one run (seed 3) | 270 |" in md
    assert "`python bench/evolve_poles.py --seeds 10 --tasks pole_single`" in md
    assert "| CMA-ES | 283 |" in md  # the standard task: set against the table
    assert "log scale" in md and "stage" not in md.lower()  # the caption says what is drawn


def test_an_altered_task_is_not_set_against_the_literature():
    md = _markdown(_evolve(SOLVED, {"task.max_steps": "300"}))
    assert "| CMA-ES | 283 |" not in md
    assert "task.max_steps=300 (the table's: 100000)" in md


def test_the_dirty_flag_shows_in_an_evolution_report():
    dirty = _evolve({T.GIT_COMMIT: "a" * 40, T.GIT_DIRTY: "True"})
    clean = _evolve({T.GIT_COMMIT: "a" * 40, T.GIT_DIRTY: "False"})
    assert "git `aaaaaaaaaaaa (dirty)`" in dirty.source()
    assert "(dirty)" not in clean.source()


def test_the_fitness_plot_keeps_the_generations_before_solved_visible():
    solved = {"fitness/best": [(1, 40.0), (2, 90.0), (3, 210.0), (4, 100000.0)]}
    flat = {"fitness/best": [(1, 0.2), (2, 0.5), (3, 0.9)]}
    assert fitness_scale(solved) == "log" and fitness_scale(flat) == "linear"
    assert fitness_scale({"f": [(1, 0.0), (2, 5.0), (3, 1e5)]}) == "symlog"
    fig = fitness_figure(solved, scale=fitness_scale(solved))
    try:
        assert fig.axes[0].get_yscale() == "log"
    finally:
        plt.close(fig)


def test_compared_evolutions_with_other_budgets_or_networks_are_warned_of():
    a = _evolve(SOLVED, {"study.generations": "3000", "model.hidden": "[6]"})
    b = _evolve(SOLVED, {"study.generations": "300", "model.hidden": "[8]"})
    b.name = "cmaes_short"
    warnings = evolve_comparison([a, b]).warnings
    assert any("budget" in w and "study.generations=300" in w for w in warnings)
    assert any("network" in w and "model.hidden=[8]" in w for w in warnings)
    assert not any("git commit" in w for w in warnings)
