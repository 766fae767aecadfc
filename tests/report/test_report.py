"""Reports of real studies: files, figures, provenance, the comparison, bad names — and the
HTML as a person sees it, in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import optuna
import pytest
from matplotlib import image as mpimg

from research.report.__main__ import main as report_main
from research.run import main as run_main
from research.search.storage import open_storage

SMALL = ["data=spirals", "regime.epochs=3", "study.n_trials=4", "study.n_startup_trials=2"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """One project with two small studies of the same space: TPE and random."""
    root = tmp_path_factory.mktemp("project")
    mp = pytest.MonkeyPatch()
    mp.setenv("RESEARCH_ROOT", str(root))
    try:
        assert run_main(["+study=bayes", *SMALL]) == 0
        assert run_main(["+study=random", *SMALL]) == 0
    finally:
        mp.undo()
    return root


def test_every_study_writes_its_report_and_links_it_from_the_parent_run(project):
    from mlflow.tracking import MlflowClient

    html = project / "studies" / "bayes" / "report.html"
    assert html.is_file() and (project / "studies" / "bayes" / "report.md").is_file()
    client = MlflowClient(f"sqlite:///{project / 'mlruns' / 'mlflow.db'}")
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
        png = folder / "report_figures" / f"{name}.png"
        pixels = mpimg.imread(png)
        assert pixels.shape[0] > 100 and pixels.std() > 0.01, f"{name} is blank"
        assert f"report_figures/{name}.png" in md
    assert len(re.findall(r'src="data:image/png;base64,', html)) >= len(expected)
    study = optuna.load_study(study_name="bayes", storage=open_storage(None, project, "bayes"))
    parent_id = study.user_attrs["mlflow_parent_run_id"]
    assert parent_id in md and "git `" in md
    best = study.best_trial
    assert best.user_attrs["mlflow_run_id"] in md  # the best trial's run is named
    assert f"| {best.number} | {best.value:.4g} |" in md
    assert "Best configuration" in md and "base config" in md


def test_a_comparison_report_puts_two_studies_side_by_side(project, monkeypatch, capsys):
    monkeypatch.setenv("RESEARCH_ROOT", str(project))
    assert report_main(["bayes", "random"]) == 0
    folder = project / "studies" / "compare-bayes-random"
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


def test_an_evolution_report_shows_fitness_stages_the_published_table_and_the_champion(
    isolated, capsys
):
    args = ["+study=stage", "task.max_steps=300", "study.advance_at=300", "study.generations=12"]
    args += ["study.stage_generations=4", "study.force_advance=true", "study.stop_on_solve=false"]
    assert run_main(args) == 0, capsys.readouterr().err
    folder = isolated / "studies" / "stage"
    md = (folder / "report.md").read_text()
    assert "## Summary: stage" in md and "Evaluations to solve pole_double" in md
    assert "| CoSyNE | 954 |" in md and "Champion: stage" in md
    pixels = mpimg.imread(folder / "report_figures" / "stage_fitness.png")
    assert pixels.std() > 0.01
    assert "Stages were left after evaluations" in md
    assert report_main(["stage"]) == 0  # the CLI finds it in MLflow (no Optuna journal)
