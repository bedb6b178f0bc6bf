"""
Tuning with Optuna: pruning epoch by epoch inside cross-validation
==================================================================

:class:`sknets.tuning.OptunaSearchCV` searches hyperparameters with Optuna. Every trial
cross-validates its parameters with all folds advancing one epoch at a time, so after each
epoch there is a mean validation score; Optuna's pruner stops the trials that are clearly
behind, and the time goes to the promising ones. This example

1. tunes ``Pipeline(StandardScaler, MLPClassifier)`` on the digits with the estimator's own
   default search space (``param_distributions="auto"``);
2. shows which trials were pruned, and at which epoch;
3. plots the optimisation history and the parameter importances;
4. scores the refit model, trained for the number of epochs that scored best.
"""

# %%
# The search
# ----------
# ``"auto"`` draws the search space from ``MLPClassifier.suggest_params``: learning rate,
# batch size, weight decay, depth, width, activation and dropout. Inside a Pipeline the
# parameter names carry the step prefix (``mlpclassifier__lr``), in the study too. The
# default pruner is Optuna's median pruner: from epoch 3 on, once 5 trials have completed, a
# trial whose score is below the median of earlier trials at the same epoch stops.
import time

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import MLPClassifier
from sknets.tuning import OptunaSearchCV

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=42
)
pipeline = make_pipeline(StandardScaler(), MLPClassifier(max_epochs=20, random_state=0))
search = OptunaSearchCV(pipeline, "auto", n_trials=12, cv=3, random_state=0)
start = time.perf_counter()
search.fit(X_train, y_train)
print(f"12 trials in {time.perf_counter() - start:.0f} s")
print(f"best mean CV accuracy {search.best_score_:.3f} after {search.best_epoch_} epochs")
for name, value in search.best_params_.items():
    print(f"  {name} = {value!r}")

# %%
# What each trial did
# -------------------
# ``cv_results_`` has scikit-learn's format, plus the state of each trial, the epochs it
# trained and the epoch its scores come from. Pruned trials stopped after a few epochs.
results = pd.DataFrame(search.cv_results_)
columns = ["trial_number", "state", "n_epochs", "best_epoch", "mean_test_score"]
print(results[columns].to_string(index=False, float_format="{:.3f}".format))
print(results["state"].value_counts().to_string())

# %%
# The learning curve of every trial is in the study: the mean validation accuracy the
# pruner saw after each epoch. Pruned trials end early, below the others.
fig, ax = plt.subplots(figsize=(6, 3.5))
for trial in search.study_.trials:
    epochs, scores = zip(*sorted(trial.intermediate_values.items()))
    pruned = trial.state.name == "PRUNED"
    ax.plot(epochs, scores, color="tab:red" if pruned else "tab:blue", alpha=0.8)
ax.plot([], [], color="tab:blue", label="complete")
ax.plot([], [], color="tab:red", label="pruned")
ax.set_xlabel("epoch")
ax.set_ylabel("mean validation accuracy")
ax.set_title("Learning curves of the trials")
ax.legend()
fig.tight_layout()

# %%
# Optimisation history and parameter importances
# ----------------------------------------------
# Both plots come from :mod:`optuna.visualization.matplotlib` and return matplotlib Axes.
# The importances are over the study's own parameters (``n_layers`` and ``width`` rather
# than ``hidden_layer_sizes``).
ax = search.plot_optimization_history()
ax.figure.tight_layout()

# %%
ax = search.plot_param_importances()
ax.figure.tight_layout()

# %%
# The refit model
# ---------------
# ``best_estimator_`` is the pipeline with the best parameters, trained on all the training
# data for exactly the number of epochs at which it scored best.
final = search.best_estimator_[-1]
print(f"refit for {final.n_epochs_} epochs (max_epochs={final.max_epochs})")
print(f"test accuracy: {search.score(X_test, y_test):.3f}")
