"""Search studies side by side at equal budget, saying how many seeds each method has and
warning of every way the studies differ besides their sampler (commit, budget, data, space,
objective, fixed settings): a difference there, not the sampler, may explain the numbers."""

from __future__ import annotations

import json
import math
import statistics

from matplotlib.ticker import MaxNLocator
from optuna.trial import TrialState

from research.report import wall_time
from research.report.caveats import differences, seeds, spread
from research.report.document import Figure, Section, Table, figure_png
from research.report.figures import plt
from research.report.search_data import SearchData
from research.report.stats import paired, verdict
from research.search.trial import METRICS_ATTR
from research.track import tags as T

#: settings of a trial run that say where or how it ran, not what it computed
_NOT_SETTINGS = ("tracking.", "seed", "name", "study", "task", "blas_threads")


def best_so_far(data: SearchData) -> list[float]:
    """The best objective after each trial (NaN before the first complete one)."""
    sign = 1.0 if data.directions[0] == "maximize" else -1.0
    best, out = math.nan, []
    for t in sorted(data.trials, key=lambda t: t.number):
        if t.state == TrialState.COMPLETE:
            v = t.values[0]
            if math.isnan(best) or sign * v > sign * best:
                best = v
        out.append(best)
    return out


def comparison_section(studies: list[SearchData]) -> Section:
    """Studies side by side at equal budget; studies with the same sampler are grouped as
    seeds of one method (median and min..max when there are several, else "1 seed")."""
    metric = studies[0].metrics[0]
    budget = min(len(d.trials) for d in studies)
    groups: dict[str, list[SearchData]] = {}
    for d in studies:
        groups.setdefault(d.tags.get(T.SAMPLER, d.name), []).append(d)
    horizon = min(wall_time.elapsed(d.trials) for d in studies)
    timed = {m: [_timed(d) for d in members] for m, members in groups.items()}
    fig, rows = _by_trials(groups, budget, metric)
    for row, method in zip(rows, groups, strict=True):
        reached = _reached(timed[method], horizon)
        missing = len(timed[method]) - len(reached)
        row.append(
            (spread(reached) if reached else "-")
            + (f"; {missing} of {len(timed[method])} had no complete trial yet" if missing else "")
        )
    sources = "; ".join(d.source() for d in studies)
    several = any(len(m) > 1 for m in groups.values())
    drawn = (
        "Median (line) and min..max (band) over the studies of each method"
        if several
        else "One study per method (1 seed each): each line is that study's best so far"
    )
    table = Table(
        ["method", "studies", "trials", f"best {metric}", "its test/acc", f"at {horizon:.0f} s"],
        rows,
        f"At equal budget (the first {budget} trials of each study) and at equal wall time "
        f"(the best {metric} each study had reached {horizon:.0f} s after its first trial "
        f"started: the shortest study's length). From {sources}.",
    )
    by_time = wall_time.figure(timed, horizon, metric)
    measures = {
        f"best {metric}": lambda d: _best(d, budget),
        "its test/acc": lambda d: _test_of_best(d, budget),
        f"best {metric} at {horizon:.0f} s": lambda d: wall_time.best_at(_timed(d), horizon),
    }
    return Section(
        "Comparison at equal budget",
        [f"Methods compared on their first {budget} trials each.", *_tests(groups, measures)],
        [table],
        [
            Figure("comparison", f"{drawn}. From {sources}.", figure_png(fig)),
            Figure(
                "comparison_time",
                f"Best {metric} so far against wall time, up to the shortest study's "
                f"{horizon:.0f} s (trials' own timestamps; {drawn.lower()}).",
                figure_png(by_time),
            ),
        ],
        warnings=search_differences(studies),
    )


def _by_trials(groups: dict[str, list[SearchData]], budget: int, metric: str):
    """The best-so-far figure over the first ``budget`` trials, and one table row per method
    (its studies, the budget, the best value and its test/acc)."""
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    rows = []
    for method, members in groups.items():
        curves = [best_so_far(d)[:budget] for d in members]
        steps = range(budget)
        med = [statistics.median(c[i] for c in curves) for i in steps]
        line = ax.plot(steps, med, label=f"{method} ({seeds(len(members))})")[0]
        if len(members) > 1:
            lo = [min(c[i] for c in curves) for i in steps]
            hi = [max(c[i] for c in curves) for i in steps]
            ax.fill_between(steps, lo, hi, alpha=0.2, color=line.get_color())
        tests = [_test_of_best(d, budget) for d in members]
        names = ", ".join(d.name for d in members)
        best = spread([c[-1] for c in curves])
        rows.append([method, names, str(budget), best, spread([t for t in tests if t is not None])])
    ax.set(xlabel="trial", ylabel=f"best {metric} so far", title=f"Equal budget: {budget} trials")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # trials are counted, not measured
    ax.grid(alpha=0.3)
    ax.legend()
    return fig, rows


def _reached(curves: list[list[tuple[float, float]]], seconds: float) -> list[float]:
    """The best each study had reached within ``seconds`` (studies with none left out)."""
    return [v for v in (wall_time.best_at(c, seconds) for c in curves) if v is not None]


def _timed(data: SearchData) -> list[tuple[float, float]]:
    return wall_time.best_by_time(data.trials, data.directions[0])


def _tests(groups: dict[str, list[SearchData]], measures: dict) -> list[str]:
    """A paired test of each method against the first, over the seeds (``study.seed``) both
    ran: one sentence per measure saying whether the difference is significant."""
    names = list(groups)
    out = []
    for other in names[1:]:
        first = {d.tags.get(T.SEED): d for d in groups[names[0]]}
        second = {d.tags.get(T.SEED): d for d in groups[other]}
        shared = sorted(set(first) & set(second), key=str)
        if len(shared) < 2:
            out.append(
                f"{names[0]} vs {other}: {len(shared)} seed(s) in common, so no test of the "
                "difference is possible; run each method with several study seeds (e.g. "
                "`-m +study=<name> study.seed=1,2,3,4,5,6`)."
            )
            continue
        for label, value in measures.items():
            a = [value(first[k]) for k in shared]
            b = [value(second[k]) for k in shared]
            if None in a or None in b:
                continue
            out.append(verdict(names[0], other, label, paired(a, b)))
    return out


def _best(data: SearchData, budget: int) -> float | None:
    best = best_so_far(data)[:budget][-1]
    return None if math.isnan(best) else best


def _test_of_best(data: SearchData, budget: int) -> float | None:
    sign = -1.0 if data.directions[0] == "maximize" else 1.0
    pool = [t for t in data.complete if t.number < budget]
    if not pool:
        return None
    best = min(pool, key=lambda t: (sign * t.values[0], t.number))
    return best.user_attrs.get(METRICS_ATTR, {}).get("test/acc")


def search_differences(studies: list[SearchData]) -> list[str]:
    """A warning per way the studies differ besides their sampler."""
    settings = {d.name: _settings(d) for d in studies}
    budget = min(len(d.trials) for d in studies)
    return differences(
        {
            "git commit": {d.name: d.commit for d in studies},
            f"budget (trials run; compared on the first {budget} of each)": {
                d.name: str(len(d.trials)) for d in studies
            },
            "budget (regime.epochs)": {n: s.get("regime.epochs", "?") for n, s in settings.items()},
            "data": _only_differing({n: _part(s, "data.") for n, s in settings.items()}),
            "search space": _only_differing(
                {d.name: d.signature.get("space", {}) for d in studies}
            ),
            "objective": {d.name: json.dumps(d.signature.get("objectives", {})) for d in studies},
            "fixed settings": _only_differing(
                {d.name: _fixed(settings[d.name], d) for d in studies}
            ),
        }
    )


def _settings(data: SearchData) -> dict[str, str]:
    """The config of the study's first trial run as MLflow recorded it (its params); from
    the study's shared overrides when no trial run is left."""
    children = data.runs.children if data.runs else []
    if children:
        return dict(min(children, key=lambda r: r.start_ms).params)
    out: dict[str, str] = {}
    for override in data.signature.get("overrides", []):
        key, _, value = override.partition("=")
        out["data.name" if key == "data" else key] = value
    return out


def _part(settings: dict[str, str], prefix: str) -> dict[str, str]:
    return {k: v for k, v in settings.items() if k.startswith(prefix)}


def _fixed(settings: dict[str, str], data: SearchData) -> dict[str, str]:
    """Settings neither searched, nor data, nor the epoch budget, nor where a run went."""
    searched = tuple(data.signature.get("space", {}))
    return {
        k: v
        for k, v in settings.items()
        if k != "regime.epochs"
        and k not in searched
        and not k.startswith(tuple(f"{s}." for s in searched))  # a searched config group
        and not k.startswith(("data.", *_NOT_SETTINGS))
    }


def _only_differing(dicts: dict[str, dict]) -> dict[str, str]:
    """Each study's entries whose value is not the same in every study, as ``k=v, ...``
    (``(none)`` when a study lacks them all)."""
    keys = sorted({k for d in dicts.values() for k in d})
    differing = [k for k in keys if len({str(d.get(k, "-")) for d in dicts.values()}) > 1]
    return {
        name: ", ".join(f"{k}={d.get(k, '-')}" for k in differing) or "(same)"
        for name, d in dicts.items()
    }
