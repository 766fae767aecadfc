"""Reports of real studies: files, figures, provenance, the comparison, bad names — and the
HTML as a person sees it, in headless Chromium."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
from itertools import combinations
from pathlib import Path

import numpy as np
import optuna
import pytest
from matplotlib import image as mpimg

from research.report.__main__ import main as report_main
from research.report.document import Document, render_markdown
from research.report.figures import plt
from research.report.search_figures import study_figures
from research.report.search_report import SearchData, comparison_section, load_search
from research.run import main as run_main
from research.search.storage import open_storage
from research.track.reader import StoreReader
from research.track.store import resolve_store
from tests.mlflow_store import local_client

SMALL = ["data=spirals", "regime.epochs=3", "study.n_trials=4", "study.n_startup_trials=2"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """One project with two small studies of the same space, TPE and random (random trained
    for fewer epochs: a difference the comparison must warn of)."""
    root = tmp_path_factory.mktemp("project")
    mp = pytest.MonkeyPatch()
    mp.setenv("RESEARCH_ROOT", str(root))
    try:
        assert run_main(["+study=bayes", *SMALL]) == 0
        assert run_main(["+study=random", *SMALL, "regime.epochs=2"]) == 0
    finally:
        mp.undo()
    return root


def test_every_study_writes_its_report_and_links_it_from_the_parent_run(project):

    html = project / "studies" / "bayes" / "report.html"
    assert html.is_file() and (project / "studies" / "bayes" / "report.md").is_file()
    client = local_client(project)
    exp = client.get_experiment_by_name("bayes")
    parent = next(
        r
        for r in client.search_runs([exp.experiment_id])
        if "mlflow.parentRunId" not in r.data.tags
    )
    assert "report.html" in {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert parent.data.tags["report"] == str(html)


def test_a_search_report_has_every_figure_readable_and_says_where_it_came_from(
    project, monkeypatch, capsys
):
    monkeypatch.setenv("RESEARCH_ROOT", str(project))
    assert report_main(["bayes"]) == 0
    folder = project / "studies" / "bayes"
    md = (folder / "report.md").read_text()
    html = (folder / "report.html").read_text()
    expected = {"history", "importances", "parallel_coordinates", "learning_curves"}
    for name in expected:
        png = folder / "report_figures" / f"bayes-{name}.png"
        pixels = mpimg.imread(png)
        assert pixels.shape[0] > 100 and pixels.std() > 0.01, f"{name} is blank"
        assert f"report_figures/bayes-{name}.png" in md
    assert len(re.findall(r'src="data:image/png;base64,', html)) >= len(expected)
    study = optuna.load_study(study_name="bayes", storage=open_storage(None, project, "bayes"))
    parent_id = study.user_attrs["mlflow_parent_run_id"]
    assert parent_id in md and "git `" in md
    best = study.best_trial
    assert best.user_attrs["mlflow_run_id"] in md  # the best trial's run is named
    assert f"| {best.number} | {best.value:.4g} |" in md
    assert "Best configuration" in md and "base config" in md


@pytest.fixture(scope="module")
def compared(project) -> tuple[Path, str]:
    """``python -m research.report bayes random``: its folder and what it printed on stderr."""
    mp = pytest.MonkeyPatch()
    mp.setenv("RESEARCH_ROOT", str(project))
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            assert report_main(["bayes", "random"]) == 0
    finally:
        mp.undo()
    return project / "studies" / "compare-bayes-random", err.getvalue()


def test_a_comparison_report_puts_two_studies_side_by_side(compared):
    folder, _ = compared
    md = (folder / "report.md").read_text()
    assert "Comparison at equal budget" in md
    assert "| tpe | bayes | 4 |" in md and "| random | random | 4 |" in md
    assert (folder / "report_figures" / "comparison.png").is_file()
    assert md.count("## Summary:") == 2


def test_an_unknown_or_empty_study_is_one_line_and_exit_2(project, monkeypatch, capsys):
    monkeypatch.setenv("RESEARCH_ROOT", str(project))
    assert report_main(["nosuch"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown study 'nosuch'" in err[0]
    optuna.create_study(study_name="empty", storage=open_storage(None, project, "empty"))
    assert report_main(["empty"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no trials" in err[0]
    assert report_main(["../x"]) == 2
    assert "not allowed" in capsys.readouterr().err


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHECK = """
<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const broken = imgs.filter(i => !i.complete || i.naturalWidth === 0).length;
  document.body.setAttribute("data-check", `images=${imgs.length} broken=${broken}`);
});
</script>
"""


@pytest.mark.skipif(_chromium() is None, reason="chromium not installed (.ci/run installs it)")
def test_the_html_report_renders_in_headless_chromium(project, tmp_path):
    html = (project / "studies" / "bayes" / "report.html").read_text()
    page = tmp_path / "page.html"
    page.write_text(html.replace("</body>", CHECK + "</body>"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    flags += [f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
    dom = subprocess.run(
        [_chromium(), *flags, "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    match = re.search(r'data-check="images=(\d+) broken=(\d+)"', dom.stdout)
    assert match, dom.stderr[-2000:]
    assert int(match.group(1)) >= 4 and int(match.group(2)) == 0
    console_errors = [
        line for line in dom.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()
    ]
    assert not console_errors, console_errors
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            _chromium(),
            *flags,
            f"--screenshot={shot}",
            "--window-size=1200,1600",
            (project / "studies" / "bayes" / "report.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[:2] == (1600, 1200)
    assert (pixels < 0.9).mean() > 0.01, "the screenshot is blank"
    assert np.unique(pixels.reshape(-1, 3), axis=0).shape[0] > 50  # text and plots, not a fill


def test_an_evolution_report_shows_fitness_stages_and_the_champion_but_no_literature_table(
    isolated, capsys
):
    """``stage`` (short pole 0.15 m, reached through stages) is not the published
    double-pole task: the report says so instead of setting it against the table."""
    args = ["+study=stage", "task.max_steps=300", "study.advance_at=300", "study.generations=12"]
    args += ["study.stage_generations=4", "study.force_advance=true", "study.stop_on_solve=false"]
    assert run_main(args) == 0, capsys.readouterr().err
    folder = isolated / "studies" / "stage"
    md = (folder / "report.md").read_text()
    assert "## Summary: stage" in md and "Evaluations to solve pole_double" in md
    assert "| CoSyNE | 954 |" not in md and "Champion: stage" in md
    assert "Not set against the published pole_double table" in md
    assert "task.short_length=0.15 (the table's: 0.05)" in md
    pixels = mpimg.imread(folder / "report_figures" / "stage-fitness.png")
    assert pixels.std() > 0.01
    assert "Stages were left after evaluations" in md
    assert "dashed: stage changes at generations" in md  # the caption says what is drawn
    assert report_main(["stage"]) == 0  # the CLI finds it in MLflow (no Optuna journal)


def _study_parts(md: str) -> dict[str, str]:
    """Each study's part of a comparison report: from ``## Summary: <name>`` to the next."""
    parts = re.split(r"^## Summary: (\S+)$", md, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_markdown_figures_of_a_comparison_are_each_studys_own(compared):
    folder, _ = compared
    parts = _study_parts((folder / "report.md").read_text())
    assert set(parts) == {"bayes", "random"}
    history = {}
    for name, text in parts.items():
        links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
        assert len(links) >= 3, text
        for link in links:
            assert Path(link).name.startswith(f"{name}-"), f"{link} under Summary: {name}"
            assert (folder / link).is_file(), link
        history[name] = folder / next(link for link in links if "history" in link)
    assert history["bayes"].read_bytes() != history["random"].read_bytes()


def test_a_comparison_says_how_many_seeds_and_warns_of_every_difference(project, compared):
    folder, err = compared
    md = (folder / "report.md").read_text()
    comparison = md.split("## Summary:")[0]
    assert "median [min..max]" not in comparison  # one number is not a spread
    assert re.search(r"\| tpe \| bayes \| 4 \| [0-9.]+ \(1 seed\) \|", comparison)
    # one seed each: no verdict on the difference, and the report says why
    assert "tpe vs random: 1 seed(s) in common, so no test of the difference" in comparison
    assert "significant" not in comparison
    warnings = [line for line in md.splitlines() if line.startswith("> **Warning:** ")]
    assert any("regime.epochs" in w and "bayes: 3" in w and "random: 2" in w for w in warnings)
    printed = [line.removeprefix("warning: ") for line in err.splitlines()]
    assert printed == [w.removeprefix("> **Warning:** ") for w in warnings]

    # a second seed of random with the same settings: a spread over 2 seeds, no warning
    store = resolve_store("local", None, str(project))
    random = load_search("random", open_storage(None, project, "random"), StoreReader(store))
    twin = SearchData("random2", random.study, random.runs, random.reader)
    md = render_markdown(Document("t", "s", [comparison_section([random, twin])]), "figures")
    assert re.search(r"\| random \| random, random2 \| 4 \| .*over 2 seeds\) \|", md)
    assert "Warning" not in md


def test_a_report_holds_no_absolute_path_and_goes_where_out_says(project, tmp_path, monkeypatch):
    folder = project / "studies" / "bayes"  # as the study wrote it
    md = (folder / "report.md").read_text()
    assert "journal:studies/bayes/journal.log" in md
    for text in (md, (folder / "report.html").read_text()):
        assert str(project) not in text
    out = tmp_path / "docs" / "reports" / "bayes"
    (out / "report_figures").mkdir(parents=True)
    (out / "report_figures" / "history.png").write_bytes(b"an older report's figure")
    monkeypatch.setenv("RESEARCH_ROOT", str(project))
    assert report_main(["bayes", "--out", str(out)]) == 0
    md = (out / "report.md").read_text()
    assert "`python -m research.report bayes --out " in md
    assert sorted(p.name for p in (out / "report_figures").iterdir()) == sorted(
        re.findall(r"report_figures/([^)]+)\)", md)
    )  # every figure the report shows, no other


def test_a_search_report_lists_its_trials(project):
    md = (project / "studies" / "bayes" / "report.md").read_text()
    section = md.split("## Trials: bayes")[1]
    study = optuna.load_study(study_name="bayes", storage=open_storage(None, project, "bayes"))
    assert f"{len(study.trials)} trials by state:" in section
    for t in study.trials:
        assert f"| {t.number} | {t.state.name.lower()} |" in section


def _png_dpi(path: Path) -> int:
    data = path.read_bytes()
    at = data.index(b"pHYs")
    return round(int.from_bytes(data[at + 4 : at + 8], "big") * 0.0254)


def _drawn(ax, axis, label) -> bool:
    """Whether matplotlib draws ``label``: a locator also labels ticks just outside the axis's
    view limits, which are never drawn (and would count as overlapping the axis names)."""
    y = axis is ax.yaxis
    low, high = sorted(ax.get_ylim() if y else ax.get_xlim())
    at = label.get_position()[1 if y else 0]
    slack = 1e-9 * (high - low)
    return low - slack <= at <= high + slack


def test_figures_are_150_dpi_named_with_short_legends_and_labels_apart(project):
    assert _png_dpi(project / "studies" / "bayes" / "report_figures" / "bayes-history.png") == 150
    study = optuna.load_study(study_name="bayes", storage=open_storage(None, project, "bayes"))
    figures = dict(study_figures(study, ["val/acc"]))
    try:
        fig = figures["parallel_coordinates"]
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        labels = [
            label
            for ax in fig.axes
            for axis in (ax.xaxis, ax.yaxis)
            if axis.get_visible()
            for label in axis.get_ticklabels()
            if label.get_visible() and label.get_text() and _drawn(ax, axis, label)
        ]
        boxes = [(label.get_text(), label.get_window_extent(renderer)) for label in labels]
        overlapping = [
            (a, b) for (a, box_a), (b, box_b) in combinations(boxes, 2) if box_a.overlaps(box_b)
        ]
        assert not overlapping, overlapping
        assert "val/acc" in [ax.get_ylabel() for ax in fig.axes]  # the colour bar's metric
        legend = figures["intermediate_values"].axes[0].get_legend()
        texts = [t.get_text() for t in legend.get_texts()]
        assert texts and all(re.fullmatch(r"trial \d+ \(.+\)|\d+ other trials", t) for t in texts)
    finally:
        for fig in figures.values():
            plt.close(fig)
