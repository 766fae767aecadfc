"""Names of the tags and attributes that writers set and report readers read back.

One constant per name: a study writes ``EVOLVE_EVALS`` on its parent run and the report reads
the same constant, so renaming a tag is one edit, never a silent mismatch.
"""

# MLflow's own
PARENT = "mlflow.parentRunId"
NOTE = "mlflow.note.content"  # a run's or an experiment's description in the UI
EXPERIMENT_KIND = "mlflow.experimentKind"  # experiment tag: model training, not GenAI

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
MLFLOW_USER = "mlflow.user"  # MLflow's own: the UI's "Created by"
MLFLOW_SOURCE = "mlflow.source.name"  # the UI's "Source"
MLFLOW_SOURCE_TYPE = "mlflow.source.type"
GIT_DIRTY = "git.dirty"
BLAS_POOL = "blas.threads.pool"

# the network logged as an MLflow model (search: the best trial's; evolve: the champion)
MODEL_URI = "model.uri"  # what mlflow.pyfunc.load_model takes
MODEL_REGISTERED = "model.registered"  # "<registered model name>/<version>"
MODEL_TRIAL = "model.trial"  # search: the trial whose network it is

# a multirun (``-m``): the sweep's parent run and its jobs
SWEEP_OVERRIDES = "sweep.overrides"  # the sweep overrides as typed (parent), one job's (child)
SWEEP_JOBS = "sweep.jobs"
SWEEP_JOB = "sweep.job"  # a job's index
