"""OptunaSearchCV with regressors: R² by default, plain K folds, pruning on any metric."""

import warnings

import numpy as np
import pytest
from optuna.distributions import FloatDistribution
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import MLPRegressor
from sknets.tuning import OptunaSearchCV

FAST = {"hidden_layer_sizes": (16,), "max_epochs": 6, "random_state": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X.astype(np.float32), y


def test_default_score_is_r2_over_plain_folds(diabetes):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), MLPRegressor(**FAST))
    lr = {"mlpregressor__lr": FloatDistribution(5e-3, 1e-2)}
    search = OptunaSearchCV(pipe, lr, n_trials=2, cv=3, random_state=0).fit(X, y)
    # An R2 (at most 1, here well above 0), not a squared error in the target's units.
    assert 0.2 < search.best_score_ < 1
    assert search.n_splits_ == 3
    assert search.score(X, y) == pytest.approx(r2_score(y, search.predict(X)))
    # A regressor has no classes_.
    assert not hasattr(search, "classes_")


def test_regression_metrics_and_auto_space(diabetes, prune_at_epoch):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), MLPRegressor(**FAST))
    search = OptunaSearchCV(
        pipe,
        "auto",
        n_trials=3,
        cv=2,
        scoring="neg_mean_absolute_error",
        pruner=prune_at_epoch(2, [1]),
        random_state=0,
    ).fit(X, y)
    states = search.cv_results_["state"]
    assert list(states).count("PRUNED") == 1
    assert search.best_score_ < 0  # a negated error
    assert {"mlpregressor__hidden_layer_sizes", "mlpregressor__lr"} <= set(search.best_params_)


def test_the_refit_trains_exactly_the_best_epochs_without_warning(diabetes):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), MLPRegressor(**{**FAST, "max_epochs": 8}))
    lr = {"mlpregressor__lr": FloatDistribution(1e-2, 2e-2)}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        search = OptunaSearchCV(pipe, lr, n_trials=2, cv=2, random_state=0).fit(X, y)
    assert search.best_estimator_[-1].n_epochs_ == search.best_epoch_
