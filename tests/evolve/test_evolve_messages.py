"""What an evolution says (issue 14, item 9): where a rerun resumes, that a finished one is
complete and what extends it, and a progress count that ends where the budget ends (the
generations, or ``max_evals`` first) with the evaluations beside it."""

from __future__ import annotations

import re
from types import SimpleNamespace

from research.evolve.progress import Progress, planned_generations
from research.run import main
from tests.mlflow_store import local_client

# CMA-ES on the single pole: 6 genomes (evaluations) a generation
ARGS = [
    "+study=cmaes",
    "task.max_steps=200",
    "study.stop_on_solve=false",
    "study.report=false",
    "tracking.system_metrics=false",
]


def test_the_end_is_the_generations_or_the_evaluation_budget_whichever_comes_first():
    study = SimpleNamespace(generations=200, max_evals=3000)
    assert planned_generations(study, Progress(), 50) == 60  # ceil(3000 / 50)
    assert planned_generations(study, Progress(), 7) == 200  # ceil(3000 / 7) = 429 > 200
    assert planned_generations(study, Progress(generation=10, evals=500), 100) == 35
    assert planned_generations(study, Progress(generation=61, evals=3050), 50) == 61  # spent
    study.max_evals = None
    assert planned_generations(study, Progress(), 50) == 200


def test_a_rerun_says_where_it_resumes_and_that_a_finished_evolution_is_complete(
    capsys, monkeypatch, isolated
):
    monkeypatch.setenv("RESEARCH_PROGRESS_SECONDS", "0")  # a line per generation
    assert main([*ARGS, "study.generations=2"]) == 0
    err = capsys.readouterr().err
    assert "resuming" not in err
    assert "cmaes: 2/2 gens" in err and "evals 12/200,000" in err  # the study's own budget

    # 12 evaluations done, 12 left at 6 a generation: the budget ends at generation 4, not 9
    assert main([*ARGS, "study.generations=9", "study.max_evals=24"]) == 0
    captured = capsys.readouterr()
    assert "resuming study 'cmaes' at generation 3/4" in captured.err.splitlines()
    counts = re.findall(
        r"^cmaes: (\d+)/(\d+) gens, .*evals (\d[\d,]*/[\d,]*\d)", captured.err, re.M
    )
    assert counts == [("3", "4", "18/24"), ("4", "4", "24/24")], captured.err
    assert "evolution 'cmaes': 4 generations, 24 evaluations" in captured.out

    assert main([*ARGS, "study.generations=9", "study.max_evals=24"]) == 0
    captured = capsys.readouterr()
    first = captured.out.splitlines()[0]
    assert (
        first == "study 'cmaes' is complete (24/24 evaluations); raise study.max_evals to extend it"
    )
    assert "resuming" not in captured.err and "gens," not in captured.err  # nothing was run
    # and logged nothing again: the champion's model keeps its two versions (runs 1 and 2)
    client = local_client(isolated)
    versions = client.search_model_versions("name='cmaes'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    assert "models:/cmaes/2" in captured.out
