"""The regressors: numeric targets in their own units, losses, multi-output, the engine's features.

Targets are standardised inside the estimator, so a fit on ``y`` and on ``a * y + b`` trains
the same network on the same standardised values: predictions agree up to the affine map.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, scale
from skorch.callbacks import EpochScoring

from sknets import (
    CNNClassifier,
    CNNRegressor,
    MLPClassifier,
    MLPRegressor,
    RNNClassifier,
    RNNRegressor,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"max_epochs": 30, "lr": 0.01, "random_state": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return scale(X).astype(np.float32), y


def test_predictions_come_back_in_the_targets_units(diabetes):
    X, y = diabetes
    reg = MLPRegressor(hidden_layer_sizes=(32,), **FAST).fit(X, y)
    shifted = MLPRegressor(hidden_layer_sizes=(32,), **FAST).fit(X, 1000 * y + 5)
    # The standardised targets are equal up to float64 rounding (1e-16), which float32
    # training can round to neighbouring values: 1e-5 relative covers that.
    np.testing.assert_allclose(shifted.predict(X), 1000 * reg.predict(X) + 5, rtol=1e-5)
    assert reg.predict(X).dtype == np.float64
    assert r2_score(y, reg.predict(X)) > 0.5
    assert reg.score(X, y) == pytest.approx(r2_score(y, reg.predict(X)))


def test_unscaled_targets_need_scale_targets(diabetes):
    X, y = diabetes
    scaled = MLPRegressor(hidden_layer_sizes=(32,), **FAST).fit(X, y)
    raw = MLPRegressor(hidden_layer_sizes=(32,), scale_targets=False, **FAST).fit(X, y)
    # Without standardisation 30 epochs at lr=0.01 do not even reach the mean of y (~152).
    assert scaled.score(X, y) > raw.score(X, y) + 0.3


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_losses_differ_from_squared_error(diabetes, loss):
    X, y = diabetes
    squared = MLPRegressor(hidden_layer_sizes=(16,), **FAST).fit(X, y)
    other = MLPRegressor(hidden_layer_sizes=(16,), loss=loss, **FAST).fit(X, y)
    assert np.abs(other.predict(X) - squared.predict(X)).max() > 1.0
    assert other.score(X, y) > 0.4


def test_huber_delta_reaches_the_loss(diabetes):
    X, y = diabetes
    small = MLPRegressor(loss="huber", huber_delta=0.1, max_epochs=1, random_state=0).fit(X, y)
    large = MLPRegressor(loss="huber", huber_delta=10.0, max_epochs=1, random_state=0).fit(X, y)
    # With delta=10 every standardised residual is in the quadratic part: half the squared
    # error (~0.5 at the start); with delta=0.1 the loss is about 0.1 * |residual|.
    assert large.history_["train_loss"].iloc[0] > 3 * small.history_["train_loss"].iloc[0]


def test_multi_output_and_column_targets(diabetes):
    X, y = diabetes
    Y = np.c_[y, -2 * y + 7]
    reg = MLPRegressor(hidden_layer_sizes=(32,), **FAST).fit(X, Y)
    assert reg.n_outputs_ == 2 and reg.predict(X).shape == (len(X), 2)
    assert r2_score(Y, reg.predict(X), multioutput="raw_values").min() > 0.5
    with pytest.warns(Warning, match="column-vector y"):
        column = MLPRegressor(**FAST).fit(X, y[:, None])
    assert column.predict(X).shape == (len(X),)
    with pytest.raises(
        ValueError, match="y has 1 outputs but the model was fitted on n_outputs_=2"
    ):
        reg.partial_fit(X, y)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.where(np.arange(442) == 3, np.nan, 1.0), "Input y contains NaN"),
        (np.where(np.arange(442) == 3, np.inf, 1.0), "Input y contains infinity"),
        (np.array(["a", "b"] * 221), "could not convert string to float"),
    ],
)
def test_bad_targets_raise(diabetes, y, message):
    X, _ = diabetes
    with pytest.raises(ValueError, match=message):
        MLPRegressor(**FAST).fit(X, y)


def test_integer_pandas_targets_and_sample_weight(diabetes):
    X, y = diabetes
    integers = pd.Series(y.astype(int), name="progression")
    reg = MLPRegressor(hidden_layer_sizes=(16,), **FAST).fit(pd.DataFrame(X), integers)
    assert reg.score(pd.DataFrame(X), integers) > 0.4
    heavy = np.where(y > 200, 20.0, 1.0)
    weighted = MLPRegressor(hidden_layer_sizes=(16,), **FAST).fit(X, y, sample_weight=heavy)
    plain = MLPRegressor(hidden_layer_sizes=(16,), **FAST).fit(X, y)
    assert weighted.predict(X).mean() > plain.predict(X).mean() + 10


def test_partial_fit_validation_data_and_scorers_in_original_units(diabetes):
    X, y = diabetes
    reg = MLPRegressor(hidden_layer_sizes=(16,), **FAST)
    for _ in range(3):
        reg.partial_fit(X, y)
    assert reg.n_epochs_ == 3
    scorers = [
        EpochScoring("r2", lower_is_better=False),
        EpochScoring("neg_mean_squared_error", lower_is_better=False, name="neg_mse"),
    ]
    reg = MLPRegressor(hidden_layer_sizes=(16,), callbacks=scorers, **FAST)
    reg.fit(X[:350], y[:350], X_val=X[350:], y_val=y[350:])
    last = reg.history_.iloc[-1]
    predicted = reg.predict(X[350:])
    # Training-mode float32 outputs against float64 predictions of the same weights.
    np.testing.assert_allclose(last["r2"], r2_score(y[350:], predicted), rtol=1e-5)
    np.testing.assert_allclose(last["neg_mse"], -mean_squared_error(y[350:], predicted), rtol=1e-5)
    assert "valid_accuracy" not in reg.history_


def test_cnn_regresses_a_quantity_from_images():
    rng = np.random.default_rng(0)
    images = rng.random((400, 1, 8, 8)).astype(np.float32)
    # The brightness of the left half: a spatial quantity the convolutions must locate.
    target = 10 * images[:, 0, :, :4].mean(axis=(1, 2))
    reg = CNNRegressor(channels=(8,), hidden_layer_sizes=(16,), **FAST).fit(images, target)
    assert reg.score(images, target) > 0.8


def test_rnn_regresses_ragged_sequences():
    rng = np.random.default_rng(0)
    sequences = [rng.normal(size=(rng.integers(3, 12), 2)) for _ in range(400)]
    target = np.array([sequence[:, 0].sum() for sequence in sequences])
    reg = RNNRegressor(hidden_size=16, **{**FAST, "max_epochs": 60}).fit(sequences, target)
    assert reg.score(sequences, target) > 0.8


def test_sparse_rows_predict_as_their_dense_form(diabetes):
    import scipy.sparse as sp

    X, y = diabetes
    X = np.where(np.abs(X) > 1, X, 0).astype(np.float32)  # mostly zeros
    sparse = MLPRegressor(hidden_layer_sizes=(16,), **FAST).fit(sp.csr_matrix(X), y)
    dense = MLPRegressor(hidden_layer_sizes=(16,), **FAST).fit(X, y)
    # Each sparse batch is bit for bit the dense batch: the same fit.
    np.testing.assert_array_equal(sparse.predict(sp.csr_matrix(X)), dense.predict(X))


def test_default_pipeline_matches_linear_regression_on_diabetes():
    """The issue's gate: ``make_pipeline(StandardScaler(), MLPRegressor())`` with defaults
    reaches LinearRegression's 5-fold R² (0.482) on diabetes. Over ten seeds the default
    scores 0.483-0.503; seeds 0-2 average 0.487. Rounding does not come near the 0.005
    margin: noise of a few float32 ulps on every input moved each seed's score by at most
    1e-4 (measured), and 1 or 2 threads give equal scores.
    """
    X, y = load_diabetes(return_X_y=True)
    linear = cross_val_score(make_pipeline(StandardScaler(), LinearRegression()), X, y, cv=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 100 epochs do not converge
        network = [
            cross_val_score(
                make_pipeline(StandardScaler(), MLPRegressor(random_state=seed)), X, y, cv=5
            ).mean()
            for seed in range(3)
        ]
    assert np.mean(network) >= linear.mean()


def test_mlp_and_cnn_regressors_default_to_a_weight_decay():
    for regressor, classifier in ((MLPRegressor, MLPClassifier), (CNNRegressor, CNNClassifier)):
        assert regressor().weight_decay == 0.01
        assert classifier().weight_decay == 0.0
    # A penalty on recurrent weights costs the RNN more than it brings (see its docstring).
    assert RNNRegressor().weight_decay == RNNClassifier().weight_decay == 0.0
    assert "weight_decay : float, default=0.0" in RNNRegressor.__doc__
    assert "weight_decay : float, default=0.01" in MLPRegressor.__doc__
    reg = MLPRegressor(**FAST).fit(*make_regression(60, 3, random_state=0))
    assert reg.net_.optimizer_.param_groups[0]["weight_decay"] == 0.01
