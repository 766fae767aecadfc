"""Names of the tags and attributes that writers set and report readers read back.

One constant per name: a study writes ``EVOLVE_EVALS`` on its parent run and the report reads
the same constant, so renaming a tag is one edit, never a silent mismatch.
"""

# MLflow's own
PARENT = "mlflow.parentRunId"

# every run
REASON = "status.reason"  # why a run ended as it did (FAILED, KILLED)
STUDY_KIND = "study.kind"  # train | search | evolve | a plugin's kind
STUDY_NAME = "study.name"
SEED = "seed"
RESUMED = "resumed"

# search trials
TRIAL_NUMBER = "trial.number"
TRIAL_STATE = "trial.state"
TRIAL_REASON = "trial.reason"
TRIAL_CRASHED = "trial.crashed"
PARETO = "pareto"
#: Optuna user attributes linking a study to MLflow
PARENT_RUN_ATTR = "mlflow_parent_run_id"
RUN_ATTR = "mlflow_run_id"

# evolution parent runs: what the report reads back
EVOLVE_SIGNATURE = "evolve.signature"
EVOLVE_GENERATIONS = "evolve.generations"
EVOLVE_EVALS = "evolve.evals"
EVOLVE_SOLVED = "evolve.solved"
EVOLVE_SOLVED_AT = "evolve.solved_at_evals"
EVOLVE_STAGE_EVALS = "evolve.stage_evals"
EVOLVE_CHAMPION_FITNESS = "evolve.champion_fitness"
EVOLVE_GENERALISATION = "evolve.generalisation"
ALGORITHM = "algorithm"
ENCODING = "encoding"
TASK = "task"
STAGE = "stage"
STAGE_TASK = "stage.task"

# provenance and search settings on parent and trial runs
COMMAND = "command"
WORKER = "worker"
SAMPLER = "sampler"
PRUNER = "pruner"
STORAGE = "storage"
TRIAL_OVERRIDES = "trial.overrides"
REPORT = "report"
GIT_COMMIT = "git.commit"
GIT_DIRTY = "git.dirty"
BLAS_POOL = "blas.threads.pool"
