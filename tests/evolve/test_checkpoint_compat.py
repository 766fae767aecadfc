"""Checkpoints written before the evolution driver existed pickle the progress as
``research.jobs.evolve.Progress``: they resume bit-identically; a checkpoint naming a class that
no longer exists is refused in one line."""

from __future__ import annotations

import dataclasses
import pickle
import sys
import types

import pytest

from research.evolve import checkpoint
from research.evolve.checkpoint import CheckpointRefused
from research.evolve.progress import Progress
from research.run import main
from tests.mlflow_store import local_client

OLD_MODULE = "research.jobs.evolve"


def _old_progress_class() -> type:
    """A stand-in for the class the code before this change pickled (same fields)."""
    cls = dataclasses.make_dataclass(
        "Progress", [(f.name, f.type, f) for f in dataclasses.fields(Progress)]
    )
    cls.__module__ = OLD_MODULE
    return cls


def _as_old(progress: Progress, monkeypatch) -> object:
    """``progress`` as an instance of ``research.jobs.evolve.Progress``, picklable while the
    stand-in module exists."""
    module = types.ModuleType(OLD_MODULE)
    module.Progress = _old_progress_class()
    monkeypatch.setitem(sys.modules, OLD_MODULE, module)
    old = module.Progress.__new__(module.Progress)
    old.__dict__.update(vars(progress))
    return old


def test_a_progress_pickled_under_the_old_class_path_loads_as_todays(tmp_path, monkeypatch):
    progress = Progress(generation=3, evals=42, champion_fitness=1.5, stage_evals=[7])
    state = {"signature": "s", "progress": _as_old(progress, monkeypatch)}
    folder = tmp_path / "checkpoints"
    checkpoint.save(folder, 3, state)
    payload = pickle.dumps(state)
    assert OLD_MODULE.encode() in payload  # the file names the old class, as before the change
    monkeypatch.delitem(sys.modules, OLD_MODULE)
    loaded = checkpoint.read(folder / "gen-000003.ckpt")["progress"]
    assert type(loaded) is Progress
    assert vars(loaded) == vars(progress)


def test_a_checkpoint_naming_a_class_that_no_longer_exists_is_refused_in_one_line(
    tmp_path, monkeypatch
):
    module = types.ModuleType("research.gone")
    module.Thing = type("Thing", (), {"__module__": "research.gone"})
    monkeypatch.setitem(sys.modules, "research.gone", module)
    folder = tmp_path / "checkpoints"
    checkpoint.save(folder, 1, {"progress": module.Thing()})
    monkeypatch.delitem(sys.modules, "research.gone")
    with pytest.raises(CheckpointRefused) as info:
        checkpoint.load_latest(folder)
    text = str(info.value)
    assert "\n" not in text
    assert "from an older version of research" in text
    assert "research.gone.Thing" in text and "start a new study.name" in text


def _history(root, name: str, key: str) -> list[tuple[int, float]]:
    client = local_client(root)
    exp = client.get_experiment_by_name(name)
    (parent,) = [
        r
        for r in client.search_runs([exp.experiment_id])
        if "mlflow.parentRunId" not in r.data.tags
    ]
    points = client.get_metric_history(parent.info.run_id, key)
    return sorted((m.step, m.value) for m in points)


def test_a_study_checkpointed_the_old_way_resumes_bit_identically(isolated, capsys, monkeypatch):
    args = ["+study=cmaes", "task.max_steps=500", "study.stop_on_solve=false"]
    assert main([*args, "study.name=old", "study.generations=3", "study.report=false"]) == 0
    folder = isolated / "studies" / "old" / "checkpoints"
    generation, state = checkpoint.load_latest(folder)
    state["progress"] = _as_old(state["progress"], monkeypatch)
    for older in checkpoint.checkpoints(folder):
        older.unlink()
    checkpoint.save(folder, generation, state)  # as the code before the change wrote it
    monkeypatch.delitem(sys.modules, OLD_MODULE)
    assert main([*args, "study.name=old", "study.generations=5", "study.report=false"]) == 0
    assert main([*args, "study.name=new", "study.generations=5", "study.report=false"]) == 0
    capsys.readouterr()
    # one parent run per study: "old" was resumed from the old-style checkpoint, not restarted
    for key in ("fitness/best", "fitness/mean", "evals", "sigma"):
        old = _history(isolated, "old", key)
        assert len(old) == 5 and old == _history(isolated, "new", key)
