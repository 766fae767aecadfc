"""The search's progress bar on a terminal: finished trials out of ``n_trials``."""

from __future__ import annotations

import sys

from tqdm import tqdm

from research.search.driver import StudyHandle, progress_counts
from research.search.summary import best_trials


class TrialBar:
    """A tqdm bar over finished trials, with the best value so far."""

    def __init__(self, handle: StudyHandle) -> None:
        self.handle = handle
        counts = progress_counts(handle.study)
        self.bar = tqdm(
            total=handle.spec.n_trials,
            initial=min(counts["finished"], handle.spec.n_trials),
            desc=handle.spec.name,
            unit="trial",
            disable=None,
            file=sys.stderr,
        )

    def refresh(self, *_) -> None:
        counts = progress_counts(self.handle.study)
        self.bar.n = min(counts["finished"], self.bar.total)
        postfix = {"pruned": counts["PRUNED"], "failed": counts["FAIL"]}
        best = best_trials(self.handle, 1)
        if best and not self.handle.spec.multi_objective:
            postfix["best"] = f"{best[0].values[0]:.4g}"
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()
