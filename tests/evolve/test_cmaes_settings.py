"""CMA-ES settings per task: ``+study=cmaes`` on the single pole loads
conf/tuned/cmaes_pole_single.yaml (sigma0 2, lambda 6); every other task keeps the study's
sigma0 0.5 and DEAP's lambda = 4 + 3 ln n."""

from __future__ import annotations

import math
import re
import statistics

import pytest
from omegaconf import OmegaConf

from research.config import compose, validate
from research.evolve.setup import setup
from research.run import main

# bench/evolve_poles.py SETUPS: the design's reference set-up
SINGLE = ["+study=cmaes", "task=pole_single", "model.hidden=[8]", "task.bias_input=null"]
DOUBLE = ["+study=cmaes", "task=pole_double", "model.hidden=[6]", "task.bias_input=null"]


def settings(*overrides: str) -> dict:
    return OmegaConf.to_container(compose(list(overrides)).study.settings)


def engine(tmp_path, *overrides: str):
    cfg = compose(list(overrides))
    return setup(cfg, validate(cfg), tmp_path).make_engine()


def test_the_single_pole_gets_its_tuned_settings(tmp_path):
    tuned = {"sigma0": 2.0, "lambda_": 6}
    assert settings("+study=cmaes") == tuned  # pole_single is the study's default task
    assert settings(*SINGLE) == tuned
    e = engine(tmp_path, *SINGLE)
    assert e.n_genes == 4 * 8 + 8  # 4-8-1 without biases
    assert e.ask().shape == (6, 40) and e.strategy.sigma == 2.0 and e.strategy.mu == 3


@pytest.mark.parametrize("overrides", [DOUBLE, ["+study=cmaes", "task=xor"], ["+study=cmaes_nv"]])
def test_other_tasks_keep_the_shared_settings(tmp_path, overrides):
    assert settings(*overrides) == {"sigma0": 0.5}
    e = engine(tmp_path, *overrides)
    assert len(e.ask()) == int(4 + 3 * math.log(e.n_genes)) and e.strategy.sigma == 0.5


def test_the_command_line_still_wins_and_tilde_tuned_drops_the_file():
    assert settings(*SINGLE, "study.settings.sigma0=0.7") == {"sigma0": 0.7, "lambda_": 6}
    assert settings(*SINGLE, "study.settings.lambda_=null") == {"sigma0": 2.0, "lambda_": None}
    assert settings(*SINGLE, "~tuned") == {"sigma0": 0.5}


@pytest.mark.slow
def test_the_single_pole_needs_at_most_35_evaluations_on_average(isolated, capsys):
    """The issue's bar (the reference CMA-ES: ~34): seeds 0-9 of the bench's set-up, every
    episode 100,000 steps. Measured: 18 12 12 30 12 6 6 18 12 6 (mean 13.2)."""
    evals = []
    for seed in range(10):
        assert main([*SINGLE, f"seed={seed}", "study.report=false", "study.max_evals=2000"]) == 0
        found = re.search(r"solved after (\d+)", capsys.readouterr().out)
        assert found, f"seed {seed} not solved within 2000 evaluations"
        evals.append(int(found.group(1)))
    assert statistics.mean(evals) <= 35, evals
