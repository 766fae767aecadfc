"""``study.seeds_per_trial``: a completed trial is trained at several seeds (its own validation
split and initialisation each) and scored by the mean; real studies, real MLflow store."""

from __future__ import annotations

import shlex

import numpy as np
import pytest
from optuna.trial import TrialState

from research.config import compose, validate
from research.kinds.train import repeat_seeds
from research.run import main
from research.train import fit_model, prepare
from tests.search.test_study import load, study_runs


def _fit_val_acc(command: str, seed: int) -> float:
    """val/acc of the trial's command (its ``command`` tag) trained at ``seed``, outside the
    search."""
    words = shlex.split(command)
    overrides = words[words.index("research.run") + 1 :]
    cfg = compose([*overrides, f"seed={seed}"])
    groups = validate(cfg)
    data, model = prepare(groups["data"], groups["model"], seed)
    return fit_model(model, groups["regime"], data, seed=seed).metrics["val/acc"]


def test_a_completed_trial_scores_the_mean_of_its_seeds_and_a_pruned_one_is_not_repeated(
    isolated, capsys, conf
):
    args = [conf, "+study=fast", "study.name=seeds", "study.sampler=random", "study.n_trials=6"]
    args += ["study.seeds_per_trial=3", "study.pruner=median", "regime.epochs=6"]
    args += ["study.prune_after_trials=1", "study.prune_after_epochs=1"]
    assert main(args) == 0, capsys.readouterr().err
    assert "each completed trial the mean of 3 seeds" in capsys.readouterr().out
    report = (isolated / "studies" / "seeds" / "report.html").read_text()
    assert "scored by the mean over 3 training seeds" in report
    trials = load(isolated, "seeds").trials
    client, _, children = study_runs(isolated, "seeds")
    runs = {r.info.run_id: r for r in children}
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert complete and pruned, [t.state for t in trials]
    spread = []
    for t in complete:
        run = runs[t.user_attrs["mlflow_run_id"]]
        per_seed = sorted(
            client.get_metric_history(run.info.run_id, "seed/val/acc"), key=lambda m: m.step
        )
        assert [m.step for m in per_seed] == [0, 1, 2]
        values = [m.value for m in per_seed]
        assert t.value == pytest.approx(np.mean(values), abs=1e-12)
        assert run.data.metrics["val/acc"] == pytest.approx(t.value)
        assert t.user_attrs["metrics"]["val/acc"] == pytest.approx(t.value)
        spread.append(max(values) - min(values))
        # each seed is the same config trained alone at that seed
        seeds = repeat_seeds(0, 3)
        for seed, value in zip(seeds, values, strict=True):
            assert _fit_val_acc(run.data.tags["command"], seed) == pytest.approx(value, abs=1e-12)
    assert max(spread) > 0, "the seeds should differ (own split and initialisation)"
    for t in pruned:
        run_id = t.user_attrs["mlflow_run_id"]
        assert client.get_metric_history(run_id, "seed/val/acc") == []


def test_the_seeds_of_a_trial_avoid_the_seeds_a_choice_is_retrained_at():
    assert repeat_seeds(0, 3) == [0, 1000, 2000]
    assert not set(repeat_seeds(0, 5)[1:]) & {1, 2, 3}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["+study=bayes", "study.seeds_per_trial=0"], "study.seeds_per_trial=0 is not allowed"),
        (["+study=bayes", "study.seeds_per_trial=101"], "1..100"),
        (["+study=tune_evolve", "study.seeds_per_trial=2"], "study.inner"),
    ],
)
def test_a_bad_seeds_per_trial_is_one_line_before_anything_exists(isolated, capsys, args, expected):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not (isolated / "studies").exists()


def test_resuming_a_study_at_another_seeds_per_trial_is_refused(isolated, capsys, conf):
    assert main([conf, "+study=fast", "study.n_trials=1"]) == 0
    capsys.readouterr()
    assert main([conf, "+study=fast", "study.n_trials=2", "study.seeds_per_trial=2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "seeds_per_trial=1" in err[0] and "another study.name" in err[0]
    assert len(load(isolated, "fast").trials) == 1
