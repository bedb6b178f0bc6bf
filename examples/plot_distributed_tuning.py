"""
Distributed tuning: worker processes and machines sharing one Optuna study
==========================================================================

An Optuna study lives in a *storage*. When the storage is a file or a database, any number
of worker processes can run trials of the same study at once: each asks the storage for the
next parameters and writes its results back, and the sampler learns from every worker's
trials. This example

1. runs :class:`sknets.tuning.OptunaSearchCV` with ``n_jobs=2`` worker processes sharing a
   journal file;
2. starts two ``sknets tune`` command-line workers on one study described by a config file,
   then summarises the study with ``sknets study``;
3. shows how the same commands run on several machines with PostgreSQL.

Workers are processes, not threads: training is CPU-bound Python.
"""

# %%
# Worker processes of one search
# ------------------------------
# ``storage`` is a journal file path; with ``n_jobs=2`` two processes share the trials. (With
# ``storage=None`` and ``n_jobs > 1`` the search uses a temporary journal file and keeps the
# study in memory afterwards.) Each trial records the process that ran it.
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import optuna
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import MLPClassifier
from sknets.cli_tuning import main as sknets_command
from sknets.tuning import OptunaSearchCV, resolve_storage

folder = pathlib.Path(tempfile.mkdtemp(prefix="sknets-tuning-"))
journal = str(folder / "search.journal")

X, y = load_digits(return_X_y=True)
pipeline = make_pipeline(StandardScaler(), MLPClassifier(max_epochs=10, random_state=0))
search = OptunaSearchCV(
    pipeline,
    "auto",
    n_trials=4,
    cv=3,
    n_jobs=2,
    storage=journal,
    study_name="digits-search",
    random_state=0,
)
start = time.perf_counter()
search.fit(X, y)
print(f"search: {time.perf_counter() - start:.0f} s")
print(f"best mean CV accuracy {search.best_score_:.3f}")
for trial in search.study_.trials:
    print(
        f"trial {trial.number}: {trial.state.name:8s} ran in process {trial.user_attrs['worker']}"
    )

# %%
# Command-line workers
# --------------------
# ``sknets tune`` is a worker of a study described by a small TOML or JSON file: the
# estimator, the search space (``"auto"`` or explicit distributions), the data (a built-in
# scikit-learn dataset or a CSV file with a target column), the folds, the metric and the
# number of trials of the whole study (every key: :ref:`study_file`). ``[params]`` fixes
# what the search does not draw; a parameter the search space also draws is an error.
config = folder / "digits.toml"
_ = config.write_text(
    """
estimator = "MLPClassifier"
scaler = "standard"
search_space = "auto"
n_trials = 4
cv = 3
metric = "accuracy"

[params]
max_epochs = 10

[data]
dataset = "digits"
"""
)

# %%
# The same command, started twice, gives two workers of one study. They share the journal
# file, and each stops once the study has its 4 trials. (``sknets tune`` is the installed
# command; ``python -m sknets.cli_tuning tune`` runs the same code.) Two workers on a
# two-core machine get one thread each (``OMP_NUM_THREADS=1``): more threads than cores
# make small networks much slower, as the threads wait for each other.
storage = str(folder / "cli.journal")
command = [sys.executable, "-m", "sknets.cli_tuning", "tune", str(config)]
command += ["--storage", storage, "--study-name", "digits-cli", "--quiet"]
workers = [
    subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    for _ in range(2)
]
start = time.perf_counter()
for worker in workers:
    print(worker.communicate()[0].splitlines()[0])
print(f"workers: {time.perf_counter() - start:.0f} s")

# %%
# ``sknets study`` summarises the study: trials by state, the best value, its parameters and
# the epoch at which it scored best.
sknets_command(["study", "--storage", storage, "--study-name", "digits-cli"])

study = optuna.load_study(study_name="digits-cli", storage=resolve_storage(storage))
print({trial.user_attrs["worker"] for trial in study.trials})

# %%
# The study is an ordinary Optuna study, whichever workers filled it: Optuna's own plots
# read it (here the score of each trial, by worker, and the best so far).
import warnings

import matplotlib.pyplot as plt

# Optuna marks its matplotlib plots "experimental"; the warning says nothing about this study.
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
ax = optuna.visualization.matplotlib.plot_optimization_history(study)
ax.figure.set_size_inches(6, 3.5)
plt.tight_layout()

# %%
# Many machines: PostgreSQL
# -------------------------
# A journal file serves the processes of one machine (or of machines sharing a file system
# with working locks). For machines, use a database: give every worker the same URL and study
# name. Install a driver first (``pip install "psycopg[binary]"``), create an empty database,
# then on each machine run::
#
#     sknets tune digits.toml \
#         --storage postgresql://user:password@db-host:5432/tuning \
#         --study-name digits
#
# and, from anywhere::
#
#     sknets study --storage postgresql://user:password@db-host:5432/tuning --study-name digits
#
# ``OptunaSearchCV(..., storage="postgresql://...", study_name="digits", n_jobs=2)`` joins the
# same study from Python. Every running trial sends a heartbeat (every 30 s, see
# ``--heartbeat-interval``); when a worker dies, another one fails its silent trial after three
# missed heartbeats and runs it again with the same parameters, so no trial is lost.

# %%
# The journal files were only for this example:
shutil.rmtree(folder)
