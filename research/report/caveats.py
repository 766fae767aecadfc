"""What a report must say so that it does not claim more than its runs show: the commit with
its dirty flag, "1 seed" for one number, a warning for every way compared studies differ,
and paths relative to the project root (a report is read on other machines)."""

from __future__ import annotations

import math
import re
import statistics
from pathlib import Path

from research.track import tags as T


def commit_label(tags: dict[str, str]) -> str:
    """``abcdef123456`` or ``abcdef123456 (dirty)``: the code a run came from."""
    commit = tags.get(T.GIT_COMMIT, "unknown")[:12]
    return commit + (" (dirty)" if tags.get(T.GIT_DIRTY) == "True" else "")


def seeds(n: int) -> str:
    return f"{n} seed" if n == 1 else f"{n} seeds"


def spread(values: list[float]) -> str:
    """One value as itself with "(1 seed)"; several as "median [min..max] over n seeds"."""
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.4g} (1 seed)"
    return (
        f"{statistics.median(values):.4g} [{min(values):.4g}..{max(values):.4g}] "
        f"(median [min..max] over {seeds(len(values))})"
    )


def differences(aspects: dict[str, dict[str, str]]) -> list[str]:
    """One warning per aspect whose value is not the same for every study; when the values
    are settings (``k=v, k=v``), only the keys that differ are named.

    ``aspects``: aspect (e.g. "git commit") -> study name -> its value there."""
    out = []
    for aspect, values in aspects.items():
        if len(set(values.values())) > 1:
            each = "; ".join(f"{name}: {value}" for name, value in _differing(values).items())
            out.append(f"{', '.join(values)} differ in {aspect}: {each}")
    return out


_SETTING = re.compile(r"[\w.]+=")


def _differing(values: dict[str, str]) -> dict[str, str]:
    """``values`` (study -> ``k=v, k=v``) cut to the keys whose values differ (``-``: unset);
    any other kind of value is kept whole."""
    parsed = {}
    for name, value in values.items():
        parts = re.split(r", (?=[\w.]+=)", value) if value else []
        if not all(_SETTING.match(part) for part in parts):
            return values
        parsed[name] = dict(part.split("=", 1) for part in parts)
    keys = sorted({k for settings in parsed.values() for k in settings})
    differ = [k for k in keys if len({s.get(k, "-") for s in parsed.values()}) > 1]
    return {
        name: ", ".join(f"{k}={settings.get(k, '-')}" for k in differ)
        for name, settings in parsed.items()
    }


def relative(text: str, root: Path) -> str:
    """``text`` with the project root's absolute path removed (``journal:studies/x/...``)."""
    base = str(root).rstrip("/")
    if not base:  # the root is "/": every path is already "relative" to it
        return text
    text = re.sub(re.escape(base) + "/", "", text)
    return re.sub(re.escape(base) + r"(?![\w.-])", ".", text)  # the root itself: "."
