"""What a finished study found, as text: the best trials (or the Pareto front), the trials
table (CSV) and where to look next."""

from __future__ import annotations

import csv
import io
import math

from optuna.trial import FrozenTrial, TrialState

from research.search.recovery import counts, outcome_counts
from research.search.storage import study_dir
from research.search.trial import FAIL_REASON_ATTR, METRICS_ATTR
from research.track import tags as T
from research.track.provenance import command_line

SHOWN = 5


def fmt(value) -> str:
    """How numbers read in tables: ``-`` for missing/NaN, ``51200`` for whole floats,
    ``0.6887`` (4 significant digits) otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e12:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def best_trials(handle, n: int) -> list[FrozenTrial]:
    """The ``n`` best COMPLETE trials (single objective), or the Pareto front."""
    study, spec = handle.study, handle.spec
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return []
    if spec.multi_objective:
        front = sorted(study.best_trials, key=lambda t: t.number)
        return front[:n]
    sign = -1.0 if spec.study.objectives[spec.metrics[0]] == "maximize" else 1.0
    return sorted(complete, key=lambda t: (sign * t.values[0], t.number))[:n]


def trials_table(handle) -> str:
    """Every trial: number, state, objective(s), final metrics, parameters, run id, reason."""
    spec = handle.spec
    trials = handle.study.get_trials(deepcopy=False)
    metric_keys = sorted({k for t in trials for k in t.user_attrs.get(METRICS_ATTR, {})})
    header = [
        "trial",
        "state",
        "counted",
        *spec.metrics,
        *(f"metric:{k}" for k in metric_keys),
        *(f"param:{k}" for k in spec.space),
        "run_id",
        "reason",
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for t in trials:
        values = t.values or [None] * len(spec.metrics)
        metrics = t.user_attrs.get(METRICS_ATTR, {})
        writer.writerow(
            [
                t.number,
                t.state.name,
                counts(t),
                *values,
                *(metrics.get(k) for k in metric_keys),
                *(t.params.get(k) for k in spec.space),
                t.user_attrs.get(T.RUN_ATTR, ""),
                t.user_attrs.get(FAIL_REASON_ATTR, ""),
            ]
        )
    return out.getvalue()


def summary_lines(handle) -> list[str]:
    """The end-of-study table and pointers, as printed by ``research.run``."""
    spec, study = handle.spec, handle.study
    trials = study.get_trials(deepcopy=False)
    ended = outcome_counts(trials)
    retried = ended["retried"]
    lines = [
        f"study {spec.name!r}: {ended['complete']} complete, {ended['pruned']} pruned, "
        f"{ended['failed']} failed"
        + (f", {retried} crashed and retried" if retried else "")
        + f" (n_trials={spec.n_trials}, sampler={spec.study.sampler}, "
        f"pruner={spec.study.pruner}"
        + (
            f", each completed trial the mean of {k} seeds"
            if (k := spec.study.seeds_per_trial) > 1
            else ""
        )
        + ")"
    ]
    best = best_trials(handle, 10 if spec.multi_objective else SHOWN)
    if not best:
        lines.append("no trial completed")
    else:
        title = "Pareto front" if spec.multi_objective else f"best {len(best)} trials"
        extra = [m for m in ("test/acc", "test/rmse") if m not in spec.metrics]
        header = ["trial", *spec.metrics, *extra, *spec.space]
        rows = [
            [
                str(t.number),
                *(fmt(v) for v in t.values),
                *(fmt(t.user_attrs.get(METRICS_ATTR, {}).get(m)) for m in extra),
                *(fmt(t.params.get(k, "-")) for k in spec.space),
            ]
            for t in best
        ]
        keep = [i for i, h in enumerate(header) if h not in extra or any(r[i] != "-" for r in rows)]
        header = [header[i] for i in keep]
        rows = [[r[i] for i in keep] for r in rows]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        lines.append(f"{title}:")
        lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)))
        lines.extend("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)
        lines.append(
            f"retrain trial {best[0].number}: "
            + command_line("research.run", spec.retrain_overrides(best[0].params))
        )
    store = handle.tracker.store
    browse = (
        "python -m research.ui   (http://127.0.0.1:5000)" if store.is_local else store.tracking_uri
    )
    lines.append(f"MLflow experiment {spec.name!r}, parent run {handle.parent_run_id}: {browse}")
    folder = study_dir(spec.root, spec.name)
    if spec.study.report:
        lines.append(f"report: {folder / 'report.html'}")
    lines.append(f"trials table: {folder / 'trials.csv'}")
    return lines
