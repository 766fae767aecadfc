"""Does the Bayesian search earn its keep? Variants of ``+study=bayes`` against random search on
held-out study seeds, at equal wall time and at equal trials, each study's chosen config
retrained on fresh training seeds (the test set never chooses anything).

    python bench/search_efficiency.py                  # bayes vs random, 6 seeds, mnist1d + digits
    python bench/search_efficiency.py --quick          # CI-sized: 2 seeds, 6 trials, 2 epochs
    python bench/search_efficiency.py --variants bayes random bayes-nopruner --data mnist1d
    python bench/search_efficiency.py --results runs.json   # keeps each finished study and
                                                            # retrain; a rerun resumes there
    python bench/search_efficiency.py --results runs.json --recheck   # do the stored retrains
                                                            # give the same numbers here?

A study is ``python -m research.run <variant's overrides> study.seed=S data=D`` in a fresh
project. For each data set and seed, the **equal-wall-time** horizon is the shortest elapsed
time of that seed's studies (first trial's start to last trial's end, from the Optuna storage),
or later if a study has no completed trial by then; each study's choice there is its best
validation trial completed by the horizon. At **equal
trials** it is the study's best trial overall. Each choice is retrained with its Hydra
overrides at training seeds 1..3 (no MLflow, same code path as ``fit``); a study scores the
median test accuracy of those retrains. Variants are compared with the first variant listed
(the default, ``bayes``) by wins over seeds and a paired sign-flip permutation test with a
bootstrap interval of the mean difference (``research.report.stats``).

``--jobs 2`` runs two studies at once (one BLAS thread each), which halves the bench's time;
every study then shares the machine alike, so wall-time comparisons stay fair.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

#: the main job's space before batch norm joined it (a null param is not searched)
NO_BATCH_NORM = "++study.params={model.batch_norm:null}"
EARLY_STOPPING = [
    "regime.early_stopping.patience=8",
    "regime.early_stopping.monitor=val/acc",
    "regime.early_stopping.mode=max",
]
#: the main job's start-up trials until the bench showed 5 is better at equal wall time
STARTUP15 = "study.n_startup_trials=15"
#: twice the validation rows (MNIST-1D: 1600 instead of 800, the standard error of a trial's
#: val/acc at 72% from 0.016 to 0.011), paid for with a quarter less training data per trial
VAL40 = "data.val_fraction=0.4"
#: keys that serve only the choice: a chosen config is retrained without them, on the default
#: split, like every other variant's (else a bigger val split would also shrink the retrain)
SEARCH_ONLY = ("data.val_fraction",)
#: name -> the overrides that make the study (the first is ``+study=...``)
VARIANTS: dict[str, list[str]] = {
    "bayes": ["+study=bayes"],
    "random": ["+study=random"],
    # one option of the default changed
    "bayes-startup15": ["+study=bayes", STARTUP15],
    "bayes-startup30": ["+study=bayes", "study.n_startup_trials=30"],
    "bayes-nopruner": ["+study=bayes", "study.pruner=none"],
    "bayes-percentile": ["+study=bayes", "study.pruner=percentile"],
    "bayes-hyperband": ["+study=bayes", "study.pruner=hyperband"],
    "bayes-halving": ["+study=bayes", "study.pruner=halving"],  # min budget 10 epochs
    "bayes-univariate": ["+study=bayes", "study.sampler=tpe_univariate"],
    "bayes-group": ["+study=bayes", "study.sampler=tpe_group"],
    "bayes-gp": ["+study=bayes", "study.sampler=gp"],
    "random-nopruner": ["+study=random", "study.pruner=none"],
    # each completed trial scored by the mean of 3 seeds (own val split and init each)
    "bayes-seeds3": ["+study=bayes", "study.seeds_per_trial=3"],
    "random-seeds3": ["+study=random", "study.seeds_per_trial=3"],
    # early stopping on val/acc (patience 8, best epoch's weights): a good network stops early
    "bayes-es": ["+study=bayes", *EARLY_STOPPING],
    "random-es": ["+study=random", *EARLY_STOPPING],
    # two worker processes per study (run these with --jobs 1): TPE with and without the
    # constant liar, which makes a worker's model count the other's running trial as a poor one
    "bayes-w2": ["+study=bayes", "study.workers=2"],
    "bayes-w2-noliar": ["+study=bayes", "study.workers=2", "study.sampler=tpe_noliar"],
    "random-w2": ["+study=random", "study.workers=2"],
    # a bigger validation split chooses; the choice retrains on the default one (SEARCH_ONLY)
    "bayes-val40": ["+study=bayes", VAL40],
    "random-val40": ["+study=random", VAL40],
    # measured with the earlier default's 15 start-up trials
    "bayes-startup15-hyperband": ["+study=bayes", STARTUP15, "study.pruner=hyperband"],
    "bayes-startup15-gp": ["+study=bayes", STARTUP15, "study.sampler=gp"],
    # the main job's space without batch norm (the default until the bench showed it pays)
    "bayes-nobn": ["+study=bayes", NO_BATCH_NORM],
    "random-nobn": ["+study=random", NO_BATCH_NORM],
    "bayes-startup15-nobn": ["+study=bayes", NO_BATCH_NORM, STARTUP15],
    "bayes-startup15-nobn-seeds3": [
        "+study=bayes",
        NO_BATCH_NORM,
        STARTUP15,
        "study.seeds_per_trial=3",
    ],
    # the wider space (batch norm, schedule, early stopping): conf/study/bayes_wide.yaml
    "bayes-wide": ["+study=bayes_wide"],
    "random-wide": ["+study=random_wide"],
    "bayes-wide-hyperband": ["+study=bayes_wide", "study.pruner=hyperband"],
    "random-wide-hyperband": ["+study=random_wide", "study.pruner=hyperband"],
}
#: study seeds no earlier search of this project used (the main job runs seed 0)
HELD_OUT = [101, 102, 103, 104, 105, 106]
TRAIN_SEEDS = [1, 2, 3]
QUICK = ["study.n_trials=6", "study.n_startup_trials=3", "regime.epochs=2"]


def study_args(variant: str, data: str, seed: int, extra: list[str]) -> list[str]:
    return [*VARIANTS[variant], f"data={data}", f"study.seed={seed}", *extra]


def run_study(variant: str, data: str, seed: int, extra: list[str]) -> dict:
    """Run one study in a fresh project; return its trials as plain data."""
    # imported here: a spawned worker imports this module, and the framework only when it works
    import optuna

    from research.config import compose, validate
    from research.run import main
    from research.search.spec import build_spec
    from research.search.storage import open_storage

    args = study_args(variant, data, seed, extra)
    with tempfile.TemporaryDirectory() as root, _project(root):
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = main(args)
        seconds = time.perf_counter() - started
        if code != 0:
            raise RuntimeError(f"python -m research.run {' '.join(args)} exited {code}")
        cfg = compose(args)
        spec = build_spec(cfg, validate(cfg), args, Path(root))
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.load_study(
            study_name=spec.name, storage=open_storage(None, Path(root), spec.name)
        )
        trials = [t for t in study.trials if t.datetime_start is not None]
        start = min(t.datetime_start for t in trials)
        rows = []
        for t in trials:
            end = t.datetime_complete
            rows.append(
                {
                    "number": t.number,
                    "state": t.state.name,
                    "value": t.value if t.state.name == "COMPLETE" else None,
                    "end": (end - start).total_seconds() if end else None,
                    "retrain": retrain_overrides(spec.retrain_overrides(t.params)),
                }
            )
    return {"args": args, "config": config_of(args), "seconds": seconds, "trials": rows}


def retrain_overrides(overrides: list[str]) -> list[str]:
    """A trial's retrain command without the :data:`SEARCH_ONLY` keys."""
    return [o for o in overrides if o.split("=", 1)[0].lstrip("+~") not in SEARCH_ONLY]


def config_of(args: list[str]) -> dict:
    """The composed config a study ran with, flattened; a ``null`` param (not searched) is left
    out. Stored with each study so that a later edit of ``conf/`` cannot silently change what a
    stored variant means."""
    from omegaconf import OmegaConf

    from research.config import compose
    from research.track.params import flatten

    cfg = OmegaConf.to_container(compose(args), resolve=True)
    cfg["study"]["params"] = {k: v for k, v in cfg["study"]["params"].items() if v is not None}
    flat = flatten({k: v for k, v in cfg.items() if k != "study"})
    flat.update(flatten({k: v for k, v in cfg["study"].items() if k != "params"}, "study."))
    flat["study.params"] = json.dumps(cfg["study"]["params"])  # the space, keys in order
    return flat


def check_stored(path: Path, key: str, stored: dict, args: list[str]) -> None:
    """Refuse (one line) a stored study whose variant now means other overrides, or whose
    config ``conf/`` has changed since: its numbers would be reported under a wrong name."""
    if stored["args"] != args:
        raise SystemExit(
            f"error: {path} holds {key} made with {stored['args']}; "
            f"the variant is now {args}: use another --results file"
        )
    diff = changed(stored.get("config", {}), config_of(args))
    if diff:
        raise SystemExit(
            f"error: {path} holds {key}, made before conf/ changed "
            f"{', '.join(diff)}: use another --results file"
        )


def changed(stored: dict, now: dict) -> list[str]:
    """Keys whose value differs between a stored study's config and today's (a key only one
    side has is a field added or removed since, at its default, and does not count)."""
    return sorted(k for k in stored.keys() & now.keys() if stored[k] != now[k])


@contextlib.contextmanager
def _project(root: str):
    """``RESEARCH_ROOT`` set to ``root`` for the duration (restored after: studies also run
    in this process when ``--jobs 1``)."""
    before = os.environ.get("RESEARCH_ROOT")
    os.environ["RESEARCH_ROOT"] = root
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("RESEARCH_ROOT", None)
        else:
            os.environ["RESEARCH_ROOT"] = before


def retrain(overrides: list[str], seed: int) -> float:
    """Test accuracy of ``overrides`` trained at root seed ``seed`` (the code path of ``fit``)."""
    from research import threads
    from research.config import compose, validate
    from research.train.fit import fit_model
    from research.train.prepare import prepare

    cfg = compose([*overrides, f"seed={seed}"])
    groups = validate(cfg)
    threads.configure(cfg.blas_threads, groups)
    data, model = prepare(groups["data"], groups["model"], seed)
    return float(fit_model(model, groups["regime"], data, seed=seed).metrics["test/acc"])


def elapsed(study: dict) -> float:
    return max((t["end"] for t in study["trials"] if t["end"] is not None), default=0.0)


def horizon_of(studies: list[dict]) -> float:
    """Equal wall time for one seed's studies: when the fastest ended, but never before each
    has a completed trial to choose (a tiny ``--quick`` study, or one whose first trials were
    all pruned, could otherwise leave another with nothing)."""
    first = [
        min((t["end"] for t in s["trials"] if t["state"] == "COMPLETE"), default=0.0)
        for s in studies
    ]
    return max(min(elapsed(s) for s in studies), *first)


def choice(study: dict, horizon: float | None) -> dict | None:
    """The best complete trial by validation (by ``horizon`` seconds when given; the earlier
    trial on a tie)."""
    done = [
        t
        for t in study["trials"]
        if t["state"] == "COMPLETE" and (horizon is None or t["end"] <= horizon + 1e-9)
    ]
    return max(done, key=lambda t: (t["value"], -t["end"]), default=None)


class Results:
    """Finished studies and retrains in one JSON file, written after each (a rerun resumes)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.data: dict = json.loads(path.read_text()) if path and path.exists() else {}

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def __getitem__(self, key: str):
        return self.data[key]

    def __setitem__(self, key: str, value) -> None:
        self.data[key] = value
        if self.path:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data))
            os.replace(tmp, self.path)


def _pool(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))


def run_all(tasks: dict[str, tuple], results: Results, jobs: int, what: str) -> None:
    """Run ``key -> (function, *args)`` for keys not yet in ``results``, ``jobs`` at a time."""
    todo = {k: v for k, v in tasks.items() if k not in results}
    if not todo:
        return
    print(f"{what}: {len(todo)} to run ({len(tasks) - len(todo)} kept)", file=sys.stderr)
    if jobs == 1:
        done = ((k, f(*a)) for k, (f, *a) in todo.items())
        for i, (key, value) in enumerate(done, 1):
            results[key] = value
            print(f"  {i}/{len(todo)} {key}", file=sys.stderr, flush=True)
        return
    with _pool(jobs) as pool:
        futures = {pool.submit(f, *a): k for k, (f, *a) in todo.items()}
        for i, future in enumerate(as_completed(futures), 1):
            results[futures[future]] = future.result()
            print(f"  {i}/{len(todo)} {futures[future]}", file=sys.stderr, flush=True)


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.3f} [{min(values):.3f}..{max(values):.3f}]"


def compare(base: str, other: str, base_scores: list[float], other_scores: list[float]) -> str:
    """Wins, ties and the paired statistic of ``base`` against ``other`` over the seeds."""
    from research.report.stats import paired, verdict

    pairs = list(zip(base_scores, other_scores, strict=True))
    wins, ties = sum(a > b for a, b in pairs), sum(a == b for a, b in pairs)
    head = f"  {base} vs {other}: {base} higher in {wins}/{len(pairs)} seeds ({ties} ties). "
    if len(pairs) < 2:
        return head + "One seed: no paired statistic."
    result = paired(base_scores, other_scores)
    return head + verdict(base, other, "retrained test/acc", result)


def report(args, results: Results) -> None:
    for data in args.data:
        seeds = args.seeds
        studies = {(v, s): results[f"study/{data}/{v}/{s}"] for v in args.variants for s in seeds}
        horizons = {s: horizon_of([studies[v, s] for v in args.variants]) for s in seeds}
        width = max(22, *map(len, args.variants))
        print(f"\n== {data}: {len(seeds)} study seeds {seeds}, retrained at seeds {TRAIN_SEEDS}")
        for label, at in (("equal wall time", horizons), ("equal trials", None)):
            print(f"{label}" + (" (horizon: each seed's fastest study)" if at else ""))
            print(
                f"  {'variant':{width}} {'retrained test/acc':26} {'best val/acc':26} "
                f"{'trials':>6} {'study s':>8}"
            )
            scores = {}
            for v in args.variants:
                tests, vals, counts = [], [], []
                for s in seeds:
                    horizon = at[s] if at else None
                    chosen = choice(studies[v, s], horizon)
                    key = _retrain_key(data, v, s, chosen)
                    tests.append(statistics.median(results[key]))
                    vals.append(chosen["value"])
                    counts.append(
                        sum(
                            t["end"] is not None and (horizon is None or t["end"] <= horizon)
                            for t in studies[v, s]["trials"]
                        )
                    )
                scores[v] = tests
                seconds = [elapsed(studies[v, s]) for s in seeds]
                print(
                    f"  {v:{width}} {spread(tests):26} {spread(vals):26} "
                    f"{statistics.median(counts):6.0f} {statistics.median(seconds):8.0f}"
                )
            base = args.variants[0]
            for v in args.variants[1:]:
                print(compare(base, v, scores[base], scores[v]))


def recheck(retrains: dict[str, tuple], results: Results, jobs: int) -> list[str]:
    """Retrain every stored choice again and compare with the stored test accuracies; return
    the keys that differ. A results file's numbers hold on this machine when none does (another
    CPU's BLAS kernels round differently: README, "Reproducibility")."""
    stored = {k: v for k, v in retrains.items() if k in results}
    fresh = Results(None)
    run_all(stored, fresh, jobs, "rechecks")
    differ = [k for k in stored if fresh[k] != results[k]]
    print(f"recheck: {len(stored) - len(differ)} of {len(stored)} stored retrains identical here")
    for k in differ:
        print(f"  {k}: stored {results[k]}, now {fresh[k]}")
    return differ


def _retrain_key(data: str, variant: str, seed: int, chosen: dict) -> str:
    return f"retrain/{data}/{variant}/{seed}/trial{chosen['number']}"


def retrain_many(overrides: list[str]) -> list[float]:
    return [retrain(overrides, s) for s in TRAIN_SEEDS]


def parse(argv: list[str] | None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["bayes", "random"], choices=VARIANTS)
    parser.add_argument("--data", nargs="+", default=["mnist1d", "digits"])
    parser.add_argument("--seeds", nargs="+", type=int, default=HELD_OUT)
    parser.add_argument("--jobs", type=int, default=1, help="studies run at once")
    parser.add_argument("--results", type=Path, help="JSON file kept between runs")
    parser.add_argument("--quick", action="store_true", help="2 seeds, 6 trials, 2 epochs")
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="retrain the stored choices again and say whether they match (nothing is stored)",
    )
    args, extra = parser.parse_known_args(argv)
    if args.quick:
        args.seeds = args.seeds[:2]
        extra = [*QUICK, *extra]
    args.extra = extra
    return args


def run(argv: list[str] | None = None) -> Results:
    args = parse(argv)
    results = Results(args.results)
    # a results file belongs to one set of extra overrides: mixing budgets would be meaningless
    stored = results.data.setdefault("extra", args.extra)
    if stored != args.extra:
        raise SystemExit(f"error: {args.results} was made with {stored}, not {args.extra}")
    started = time.perf_counter()
    studies = {
        f"study/{d}/{v}/{s}": (run_study, v, d, s, args.extra)
        for d in args.data
        for s in args.seeds
        for v in args.variants
    }
    for key, (_, v, d, s, extra) in studies.items():
        if key in results:
            check_stored(args.results, key, results[key], study_args(v, d, s, extra))
    run_all(studies, results, args.jobs, "studies")
    retrains = {}
    for d in args.data:
        for s in args.seeds:
            horizon = horizon_of([results[f"study/{d}/{v}/{s}"] for v in args.variants])
            for v in args.variants:
                study = results[f"study/{d}/{v}/{s}"]
                if choice(study, None) is None:
                    raise SystemExit(
                        f"error: study/{d}/{v}/{s} has no completed trial to retrain "
                        "(all pruned or failed): give it more trials or epochs"
                    )
                for chosen in (choice(study, horizon), choice(study, None)):
                    retrains[_retrain_key(d, v, s, chosen)] = (retrain_many, chosen["retrain"])
    if args.recheck:
        recheck(retrains, results, args.jobs)
        return results
    run_all(retrains, results, args.jobs, "retrains")
    print(f"search efficiency: {' '.join(args.extra) or 'the studies as configured'}")
    report(args, results)
    print(f"\nbench time {time.perf_counter() - started:.0f} s, --jobs {args.jobs}")
    return results


if __name__ == "__main__":
    run()
