"""Entry point: ``python -m research.run [group=option ...] [key=value ...]``.

Composes the Hydra config from ``conf/`` with the command-line overrides, validates it, and
dispatches on the study kind. Bad input ends here with one line on stderr and exit status 2,
before any run exists.
"""

from __future__ import annotations

import logging
import sys

from research import threads
from research.config import compose, to_yaml, validate
from research.errors import ResearchError
from research.registry import KINDS
from research.track import Terminated, handle_sigterm, is_disk_full
from research.track.provenance import command_line
from research.track.redact import redact
from research.track.store import check_tracking

USAGE = """usage: python -m research.run [--cfg] [OVERRIDE ...]

Trains the network that conf/config.yaml describes, with Hydra overrides, e.g.
  python -m research.run model=rbf data=logistic_map
  python -m research.run regime=adam regime.lr=0.003 model.hidden=[256,128] seed=1
  python -m research.run +study=bayes              # Bayesian search (Optuna TPE)
  python -m research.run +study=bayes study.workers=2 study.n_trials=60
Groups: data, model, regime, tracking, study. --cfg prints the composed config and exits.
Rerunning a study command resumes that study.
Open the runs: python -m research.ui"""


DISK_FULL = (
    "error: the disk is full ({}); nothing finished is lost: free some space and rerun the "
    "same command to resume"
)


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(redact(DISK_FULL.format(first[:200])), file=sys.stderr)
        return 1


def _main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(USAGE)
        return 0
    show_cfg = "--cfg" in args
    args = [a for a in args if a != "--cfg"]
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("mlflow", "alembic"):  # store creation chatter is not news to the user
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # MLflow logs a traceback for every failed SQL statement, then raises it: we report it
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    note = "the run is marked KILLED in MLflow"  # what an interrupt leaves, once the kind is known
    try:
        cfg = compose(args)
        groups = validate(cfg)
        if show_cfg:
            print(redact(to_yaml(cfg)), end="")
            return 0
        kind = KINDS.get(groups["study"].kind if "study" in groups else "train")
        note = kind.on_interrupt
        check_tracking(groups["tracking"])  # a dead server: one line now, not minutes of retries
        handle_sigterm()
        threads.configure(cfg.blas_threads, groups)
        outcome = kind.run(cfg, groups, args, command_line("research.run", args))
    except ResearchError as exc:
        print(redact(f"error: {exc}"), file=sys.stderr)
        return exc.exit_status  # 2: bad input; 1: the environment (EnvironmentFault)
    except KeyboardInterrupt:
        print(f"interrupted: {note}", file=sys.stderr)
        return 130
    except Terminated:
        print(f"terminated: {note}", file=sys.stderr)
        return 143
    print(redact("\n".join(outcome.lines)))
    return outcome.exit_status


if __name__ == "__main__":
    sys.exit(main())
