"""sknets estimators tuned by scikit-learn's own searches (no sknets code involved)."""

import numpy as np
from scipy.stats import loguniform
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, RandomizedSearchCV


def test_grid_search(small_digits, fast_mlp):
    X, y = small_digits
    search = GridSearchCV(fast_mlp(), {"lr": [1e-3, 3e-2]}, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert search.best_params_["lr"] in (1e-3, 3e-2)
    assert search.best_estimator_.lr == search.best_params_["lr"]
    assert set(search.predict(X)) <= set(y)


def test_randomized_search_in_a_pipeline(small_digits, fast_pipeline):
    X, y = small_digits
    search = RandomizedSearchCV(
        fast_pipeline(),
        {"mlpclassifier__lr": loguniform(1e-3, 1e-1), "mlpclassifier__dropout": [0.0, 0.2]},
        n_iter=3,
        cv=2,
        random_state=0,
    ).fit(X, y)
    lrs = search.cv_results_["param_mlpclassifier__lr"]
    assert len(set(lrs)) == 3 and all(1e-3 <= lr <= 1e-1 for lr in lrs)


def test_halving_search_uses_max_epochs_as_resource(small_digits, fast_mlp):
    X, y = small_digits
    search = HalvingGridSearchCV(
        fast_mlp(),
        {"lr": [1e-4, 1e-3, 1e-2, 3e-2]},
        resource="max_epochs",
        min_resources=1,
        max_resources=4,
        factor=2,
        cv=2,
        random_state=0,
    ).fit(X, y)
    assert list(search.n_resources_) == [1, 2, 4]
    assert list(search.n_candidates_) == [4, 2, 1]
    assert search.best_estimator_.max_epochs == 4
    assert search.best_estimator_.n_epochs_ == 4
    assert np.isfinite(search.best_score_)
