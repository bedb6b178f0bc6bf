"""Multi-label classification: a 2-D 0/1 indicator ``y`` gives independent sigmoid outputs.

The output format is sklearn's ``MLPClassifier``'s: ``predict`` returns the int64 indicator
matrix, ``predict_proba`` one probability per label, ``classes_`` the label indices and
``score`` the subset accuracy.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import accuracy_score

from sknets import CNNClassifier, MLPClassifier, RNNClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"max_epochs": 40, "lr": 0.01, "random_state": 0, "device": "cpu", "batch_size": 32}


@pytest.fixture(scope="module")
def labels():
    """200 rows of 16 count features (a 4x4 image, or 4 steps of 4), 3 labels."""
    X, Y = make_multilabel_classification(
        n_samples=200, n_features=16, n_classes=3, n_labels=2, random_state=0
    )
    return (X / X.max()).astype(np.float32), Y


def make(name):
    if name == "mlp":
        return MLPClassifier(hidden_layer_sizes=(32,), **FAST), lambda X: X
    if name == "cnn":
        cnn = CNNClassifier(channels=(4,), hidden_layer_sizes=(16,), input_shape=(1, 4, 4), **FAST)
        return cnn, lambda X: X
    return RNNClassifier(hidden_size=16, **FAST), lambda X: X.reshape(-1, 4, 4)


@pytest.mark.parametrize("name", ["mlp", "cnn", "rnn"])
def test_indicator_y_gives_independent_labels(labels, name):
    X, Y = labels
    clf, layout = make(name)
    clf.fit(layout(X), Y)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    predicted = clf.predict(layout(X))
    assert predicted.shape == Y.shape and predicted.dtype == np.int64
    assert set(np.unique(predicted)) <= {0, 1}
    proba = clf.predict_proba(layout(X))
    assert proba.shape == Y.shape
    # Independent sigmoids: rows do not sum to 1, and predict is proba > 0.5.
    assert np.abs(proba.sum(axis=1) - 1).max() > 0.1
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(layout(X))), proba, rtol=1e-12)
    # It learns: each label is right far more often than the majority guess.
    majority = np.maximum(Y.mean(axis=0), 1 - Y.mean(axis=0))
    assert ((predicted == Y).mean(axis=0) > majority + 0.05).all()
    assert clf.score(layout(X), Y) == accuracy_score(Y, predicted)


def test_loss_is_binary_cross_entropy_per_label(labels):
    X, Y = labels
    clf = MLPClassifier(hidden_layer_sizes=(8,), **{**FAST, "max_epochs": 2}).fit(X, Y)
    # An untrained sigmoid output starts near log(2) = 0.69 per label; softmax over 3
    # would start near log(3) = 1.10.
    assert 0.5 < clf.history_["train_loss"].iloc[0] < 0.8


def test_sparse_indicator_matrix_and_lists_are_accepted(labels):
    X, Y = labels
    dense = MLPClassifier(hidden_layer_sizes=(8,), **FAST).fit(X, Y)
    for y in (sp.csr_matrix(Y), Y.tolist()):
        other = MLPClassifier(hidden_layer_sizes=(8,), **FAST).fit(X, y)
        np.testing.assert_array_equal(other.predict_proba(X), dense.predict_proba(X))


def test_sample_weight_and_early_stopping(labels):
    X, Y = labels
    weights = np.where(Y[:, 0] == 1, 5.0, 1.0)
    plain = MLPClassifier(hidden_layer_sizes=(8,), **FAST).fit(X, Y)
    weighted = MLPClassifier(hidden_layer_sizes=(8,), **FAST).fit(X, Y, sample_weight=weights)
    assert weighted.predict_proba(X)[:, 0].mean() > plain.predict_proba(X)[:, 0].mean() + 0.02
    stopped = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, **FAST).fit(X, Y)
    assert {"valid_loss", "valid_accuracy"} <= set(stopped.history_)
    assert stopped.best_epoch_ == stopped.history_["valid_loss"].idxmin()


def test_partial_fit_needs_no_classes_for_indicator_y(labels):
    X, Y = labels
    clf = MLPClassifier(hidden_layer_sizes=(8,), **FAST)
    clf.partial_fit(X, Y)
    clf.partial_fit(X, Y, classes=[0, 1, 2])
    assert clf.n_epochs_ == 2 and clf.predict(X).shape == Y.shape
    with pytest.raises(ValueError, match="classes has 2 entries but the multi-label y has 3"):
        MLPClassifier(**FAST).partial_fit(X, Y, classes=[0, 1])


def test_mismatched_targets_are_rejected(labels):
    X, Y = labels
    clf = MLPClassifier(hidden_layer_sizes=(8,), **FAST).partial_fit(X, Y)
    with pytest.raises(ValueError, match="multi-label matrix of 2 columns, but the model was"):
        clf.partial_fit(X, Y[:, :2])
    with pytest.raises(ValueError, match="one label per row, but the model was fitted on a"):
        clf.partial_fit(X, Y[:, 0])
    single = MLPClassifier(hidden_layer_sizes=(8,), **FAST).partial_fit(X, Y[:, 0], classes=[0, 1])
    with pytest.raises(ValueError, match=r"fitted on one label per row \(not multi-label\)"):
        single.partial_fit(X, Y)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.array([[0, 2], [2, 0]] * 10), "holds values other than 0 and 1"),
        (np.array([[-1, 1], [1, -1]] * 10), "holds values other than 0 and 1"),
        (np.array([[0, 2, 1], [1, 0, 3]] * 10), "multiclass-multioutput"),
    ],
)
def test_other_2d_targets_are_rejected(y, message):
    X = np.random.default_rng(0).normal(size=(len(y), 3))
    with pytest.raises(ValueError, match=message):
        MLPClassifier(**FAST).fit(X, y)


def test_class_weight_is_rejected_with_a_pointer_to_sample_weight(labels):
    X, Y = labels
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported with multi"):
        MLPClassifier(class_weight="balanced", **FAST).fit(X, Y)


def test_a_column_vector_is_one_label_per_row(labels):
    X, Y = labels
    with pytest.warns(DataConversionWarning):
        column = MLPClassifier(hidden_layer_sizes=(8,), **FAST).fit(X, Y[:, :1])
    flat = MLPClassifier(hidden_layer_sizes=(8,), **FAST).fit(X, Y[:, 0])
    assert column.predict(X).shape == (len(X),)
    np.testing.assert_array_equal(column.predict_proba(X), flat.predict_proba(X))
