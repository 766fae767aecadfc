"""A conditional search space (``study.when``): a family's keys are searched only in trials
that chose the family, named ``key:value/param`` so two families may search one key; bad
conditions are one line; a rerun resumes."""

from __future__ import annotations

import optuna
import pytest

from research.errors import ConfigError
from research.report.__main__ import main as report_main
from research.run import main
from research.search.space import parse_space, parse_when
from research.search.storage import open_storage


def test_each_trial_searches_its_familys_keys_only(isolated, conf, capsys):
    args = [conf, "+study=fast_arch", "study.n_trials=6", "study.n_startup_trials=3"]
    args += ["study.report=false", "regime.epochs=1", "tracking.log_model=false"]
    assert main(args) == 0
    out = capsys.readouterr().out
    study = optuna.load_study(
        study_name="fast_arch", storage=open_storage(None, isolated, "fast_arch")
    )
    families = set()
    for trial in study.trials:
        family = trial.params["model"]
        families.add(family)
        own = {k for k in trial.params if "/" in k}
        expected = (
            {"model:mlp/model.hidden"}
            if family == "mlp"
            else {"model:cnn/model.channels", "model:cnn/model.kernel", "model:cnn/model.stride"}
        )
        assert own == expected, trial.params
    assert families == {"mlp", "cnn"}  # 6 trials, 3 of them random: both families appear
    # the retrain command sets the family's keys by their config names
    line = next(l for l in out.splitlines() if l.startswith("retrain trial"))
    assert "model:" not in line and ("model.channels=" in line or "model.hidden=" in line)
    # the report shows each family's trials and scores
    assert report_main(["fast_arch"]) == 0
    text = (isolated / "studies" / "fast_arch" / "report.md").read_text()
    table = text.split("## By model: fast_arch", 1)[1].split("##", 1)[0]
    assert "| model | trials | by state | best val/acc | median val/acc |" in table
    assert "\n| cnn |" in table and "\n| mlp |" in table
    # a rerun of the same command is complete: nothing new, no error
    assert main(args) == 0
    assert (
        len(
            optuna.load_study(
                study_name="fast_arch", storage=open_storage(None, isolated, "fast_arch")
            ).trials
        )
        == 6
    )


SPACE = parse_space({"model": "choice(mlp, cnn)", "regime.lr": "interval(0.1, 1.0)"})


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ({"model=rbf": {"model.hidden": "choice([4])"}}, "'rbf' is not one of"),
        ({"regime.lr=0.5": {"model.hidden": "choice([4])"}}, "KEY a choice()"),
        ({"data=xor": {"model.hidden": "choice([4])"}}, "choose from: model, regime.lr"),
        ({"model=cnn": {"model.kernel": "interval(3, 1)"}}, "low 3.0 > high 1.0"),
    ],
)
def test_a_bad_condition_is_one_line(when, message):
    with pytest.raises(ConfigError, match=message) as caught:
        parse_when(when, SPACE)
    assert "\n" not in str(caught.value)


def test_conditional_names_and_the_grid(isolated, conf, capsys):
    dims = parse_when({"model=cnn": {"model.kernel": "choice(1, 3)"}}, SPACE)
    ((name, dim),) = dims.items()
    assert name == "model:cnn/model.kernel" and dim.override(3) == "model.kernel=3"
    assert dim.applies({"model": "cnn"}) and not dim.applies({"model": "mlp"})
    assert main([conf, "+study=fast_arch", "study.sampler=grid"]) == 2
    assert "cannot search a conditional space" in capsys.readouterr().err
