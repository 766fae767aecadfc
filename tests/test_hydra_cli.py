"""Hydra's own conventions on ``python -m research.run``: ``-m``/``--multirun`` sweeps (one
MLflow run per job under one parent), ``--cfg job|hydra|all``, ``--info``, ``--help`` with
the config groups and their options, key typos that name the nearest key, wrong types that
say what was expected. In-process, tiny budgets (XOR, one epoch)."""

from __future__ import annotations

import shutil

import pytest

import research.kinds.train
from research.config import conf_dir
from research.config.sweep import expand, prepare
from research.errors import ConfigError
from research.run import main
from research.track import Tracker, resolve_store
from tests.mlflow_store import local_client

TINY = ["data=xor", "regime.epochs=1"]


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory):
    """An MLflow store with its tables made once: migrating a new one costs seconds."""
    root = tmp_path_factory.mktemp("store")
    Tracker(resolve_store("local", None, str(root)))
    return root / "mlruns" / "mlflow.db"


@pytest.fixture
def store(isolated, empty_store):
    """The test's project root, holding a copy of :func:`empty_store`."""
    (isolated / "mlruns").mkdir()
    shutil.copy(empty_store, isolated / "mlruns" / "mlflow.db")
    return isolated


def sweep_runs(root):
    """(parent, children by run name) of the sweep in experiment ``train``."""
    client = local_client(root)
    exp = client.get_experiment_by_name("train")
    found = client.search_runs([exp.experiment_id])
    parents = [r for r in found if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1, [r.info.run_name for r in found]
    children = {r.info.run_name: r for r in found if r not in parents}
    return parents[0], children


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# ------------------------------------------------------------------------------ -m, --multirun
def test_a_comma_sweep_makes_one_run_per_job_under_one_finished_parent(store, capsys):
    assert main(["-m", *TINY, "regime.lr=0.01,0.1"]) == 0
    out = capsys.readouterr().out
    assert "job-0 [1/2] regime.lr=0.01: finished" in out
    assert "job-1 [2/2] regime.lr=0.1: finished" in out
    assert "sweep: 2 jobs, 2 finished, 0 failed" in out
    parent, children = sweep_runs(store)
    assert parent.info.status == "FINISHED" and parent.info.run_name.startswith("sweep")
    assert parent.data.tags["sweep.jobs"] == "2"
    assert parent.data.tags["sweep.overrides"] == "regime.lr=0.01,0.1"
    assert parent.data.tags["command"].startswith("python -m research.run -m data=xor")
    assert parent.info.run_id in out
    assert sorted(children) == ["job-0", "job-1"]
    for name, lr in (("job-0", "0.01"), ("job-1", "0.1")):
        child = children[name]
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.info.status == "FINISHED" and child.data.params["regime.lr"] == lr
        assert child.data.tags["command"].endswith(f"regime.lr={lr}")  # reruns this job alone


def test_multirun_expands_ranges_like_hydras_basic_sweeper(store, capsys):
    assert main(["--multirun", *TINY, "seed=range(0,2)"]) == 0
    parent, children = sweep_runs(store)
    assert parent.info.status == "FINISHED"
    assert {n: r.data.params["seed"] for n, r in children.items()} == {"job-0": "0", "job-1": "1"}


def test_sweeps_multiply_and_globs_skip_the_stored_schemas():
    jobs = expand(["data=xor", "regime=glob(ada*)", "seed=range(0,3)"]).jobs
    assert [j.swept for j in jobs[:4]] == [
        ["regime=adadelta", "seed=0"],
        ["regime=adadelta", "seed=1"],
        ["regime=adadelta", "seed=2"],
        ["regime=adagrad", "seed=0"],
    ]
    assert len(jobs) == 9 and jobs[0].overrides[0] == "data=xor"


def test_a_bad_job_fails_before_any_run_exists(isolated, capsys):
    assert main(["-m", *TINY, "regime.lr=0.1,0.2,-1"]) == 2
    line = one_error_line(capsys)
    assert line.startswith("error: job-2 (regime.lr=-1): regime.lr=-1")
    assert "> 0" in line
    assert not (isolated / "mlruns").exists()


def test_a_continuous_range_is_refused_with_what_to_do(isolated, capsys):
    assert main(["-m", *TINY, "regime.lr=interval(0.01,0.1)"]) == 2
    assert "+study=bayes" in one_error_line(capsys)


def test_a_failed_job_fails_the_sweep_but_not_the_other_jobs(store, capsys, monkeypatch):
    real = research.kinds.train.fit_model
    calls = []

    def fit_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ConfigError("the data cannot be read")  # the first job fails at run time
        return real(*args, **kwargs)

    monkeypatch.setattr(research.kinds.train, "fit_model", fit_then_fail)
    assert main(["-m", *TINY, "seed=1,2"]) == 1
    out = capsys.readouterr().out
    assert "job-0 [1/2] seed=1: failed: the data cannot be read" in out
    assert "sweep: 2 jobs, 1 finished, 1 failed" in out
    parent, children = sweep_runs(store)
    assert parent.info.status == "FAILED"
    assert (children["job-0"].info.status, children["job-1"].info.status) == ("FAILED", "FINISHED")


def test_ctrl_c_kills_the_running_job_and_the_parent(store, capsys, monkeypatch):
    real = research.kinds.train.fit_model
    calls = []

    def interrupted_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(research.kinds.train, "fit_model", interrupted_second)
    assert main(["-m", *TINY, "seed=1,2,3"]) == 130
    assert "interrupted:" in capsys.readouterr().err
    parent, children = sweep_runs(store)
    assert parent.info.status == "KILLED"
    assert {n: r.info.status for n, r in children.items()} == {
        "job-0": "FINISHED",
        "job-1": "KILLED",
    }


def test_studies_swept_without_their_name_get_one_each(isolated):
    jobs = prepare(expand(["+study=bayes", "study.seed=1,2"]).jobs)
    assert [str(j.cfg.study.name) for j in jobs] == ["bayes-seed1", "bayes-seed2"]
    assert jobs[1].overrides[-1] == "study.name=bayes-seed2"
    with pytest.raises(ConfigError, match="study.name"):
        prepare(expand(["+study=bayes", "study.name=a,a"]).jobs)


# ------------------------------------------------------------------------------ flags
def test_cfg_job_hydra_and_all(isolated, capsys):
    assert main(["--cfg", "job", "regime=adam"]) == 0
    job = capsys.readouterr().out
    assert "beta1: 0.9" in job and "hydra:" not in job
    assert main(["-c", "hydra", "regime=adam"]) == 0
    hydra = capsys.readouterr().out
    assert hydra.startswith("hydra:") and "sweeper:" in hydra and "beta1" not in hydra
    assert main(["--cfg=all", "regime=adam"]) == 0
    both = capsys.readouterr().out
    assert "hydra:" in both and "beta1: 0.9" in both
    assert main(["regime=adam", "--cfg"]) == 0  # plain --cfg is --cfg job
    assert capsys.readouterr().out == job
    assert not (isolated / "mlruns").exists()


def test_info_shows_the_search_path_the_defaults_and_the_overrides(isolated, capsys):
    assert main(["--info", "regime=adam"]) == 0
    out = capsys.readouterr().out
    assert f"file://{conf_dir()}" in out and "structured://" in out
    assert "  regime: adam" in out and "  data: mnist1d" in out
    assert "Overrides: regime=adam" in out


def test_help_lists_every_group_with_its_options_and_the_flags(isolated, capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    text = " ".join(out.split())  # options wrap over lines
    groups = sorted(p.name for p in conf_dir().iterdir() if p.is_dir())
    assert "task" in groups
    for group in groups:
        assert f" {group}: " in text, group
        for option in sorted(p.stem for p in (conf_dir() / group).glob("*.yaml")):
            assert option in text, (group, option)
    assert "mnist1d*" in text and "base_" not in text
    for flag in ("--multirun", "--cfg", "--info", "--help"):
        assert flag in out


def test_a_bad_flag_is_one_line_exit_2(isolated, capsys):
    assert main(["--bogus", "regime=adam"]) == 2
    assert "--bogus" in one_error_line(capsys)
    assert main(["--cfg", "jbo"]) == 2
    assert "job, hydra, all" in one_error_line(capsys)


# ------------------------------------------------------------------------------ messages
@pytest.mark.parametrize(
    ("override", "line"),
    [
        ("regime.lrr=0.1", "error: unknown key 'regime.lrr'; did you mean regime.lr?"),
        ("regmie=adam", "error: unknown key 'regmie'; did you mean regime?"),
        ("+stduy=bayes", "error: unknown key 'stduy'; did you mean study?"),
        (
            "regime.schedule.nme=x",
            "error: unknown key 'regime.schedule.nme'; did you mean regime.schedule.name?",
        ),
        ("regime.lr=abc", "error: regime.lr expects a float, got 'abc'"),
        ("regime.epochs=1.5", "error: regime.epochs expects an int, got '1.5'"),
        (
            "tracking.log_weights=maybe",
            "error: tracking.log_weights expects a bool (true or false), got 'maybe'",
        ),
        ("model.hidden=abc", "error: model.hidden expects a list of ints, got 'abc'"),
        (
            "regime.lr=0.1,1",
            "error: regime.lr=0.1,1 is a sweep: add -m (--multirun) to run one "
            "job per value, or write a list as key=[a,b]",
        ),
    ],
)
def test_a_typo_names_the_nearest_key_and_a_wrong_type_what_is_expected(
    isolated, capsys, override, line
):
    assert main([override]) == 2
    assert one_error_line(capsys) == line


def test_a_new_key_merged_into_a_dict_says_to_use_plus(isolated, capsys):
    """``KEY={...}`` merges into the dict at KEY; a key it lacks used to read 'unknown key
    study.objectives; did you mean study.objectives?'."""
    given = "study.objectives={val/acc: maximize, val/loss: minimize}"
    assert main(["+study=bayes", given, "study.n_trials=1"]) == 2
    assert one_error_line(capsys) == (
        "error: study.objectives has no key 'val/loss', and study.objectives={...} merges "
        f"into it: to add keys write +{given}"
    )
    assert main(["+study=bayes", f"+{given}", "--cfg", "job"]) == 0
    assert "val/loss: minimize" in capsys.readouterr().out
