"""Bad input and invalid parameters: every error names the problem (through MLPClassifier)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.utils._param_validation import InvalidParameterError

from sknets import MLPClassifier

FAST = {"hidden_layer_sizes": (8,), "max_epochs": 2, "random_state": 0}


@pytest.fixture
def data():
    X, y = make_blobs(n_samples=40, centers=2, n_features=3, random_state=0)
    return X, y


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_X(data, bad_value):
    X, y = data
    X[3, 1] = bad_value
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        MLPClassifier(**FAST).fit(X, y)


def test_nan_in_y(data):
    X, y = data
    with pytest.raises(ValueError, match="Input y contains NaN"):
        MLPClassifier(**FAST).fit(X, np.where(np.arange(len(y)) == 0, np.nan, y))


def test_wrong_ndim(data):
    X, y = data
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        MLPClassifier(**FAST).fit(X[:, 0], y)
    with pytest.raises(ValueError, match="Found array with dim 3"):
        MLPClassifier(**FAST).fit(X.reshape(len(X), 3, 1), y)


def test_length_mismatch(data):
    X, y = data
    with pytest.raises(ValueError, match="inconsistent numbers of samples: \\[40, 39\\]"):
        MLPClassifier(**FAST).fit(X, y[:-1])


def test_one_class(data):
    X, _ = data
    with pytest.raises(ValueError, match="y contains 1 class \\(\\['a'\\]\\); a classifier needs"):
        MLPClassifier(**FAST).fit(X, ["a"] * len(X))


def test_empty_input():
    with pytest.raises(ValueError, match="0 sample\\(s\\)"):
        MLPClassifier(**FAST).fit(np.empty((0, 3)), np.empty(0))


def test_non_numeric_X(data):
    X, y = data
    X = X.astype(object)
    X[0, 0] = "seven"
    with pytest.raises(ValueError, match="could not convert string to float: 'seven'"):
        MLPClassifier(**FAST).fit(X, y)


def test_continuous_target(data):
    X, _ = data
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MLPClassifier(**FAST).fit(X, np.linspace(0, 1, len(X)))


def test_predict_feature_count_differs_from_fit(data):
    X, y = data
    clf = MLPClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but MLPClassifier is expecting 3"):
        clf.predict(X[:, :2])


def test_predict_before_fit(data):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet"):
        MLPClassifier().predict(data[0])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"activation": "swish"}, "'activation' parameter .* must be a str among .*'gelu'"),
        ({"lr": -0.1}, "'lr' parameter .* must be a float in the range \\(0.0, inf\\)"),
        ({"lr": 0}, "'lr' parameter"),
        ({"hidden_layer_sizes": "wide"}, "'hidden_layer_sizes' parameter"),
        ({"dropout": 1.0}, "'dropout' parameter .* range \\[0.0, 1.0\\)"),
        ({"batch_size": 0}, "'batch_size' parameter .* range \\[1, inf\\)"),
        ({"max_epochs": 0}, "'max_epochs' parameter"),
        ({"optimizer": "lbfgs"}, "'optimizer' parameter .* must be a str among .*'adamw'"),
        ({"validation_fraction": 1.5}, "'validation_fraction' parameter .* range \\(0.0, 1.0\\)"),
        ({"class_weight": "even"}, "'class_weight' parameter"),
        ({"n_iter_no_change": 0}, "'n_iter_no_change' parameter"),
        ({"n_iter_no_change": 2.5}, "'n_iter_no_change' parameter"),
        ({"tol": -1e-3}, "'tol' parameter .* range \\[0.0, inf\\)"),
        ({"weight_decay": -1.0}, "'weight_decay' parameter"),
        ({"callbacks": "print"}, "'callbacks' parameter"),
        ({"early_stopping": "yes"}, "'early_stopping' parameter"),
    ],
)
def test_invalid_parameters_name_value_and_allowed(data, params, message):
    X, y = data
    with pytest.raises(InvalidParameterError, match=message):
        MLPClassifier(**{**FAST, **params}).fit(X, y)
    assert issubclass(InvalidParameterError, ValueError)


def test_hidden_layer_sizes_with_a_zero_width(data):
    X, y = data
    with pytest.raises(ValueError, match="hidden_layer_sizes=\\(16, 0\\) must hold positive"):
        MLPClassifier(**{**FAST, "hidden_layer_sizes": (16, 0)}).fit(X, y)


def test_hidden_layer_sizes_as_a_single_int(data):
    X, y = data
    clf = MLPClassifier(**{**FAST, "hidden_layer_sizes": 12}).fit(X, y)
    assert clf.module_.layers[0].out_features == 12


def test_optimizer_class_that_is_not_an_optimizer(data):
    X, y = data
    with pytest.raises(ValueError, match="optimizer=<class 'dict'> is not a torch.optim.Optimizer"):
        MLPClassifier(**{**FAST, "optimizer": dict}).fit(X, y)


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("gpu0", "device='gpu0' is not a torch device; use 'auto', 'cpu'"),
        ("cuda", "device='cuda' but cuda is not available on this machine"),
    ],
)
def test_bad_device(data, device, message, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X, y = data
    with pytest.raises(ValueError, match=message):
        MLPClassifier(**{**FAST, "device": device}).fit(X, y)


def test_negative_and_all_zero_sample_weights(data):
    X, y = data
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        MLPClassifier(**FAST).fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(
        ValueError, match="Sample weights must contain at least one non-zero number"
    ):
        MLPClassifier(**FAST).fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="sample_weight.shape == \\(3,\\), expected \\(40,\\)"):
        MLPClassifier(**FAST).fit(X, y, sample_weight=np.ones(3))


def test_validation_fraction_too_large_for_tiny_data():
    X = np.array([[0.0], [1.0]])
    with pytest.raises(ValueError, match="validation_fraction=0.9 leaves 0 training"):
        MLPClassifier(**{**FAST, "validation_fraction": 0.9}).fit(X, [0, 1])


def test_init_stores_parameters_unchanged():
    params = {"hidden_layer_sizes": [32, 16], "class_weight": {"a": 2}, "device": "cuda:7"}
    clf = MLPClassifier(**params)
    for name, value in params.items():
        assert getattr(clf, name) is value


def test_the_finite_check_of_predict_needs_no_temporary_as_large_as_x():
    from sknets.base import _all_finite

    X = np.ones((3000, 7), np.float32)
    assert _all_finite(X)
    for bad in (np.nan, np.inf, -np.inf):
        X[2999, 6] = bad
        assert not _all_finite(X)
    # Finite values whose sum overflows are checked row by row, and pass.
    assert _all_finite(np.full((10, 3), 3e38, np.float32))
    assert not _all_finite(np.array([[3e38, 3e38, np.nan]], np.float32))
