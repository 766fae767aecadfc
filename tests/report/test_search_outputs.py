"""The search report shows what the best trial's network produces: real tiny studies (an
autoencoder on digits, a conditional GAN on ring8, a classifier) into one temporary project."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from matplotlib import image as mpimg

from research.report.__main__ import main as report_main
from research.report.search_outputs import outputs_section
from research.report.search_report import load_search
from research.run import main as run_main
from research.search.storage import open_storage
from research.track import tags as T
from research.track.reader import StoreReader
from research.track.store import resolve_store
from tests.conftest import study_searchpath
from tests.mlflow_store import local_client

SMALL = """
defaults: [base_search, _self_]
sampler: random
pruner: none
n_trials: 2
params:
  regime.lr: tag(log, interval(1e-3, 1e-2))
"""
AE = ["model=autoencoder", "data=digits", "model.code=8"]
STUDIES = {  # name -> (objective, shared overrides)
    "ae": ("val/loss: minimize", AE),
    "ae_nofig": ("val/loss: minimize", [*AE, "tracking.log_figure=false"]),
    "gan": ("val/high_quality: maximize", ["model=gan", "data=ring8"]),  # a GAN's own measure
    "mlp": ("val/acc: maximize", ["data=spirals", "data.n_per_class=100", "model.hidden=[8]"]),
}
SECTION = "## What the best trial's network produces"


@pytest.fixture(scope="module")
def project(tmp_path_factory, data_cache) -> Path:
    """The four studies, two trials of two epochs each, run as ``python -m research.run``."""
    root = tmp_path_factory.mktemp("project")
    texts = {
        name: f"{SMALL}name: {name}\nobjectives: {{{objective}}}\n"
        f"overrides: {json.dumps([*shared, 'regime=adam', 'regime.epochs=2'])}\n"
        for name, (objective, shared) in STUDIES.items()
    }
    searchpath = study_searchpath(tmp_path_factory.mktemp("conf"), texts)
    mp = pytest.MonkeyPatch()
    mp.setenv("RESEARCH_ROOT", str(root))
    mp.setenv("RESEARCH_DATA_DIR", str(data_cache))
    try:
        for name in STUDIES:
            assert run_main([searchpath, f"+study={name}"]) == 0, name
    finally:
        mp.undo()
    return root


def _data(root: Path, name: str):
    reader = StoreReader(resolve_store("local", None, str(root)))
    return load_search(name, open_storage(None, root, name), reader)


def _artifacts(root: Path, name: str) -> dict[int, set[str]]:
    """Trial number -> the files its MLflow run holds."""
    client = local_client(root)
    exp = client.get_experiment_by_name(name)
    runs = client.search_runs([exp.experiment_id], f"tags.`{T.PARENT}` != ''")
    return {
        int(r.data.tags[T.TRIAL_NUMBER]): {a.path for a in client.list_artifacts(r.info.run_id)}
        for r in runs
    }


def _shown(root: Path, name: str, artifact: str) -> tuple[str, Path]:
    """The report's section on the network's outputs, and the figure file it shows."""
    folder = root / "studies" / name
    md = (folder / "report.md").read_text()
    assert SECTION in md, f"{name}: no section on what the network produces"
    section = md.split(SECTION)[1].split("\n## ")[0]
    png = folder / "report_figures" / f"{name}-best-{artifact}.png"
    assert f"report_figures/{png.name}" in section
    return section, png


def test_an_autoencoder_study_report_shows_the_best_trials_reconstructions(project, monkeypatch):
    monkeypatch.setenv("RESEARCH_ROOT", str(project))
    assert report_main(["ae"]) == 0  # python -m research.report ae
    data = _data(project, "ae")
    best = data.ranked()[0]
    run_id = best.user_attrs[T.RUN_ATTR]
    section, png = _shown(project, "ae", "reconstructions")
    assert f"trial (number {best.number})," in section and f"`{run_id}`" in section
    assert "samples" not in section  # an autoencoder has no samples
    # the figure is the best trial's own artifact, byte for byte, and not blank
    assert png.read_bytes() == data.reader.artifact_bytes(run_id, "reconstructions.png")
    pixels = mpimg.imread(png)
    assert pixels.shape[0] > 100 and pixels.std() > 0.05
    html = (project / "studies" / "ae" / "report.html").read_text()
    assert 'alt="ae-best-reconstructions" src="data:image/png;base64,' in html
    # every trial that trained to its end drew its reconstructions (either may be the best)
    assert all("reconstructions.png" in files for files in _artifacts(project, "ae").values())


def test_a_gan_study_report_shows_the_best_trials_samples(project):
    data = _data(project, "gan")
    run_id = data.ranked()[0].user_attrs[T.RUN_ATTR]
    section, png = _shown(project, "gan", "samples")
    assert f"`{run_id}`" in section and "reconstructions" not in section
    assert png.read_bytes() == data.reader.artifact_bytes(run_id, "samples.png")
    assert data.metrics == ["val/high_quality"] and 0 <= data.ranked()[0].value <= 1
    assert mpimg.imread(io.BytesIO(png.read_bytes())).std() > 0.05


def test_a_classifier_study_logs_and_shows_no_outputs(project):
    trials = _artifacts(project, "mlp")
    assert len(trials) == 2
    assert all(files == {"config.yaml", "weights.npz"} for files in trials.values()), trials
    assert SECTION not in (project / "studies" / "mlp" / "report.md").read_text()
    assert outputs_section(_data(project, "mlp")) == []
    assert not list((project / "studies" / "mlp" / "report_figures").glob("*-best-*"))


def test_without_log_figure_a_trial_draws_nothing_and_the_report_says_nothing(project):
    assert all("reconstructions.png" not in f for f in _artifacts(project, "ae_nofig").values())
    assert SECTION not in (project / "studies" / "ae_nofig" / "report.md").read_text()


def test_artifact_bytes_is_none_for_a_missing_artifact_or_run(project):
    data = _data(project, "mlp")
    run_id = data.ranked()[0].user_attrs[T.RUN_ATTR]
    assert data.reader.artifact_bytes(run_id, "reconstructions.png") is None
    assert data.reader.artifact_bytes("0" * 32, "samples.png") is None
    weights = data.reader.artifact_bytes(run_id, "weights.npz")
    assert weights is not None and weights.startswith(b"PK")  # a .npz is a zip file
