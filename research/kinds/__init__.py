"""Study kinds: ``train`` (one run), ``search`` (Optuna) and ``evolve`` (DEAP engines), each an
object implementing :class:`~research.kinds.base.StudyKind`, found by name in
:data:`research.registry.KINDS`. The glue between the config, the drivers, MLflow and reports
lives here; the drivers themselves (``search/``, ``evolve/``, ``train/``) know no kind but
their own.
"""

from research.kinds.base import InRunResult, Outcome, StepReport, StudyKind

__all__ = ["InRunResult", "Outcome", "StepReport", "StudyKind"]
