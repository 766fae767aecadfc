"""The search's progress on stderr: finished trials out of ``n_trials``, the pruned and failed
ones and the best value so far (a tqdm bar on a terminal, else a line now and then:
:mod:`research.progress`)."""

from __future__ import annotations

from research.progress import Progress
from research.search.driver import StudyHandle, progress_counts
from research.search.summary import best_trials


class TrialBar:
    """The progress over finished trials, with the best value so far."""

    def __init__(self, handle: StudyHandle) -> None:
        self.handle = handle
        counts = progress_counts(handle.study)
        spec = handle.spec
        self.bar = Progress(
            spec.n_trials,
            spec.name,
            "trial",
            initial=min(counts["finished"], spec.n_trials),
            names={} if spec.multi_objective else {"best": f"best {spec.metrics[0]}"},
        )

    def refresh(self, *_) -> None:
        counts = progress_counts(self.handle.study)
        shown = {"pruned": counts["pruned"], "failed": counts["failed"]}  # as the summary
        best = best_trials(self.handle, 1)
        if best and not self.handle.spec.multi_objective:
            shown["best"] = f"{best[0].values[0]:.4g}"
        self.bar.set(counts["finished"], **shown)

    def close(self) -> None:
        self.bar.close()
