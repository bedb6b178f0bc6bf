"""The scikit-learn contract of the regressors, beyond ``check_estimator``: the tools a
regression user reaches for all take them."""

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.base import clone, is_regressor
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.ensemble import StackingRegressor, VotingRegressor
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import CNNRegressor, MLPRegressor, RNNRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (16,), "max_epochs": 20, "lr": 0.01, "random_state": 0}
FAST |= {"device": "cpu"}


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X.astype(np.float32), y


def test_is_a_regressor_with_regressor_tags():
    for estimator in (MLPRegressor(), CNNRegressor(), RNNRegressor()):
        assert is_regressor(estimator)
        tags = estimator.__sklearn_tags__()
        assert tags.estimator_type == "regressor" and tags.target_tags.multi_output


def test_cross_validate_with_regression_scorers(diabetes):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), MLPRegressor(**FAST))
    scores = cross_validate(pipe, X, y, cv=3, scoring=["r2", "neg_mean_squared_error"])
    assert scores["test_r2"].mean() > 0.3
    assert (scores["test_neg_mean_squared_error"] < 0).all()


def test_grid_search_clone_and_pickle(diabetes):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), MLPRegressor(**FAST))
    grid = GridSearchCV(pipe, {"mlpregressor__loss": ["squared_error", "huber"]}, cv=2)
    grid.fit(X, y)
    assert grid.best_params_["mlpregressor__loss"] in ("squared_error", "huber")
    assert clone(grid.best_estimator_[-1]).get_params() == grid.best_estimator_[-1].get_params()
    restored = pickle.loads(pickle.dumps(grid.best_estimator_))
    np.testing.assert_array_equal(restored.predict(X), grid.predict(X))


def test_transformed_target_stacking_voting(diabetes):
    X, y = diabetes
    X = StandardScaler().fit_transform(X)
    logged = TransformedTargetRegressor(MLPRegressor(**FAST), func=np.log, inverse_func=np.exp)
    assert logged.fit(X, y).predict(X).min() > 0  # predictions of exp(.) are positive
    stack = StackingRegressor([("net", MLPRegressor(**FAST)), ("ridge", Ridge())], cv=3)
    vote = VotingRegressor([("net", MLPRegressor(**FAST)), ("linear", LinearRegression())])
    for ensemble in (stack, vote):
        assert ensemble.fit(X, y).score(X, y) > 0.4


def test_permutation_importance_finds_the_informative_feature():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    y = 3 * X[:, 2] + 0.1 * rng.normal(size=300)
    reg = MLPRegressor(**{**FAST, "max_epochs": 60}).fit(X, y)
    importances = permutation_importance(reg, X, y, n_repeats=3, random_state=0)
    assert importances.importances_mean.argmax() == 2


def test_sample_weight_is_routed_in_a_pipeline(diabetes):
    X, y = diabetes
    weights = np.where(y > 200, 20.0, 1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        reg = MLPRegressor(**FAST).set_fit_request(sample_weight=True)
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), reg)
        weighted = pipe.fit(X, y, sample_weight=weights).predict(X)
        plain = make_pipeline(StandardScaler(), MLPRegressor(**FAST)).fit(X, y).predict(X)
    assert weighted.mean() > plain.mean() + 10
