"""The trials of a search in the report itself: how many ended in each state, and the best
:data:`SHOWN` with their state, value, parameters and duration (then pruned trials by the last
value they reported), so a reader needs neither the CSV nor optuna-dashboard to see them; and
for a conditional space (an architecture search), the trials and scores of each family."""

from __future__ import annotations

import statistics
from collections import Counter

from optuna.trial import FrozenTrial, TrialState

from research.report.document import Section, Table
from research.report.search_data import SearchData
from research.search.summary import fmt

SHOWN = 20


def _duration(t: FrozenTrial) -> str:
    if t.datetime_start is None or t.datetime_complete is None:
        return "-"
    seconds = (t.datetime_complete - t.datetime_start).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _value(t: FrozenTrial) -> str:
    if t.values:
        return ", ".join(fmt(v) for v in t.values)
    if t.intermediate_values:
        step = max(t.intermediate_values)
        return f"({fmt(t.intermediate_values[step])} at step {step})"
    return "-"


def _shown(data: SearchData) -> list[FrozenTrial]:
    """Best complete trials first, then pruned ones by their last reported value."""
    sign = -1.0 if data.directions[0] == "maximize" else 1.0
    complete = sorted(data.complete, key=lambda t: (sign * t.values[0], t.number))
    if len(data.metrics) > 1:
        complete = sorted(data.complete, key=lambda t: t.number)
    pruned = [t for t in data.trials if t.state == TrialState.PRUNED and t.intermediate_values]
    pruned.sort(key=lambda t: (sign * t.intermediate_values[max(t.intermediate_values)], t.number))
    return (complete + pruned)[:SHOWN]


def trials_section(data: SearchData) -> Section:
    counts = Counter(t.state.name.lower() for t in data.trials)
    overview = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    rows = [
        [
            str(t.number),
            t.state.name.lower(),
            _value(t),
            _duration(t),
            ", ".join(f"{k}={fmt(v)}" for k, v in t.params.items()),
        ]
        for t in _shown(data)
    ]
    caption = (
        f"The {len(rows)} best of {len(data.trials)} trials: complete ones by "
        f"{', '.join(data.metrics)}, then pruned ones by the last value they reported (in "
        f"parentheses). From {data.source()}; every trial is in `trials.csv` of the parent run."
    )
    return Section(
        f"Trials: {data.name}",
        [f"{len(data.trials)} trials by state: {overview}."],
        [
            Table(
                ["trial", "state", ", ".join(data.metrics), "duration", "parameters"], rows, caption
            )
        ],
    )


def _conditioning_keys(data: SearchData) -> list[str]:
    """The choice() keys others are conditional on: ``model`` for ``model:cnn/model.channels``."""
    keys = {name.split(":", 1)[0] for t in data.trials for name in t.params if "/" in name}
    return sorted(k for k in keys if any(k in t.params for t in data.trials))


def by_choice_sections(data: SearchData) -> list[Section]:
    """Per value of each conditioning key: its trials by state and its complete trials' best
    and median objective (one objective only)."""
    if len(data.metrics) != 1:
        return []
    sign = 1.0 if data.directions[0] == "maximize" else -1.0
    sections = []
    for key in _conditioning_keys(data):
        values = sorted({str(t.params[key]) for t in data.trials if key in t.params})
        rows = []
        for value in values:
            mine = [t for t in data.trials if str(t.params.get(key)) == value]
            done = [t.values[0] for t in mine if t.state == TrialState.COMPLETE]
            states = Counter(t.state.name.lower() for t in mine)
            rows.append(
                [
                    value,
                    str(len(mine)),
                    ", ".join(f"{n} {s}" for s, n in sorted(states.items())),
                    fmt(max(done, key=lambda v: sign * v)) if done else "-",
                    fmt(statistics.median(done)) if done else "-",
                ]
            )
        metric = data.metrics[0]
        caption = (
            f"Trials of each {key} (its own keys are searched only when it is chosen), from "
            f"{data.source()}. The sampler spends more trials where it expects better {metric}."
        )
        header = [key, "trials", "by state", f"best {metric}", f"median {metric}"]
        sections.append(Section(f"By {key}: {data.name}", [], [Table(header, rows, caption)]))
    return sections
