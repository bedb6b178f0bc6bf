"""EpochwiseCV: transformers fitted once per fold, one partial_fit per fold and epoch."""

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from sklearn.metrics import get_scorer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from sknets import MLPClassifier
from sknets.tuning.objective import EpochwiseCV
from sknets.tuning.spaces import SearchSpace

CALLS = {"scaler_fit": 0, "partial_fit": 0}
#: (labels, sample_weight) of every ``CountingMLP.partial_fit`` call.
PARTIAL_FITS: list = []


class CountingScaler(StandardScaler):
    def fit(self, X, y=None, sample_weight=None):
        CALLS["scaler_fit"] += 1
        return super().fit(X, y, sample_weight)


class CountingMLP(MLPClassifier):
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        CALLS["partial_fit"] += 1
        PARTIAL_FITS.append(
            (np.array(y), None if sample_weight is None else np.array(sample_weight))
        )
        return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)


def objective_for(estimator, X, y, space, *, n_splits=2, scoring="accuracy", **kwargs):
    splits = list(StratifiedKFold(n_splits).split(X, y))
    return EpochwiseCV(
        estimator,
        SearchSpace(estimator, space),
        X,
        y,
        splits=splits,
        scorers={"score": get_scorer(scoring)},
        objective_metric="score",
        **kwargs,
    )


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.update(scaler_fit=0, partial_fit=0)
    PARTIAL_FITS.clear()


def test_transformers_fit_once_per_fold_and_model_once_per_epoch(small_digits):
    X, y = small_digits
    pipeline = make_pipeline(CountingScaler(), CountingMLP((8,), max_epochs=4, random_state=0))
    space = {"countingmlp__lr": FloatDistribution(1e-3, 1e-2)}
    study = optuna.create_study(direction="maximize")
    study.optimize(objective_for(pipeline, X, y, space, n_splits=3), n_trials=2)
    assert CALLS == {"scaler_fit": 2 * 3, "partial_fit": 2 * 3 * 4}
    trial = study.trials[0]
    assert sorted(trial.intermediate_values) == [1, 2, 3, 4]
    assert len(trial.user_attrs["split_scores"]["score"]) == 3
    assert len(trial.user_attrs["fit_times"]) == 3
    best_epoch = trial.user_attrs["best_epoch"]
    assert trial.value == pytest.approx(max(trial.intermediate_values.values()))
    assert trial.value == pytest.approx(trial.intermediate_values[best_epoch])


def test_every_fold_knows_every_class(small_digits):
    X, y = small_digits
    keep = (y != 9) | (np.arange(len(y)) % 2 == 0)  # class 9 only in some rows
    X, y = X[keep], y[keep]
    study = optuna.create_study(direction="maximize")
    objective = objective_for(
        MLPClassifier((8,), max_epochs=1), X, y, {"lr": FloatDistribution(1e-3, 1e-2)}
    )
    np.testing.assert_array_equal(objective.classes, np.arange(10))
    study.optimize(objective, n_trials=1)
    assert study.trials[0].state == optuna.trial.TrialState.COMPLETE


def test_balanced_class_weight_becomes_sample_weights(small_digits):
    X, y = small_digits
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:8]]
    estimator = CountingMLP((8,), max_epochs=1, class_weight="balanced")
    objective = objective_for(estimator, X[keep], y[keep], {"lr": FloatDistribution(1e-3, 1e-2)})
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=1)
    assert study.trials[0].state == optuna.trial.TrialState.COMPLETE
    assert CALLS["partial_fit"] == 2
    # Each fold trains on 12 zeros and 4 ones: "balanced" weighs a one 3 times a zero.
    for labels, sample_weight in PARTIAL_FITS:
        assert sample_weight is not None
        np.testing.assert_allclose(sample_weight, compute_sample_weight("balanced", labels))
        np.testing.assert_allclose(sample_weight[labels == 1] / sample_weight[labels == 0][0], 3)


def test_without_class_weight_no_sample_weights_are_passed(small_digits):
    X, y = small_digits
    estimator = CountingMLP((8,), max_epochs=2)
    objective = objective_for(estimator, X, y, {"lr": FloatDistribution(1e-3, 1e-2)})
    optuna.create_study(direction="maximize").optimize(objective, n_trials=1)
    assert len(PARTIAL_FITS) == 2 * 2
    assert all(sample_weight is None for _, sample_weight in PARTIAL_FITS)


def test_diverged_scores_fail_the_trial_with_a_reason(small_digits):
    X, y = small_digits

    def always_nan(estimator, X, y):
        return float("nan")

    objective = objective_for(
        MLPClassifier((8,), max_epochs=2),
        X,
        y,
        {"lr": FloatDistribution(1e-3, 1e-2)},
        scoring=always_nan,
        error_score=np.nan,
    )
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=1, catch=(Exception,))
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.FAIL
    assert "score was NaN at every epoch" in trial.user_attrs["fail_reason"]


def test_error_score_raise_leaves_no_reason_but_raises(small_digits):
    X, y = small_digits
    objective = objective_for(
        MLPClassifier((8,), max_epochs=1, activation="bogus"),
        X,
        y,
        {"lr": FloatDistribution(1e-3, 1e-2)},
        error_score="raise",
    )
    study = optuna.create_study(direction="maximize")
    with pytest.raises(ValueError, match="activation"):
        study.optimize(objective, n_trials=1)
    assert "fail_reason" not in study.trials[0].user_attrs
