"""The Optuna objective: cross-validation that advances every fold one epoch at a time.

For a Pipeline, the transformers are fitted once per fold; only the final estimator is
trained, by ``partial_fit`` (one epoch per call), so the mean validation score over the folds
exists after every epoch. It is reported to the trial, and the pruner may stop the trial
there. The trial's value is the best of these means, and the epoch reaching it is recorded:
the refit trains exactly that many epochs.
"""

from __future__ import annotations

import os
import socket
import time

import numpy as np
import optuna
from sklearn.base import clone, is_classifier
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import unique_labels

from .._sklearn_compat import _safe_indexing
from .spaces import SearchSpace, final_step

#: Names of the user attributes each trial carries (read back by ``cv_results_``).
BEST_EPOCH = "best_epoch"
N_EPOCHS = "n_epochs"
SPLIT_SCORES = "split_scores"
FIT_TIMES = "fit_times"
SCORE_TIMES = "score_times"
FAIL_REASON = "fail_reason"
TIMED_OUT = "stopped_by_timeout"
WORKER = "worker"
DEVICE = "device"


class _Fold:
    """One cross-validation split: transformed data and the final estimator being trained."""

    def __init__(self, estimator, X, y, train, test, classes) -> None:
        """``classes``: every label of the search (classifiers), None for regressors."""
        start = time.perf_counter()
        final, _ = final_step(estimator)
        X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
        self.y_train, self.y_test = y[train], y[test]
        if final is not estimator:
            transformers = clone(estimator[:-1])
            X_train = transformers.fit_transform(X_train, self.y_train)
            X_test = transformers.transform(X_test)
        self.X_train, self.X_test = X_train, X_test
        self.model = clone(final)
        if self.model.get_params().get("early_stopping"):
            # The search itself picks the best epoch; partial_fit has no hold-out to stop on.
            self.model.set_params(early_stopping=False)
        self.sample_weight = None
        # partial_fit sees one chunk at a time and cannot balance classes itself; the
        # weights "balanced" would give on this fold's rows are the same for every epoch.
        if self.model.get_params().get("class_weight") == "balanced":
            self.model.set_params(class_weight=None)
            self.sample_weight = compute_sample_weight("balanced", self.y_train)
        # A classifier's first partial_fit needs every label; a regressor takes none.
        self.fit_params = {} if classes is None else {"classes": classes}
        if self.sample_weight is not None:
            self.fit_params["sample_weight"] = self.sample_weight
        self.fit_time = time.perf_counter() - start
        self.score_time = 0.0

    def train_one_epoch(self) -> None:
        start = time.perf_counter()
        self.model.partial_fit(self.X_train, self.y_train, **self.fit_params)
        self.fit_time += time.perf_counter() - start

    def score(self, scorers: dict) -> dict[str, float]:
        start = time.perf_counter()
        scores = {
            name: float(scorer(self.model, self.X_test, self.y_test))
            for name, scorer in scorers.items()
        }
        self.score_time += time.perf_counter() - start
        return scores


class EpochwiseCV:
    """Objective of one trial: sample parameters, cross-validate them epoch by epoch.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Its final step has ``partial_fit`` (one epoch per call) and ``max_epochs``.
    space : SearchSpace
        Draws the trial's parameters.
    X, y : array-like
        The data; ``y`` an array of labels.
    splits : list of (train, test) index arrays
        The folds, fixed once so every worker scores on the same ones.
    scorers : dict of str to scorer
        Every metric recorded; ``objective_metric`` names the one reported and optimised.
    objective_metric : str
        Key of ``scorers`` the pruner and the sampler see.
    error_score : "raise" or float
        ``"raise"``: an error of a fit ends the search. Otherwise the trial is marked FAIL with
        its reason in the ``fail_reason`` user attribute and the search continues.
    deadline : float or None
        ``time.time()`` after which a trial stops at the end of its current epoch and is
        scored on the epochs it reached.
    """

    def __init__(
        self,
        estimator,
        space: SearchSpace,
        X,
        y,
        *,
        splits: list,
        scorers: dict,
        objective_metric: str,
        error_score="raise",
        deadline: float | None = None,
    ) -> None:
        self.estimator = estimator
        self.space = space
        self.X = X
        self.y = np.asarray(y)
        self.splits = splits
        self.scorers = scorers
        self.objective_metric = objective_metric
        self.error_score = error_score
        self.deadline = deadline
        # Class labels, or the column indices of a multi-label indicator matrix.
        final, _ = final_step(estimator)
        self.classes = unique_labels(self.y) if is_classifier(final) else None

    def __call__(self, trial: optuna.Trial) -> float:
        trial.set_user_attr(WORKER, f"{socket.gethostname()}:{os.getpid()}")
        device = final_step(self.estimator)[0].get_params().get("device")
        if device is not None:
            trial.set_user_attr(DEVICE, str(device))
        try:
            params = self.space.sample(trial)
            return self._cross_validate(trial, params)
        except optuna.TrialPruned:
            raise
        except Exception as error:
            if self.error_score != "raise":
                trial.set_user_attr(FAIL_REASON, f"{type(error).__name__}: {error}")
            raise

    def _cross_validate(self, trial: optuna.Trial, params: dict) -> float:
        estimator = clone(self.estimator).set_params(**params)
        final, _ = final_step(estimator)
        max_epochs = int(final.get_params()["max_epochs"])
        folds = [
            _Fold(estimator, self.X, self.y, train, test, self.classes)
            for train, test in self.splits
        ]
        # scores[metric][epoch - 1][fold]
        scores: dict[str, list[list[float]]] = {name: [] for name in self.scorers}
        for epoch in range(1, max_epochs + 1):
            for fold in folds:
                fold.train_one_epoch()
            epoch_scores = [fold.score(self.scorers) for fold in folds]
            for name in self.scorers:
                scores[name].append([fold_scores[name] for fold_scores in epoch_scores])
            trial.report(float(np.mean(scores[self.objective_metric][-1])), epoch)
            if trial.should_prune():
                self._record(trial, scores, folds)
                raise optuna.TrialPruned(f"pruned after epoch {epoch} of {max_epochs}")
            if self.deadline is not None and time.time() >= self.deadline and epoch < max_epochs:
                trial.set_user_attr(TIMED_OUT, True)
                break
        return self._record(trial, scores, folds)

    def _record(self, trial: optuna.Trial, scores: dict, folds: list[_Fold]) -> float:
        """Store the per-split scores of the best epoch on the trial; return its mean."""
        means = np.array([np.mean(fold_scores) for fold_scores in scores[self.objective_metric]])
        if np.all(np.isnan(means)):
            raise ValueError(
                f"the {self.objective_metric!r} score was NaN at every epoch; the network may "
                "have diverged (try a smaller lr)"
            )
        best_epoch = int(np.nanargmax(means)) + 1
        trial.set_user_attr(BEST_EPOCH, best_epoch)
        trial.set_user_attr(N_EPOCHS, len(means))
        trial.set_user_attr(
            SPLIT_SCORES,
            {
                name: [float(value) for value in per_epoch[best_epoch - 1]]
                for name, per_epoch in scores.items()
            },
        )
        trial.set_user_attr(FIT_TIMES, [fold.fit_time for fold in folds])
        trial.set_user_attr(SCORE_TIMES, [fold.score_time for fold in folds])
        return float(means[best_epoch - 1])
