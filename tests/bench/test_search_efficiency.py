"""bench/search_efficiency.py: the choice at equal wall time, the resumable results file, and
(``-m slow``) one CI-sized run end to end (real studies, real retrains)."""

from __future__ import annotations

import json

import pytest

from tests.bench.conftest import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("search_efficiency")


def _study(*trials):
    return {"trials": [dict(zip(("number", "state", "value", "end"), t)) for t in trials]}


def test_choice_takes_the_best_trial_finished_by_the_horizon(bench):
    study = _study(
        (0, "COMPLETE", 0.5, 10.0),
        (1, "PRUNED", None, 12.0),
        (2, "COMPLETE", 0.7, 30.0),
        (3, "COMPLETE", 0.9, 95.0),
        (4, "COMPLETE", 0.7, 40.0),
    )
    assert bench.elapsed(study) == 95.0
    assert bench.choice(study, None)["number"] == 3
    assert bench.choice(study, 94.0)["number"] == 2  # 0.7 twice: the earlier trial
    assert bench.choice(study, 30.0)["number"] == 2
    assert bench.choice(study, 29.9)["number"] == 0
    assert bench.choice(study, 5.0) is None


def test_results_file_resumes_and_refuses_another_budget(bench, tmp_path):
    path = tmp_path / "runs.json"
    results = bench.Results(path)
    results["study/x"] = {"seconds": 1.5}
    assert json.loads(path.read_text()) == {"study/x": {"seconds": 1.5}}
    assert "study/x" in bench.Results(path)
    path.write_text(json.dumps({"extra": ["regime.epochs=7"]}))
    with pytest.raises(SystemExit, match="regime.epochs=7"):
        bench.run(["--results", str(path), "--data", "xor", "--seeds", "1"])


@pytest.mark.slow  # ~30 s a study on a loaded 2-core machine (the report, MLflow, imports)
def test_quick_run_compares_real_studies(bench, tmp_path, capsys):
    path = tmp_path / "runs.json"
    argv = ["--quick", "--data", "digits", "--seeds", "7", "--results", str(path)]
    argv += ["study.n_trials=3", "study.n_startup_trials=2", "regime.epochs=1"]
    results = bench.run(argv)
    out = capsys.readouterr().out
    assert "equal wall time" in out and "equal trials" in out
    assert "bayes vs random: bayes higher in" in out and "One seed: no paired statistic" in out
    for variant in ("bayes", "random"):
        study = results[f"study/digits/{variant}/7"]
        assert len(study["trials"]) == 3
        assert any(a.startswith("model.hidden=") for a in study["trials"][0]["retrain"])
    retrains = [v for k, v in results.data.items() if k.startswith("retrain/")]
    assert retrains and all(len(r) == 3 and all(0 < a <= 1 for a in r) for r in retrains)
    # a rerun keeps every study and retrain: nothing runs again
    assert bench.run(argv).data == results.data


def test_results_file_refuses_a_study_whose_variant_now_means_other_overrides(bench, tmp_path):
    path = tmp_path / "runs.json"
    stale = {"args": ["+study=bayes", "data=xor", "study.seed=1", "study.pruner=none"]}
    path.write_text(json.dumps({"extra": [], "study/xor/bayes/1": stale}))
    with pytest.raises(SystemExit, match="study/xor/bayes/1 made with .* the variant is now"):
        bench.run(["--results", str(path), "--data", "xor", "--seeds", "1", "--variants", "bayes"])


def test_results_file_refuses_a_study_made_before_conf_changed_its_meaning(bench, tmp_path):
    """Same overrides, but the stored config differs (as when a study YAML gains a param):
    refused, naming the key. A field the stored config lacks (added since) does not count."""
    args = bench.study_args("bayes", "xor", 1, [])
    config = bench.config_of(args)
    older = {k: v for k, v in config.items() if k != "study.seed"}
    bench.check_stored(tmp_path, "study/xor/bayes/1", {"args": args, "config": older}, args)
    space = json.loads(config["study.params"])
    stale = {**config, "study.params": json.dumps({k: space[k] for k in list(space)[:-1]})}
    with pytest.raises(SystemExit, match="before conf/ changed study.params: use another"):
        bench.check_stored(tmp_path, "study/xor/bayes/1", {"args": args, "config": stale}, args)
    stale = {**config, "regime.epochs": 1}
    with pytest.raises(SystemExit, match="changed regime.epochs: use another"):
        bench.check_stored(tmp_path, "study/xor/bayes/1", {"args": args, "config": stale}, args)


def test_a_null_param_leaves_the_space_as_if_never_declared(bench):
    """``bayes-nobn`` (batch norm set to null) is the space the main job had before batch norm
    joined it: same keys in the same order, so the stored studies of that space still count."""
    nobn = json.loads(
        bench.config_of(bench.study_args("bayes-nobn", "mnist1d", 1, []))["study.params"]
    )
    full = json.loads(bench.config_of(bench.study_args("bayes", "mnist1d", 1, []))["study.params"])
    assert list(full) == [*nobn, "model.batch_norm"]
    assert {k: full[k] for k in nobn} == nobn


def test_a_bigger_val_split_chooses_but_the_choice_retrains_on_the_default_split(bench, tmp_path):
    """``bayes-val40``'s trials validate on 40% of MNIST-1D's training rows; its chosen config
    is retrained on the default 20% split, like every other variant's, so the retrain measures
    the choice and not the smaller training set."""
    from research.config import compose, validate
    from research.search.spec import build_spec

    args = bench.study_args("bayes-val40", "mnist1d", 1, [])
    cfg = compose(args)
    spec = build_spec(cfg, validate(cfg), args, tmp_path)
    params = {"model.hidden": [128], "regime.lr": 1e-3}
    trial = compose(spec.trial_overrides(params))
    assert trial.data.val_fraction == 0.4
    retrain = bench.retrain_overrides(spec.retrain_overrides(params))
    assert not any(o.startswith("data.val_fraction") for o in retrain)
    assert compose(retrain).data.val_fraction == 0.2
    assert "model.hidden=[128]" in retrain and compose(retrain).regime.lr == 1e-3
    # every other key survives: the default's retrain command is untouched
    default = spec.retrain_overrides(params)
    assert [o for o in default if not o.startswith("data.val_fraction")] == retrain


def test_equal_wall_time_waits_until_every_study_has_a_completed_trial(bench):
    """The horizon is the fastest study's end, unless another study has no completed trial by
    then: it moves to that study's first completion, so every study has a choice."""
    fast = _study((0, "COMPLETE", 0.5, 4.0), (1, "COMPLETE", 0.6, 8.0))
    slow = _study((0, "PRUNED", None, 5.0), (1, "COMPLETE", 0.7, 20.0), (2, "COMPLETE", 0.9, 60.0))
    steady = _study((0, "COMPLETE", 0.4, 3.0), (1, "COMPLETE", 0.8, 30.0))
    assert bench.horizon_of([steady, slow]) == 30.0  # the fastest study's end
    assert bench.horizon_of([fast, slow]) == 20.0  # slow's first completion, not fast's 8 s
    assert bench.choice(slow, bench.horizon_of([fast, slow]))["number"] == 1
    assert bench.choice(fast, bench.horizon_of([fast, slow]))["number"] == 1


def test_recheck_retrains_the_stored_choices_and_names_the_ones_that_differ(
    bench, tmp_path, capsys
):
    """A stored retrain that this machine reproduces is counted identical; one whose stored
    numbers were made up is named with both values. Nothing is written to the file."""
    path = tmp_path / "runs.json"
    data = {"extra": []}
    for variant, hidden in (("bayes", 4), ("random", 5)):
        args = bench.study_args(variant, "xor", 1, [])
        retrain = ["data=xor", f"model.hidden=[{hidden}]", "regime.epochs=2"]
        trial = {"number": 0, "state": "COMPLETE", "value": 0.5, "end": 1.0, "retrain": retrain}
        data[f"study/xor/{variant}/1"] = {
            "args": args,
            "config": bench.config_of(args),
            "seconds": 1.0,
            "trials": [trial],
        }
        key = f"retrain/xor/{variant}/1/trial0"
        data[key] = [bench.retrain(retrain, s) for s in bench.TRAIN_SEEDS]
    data["retrain/xor/random/1/trial0"] = [0.123, 0.456, 0.789]  # not what training gives
    path.write_text(json.dumps(data))
    argv = ["--results", str(path), "--data", "xor", "--seeds", "1", "--recheck"]
    results = bench.run(argv)
    out = capsys.readouterr().out
    assert "recheck: 1 of 2 stored retrains identical here" in out
    assert "retrain/xor/random/1/trial0: stored [0.123, 0.456, 0.789], now [" in out
    assert "retrain/xor/bayes" not in out
    assert results.data == data and json.loads(path.read_text()) == data
