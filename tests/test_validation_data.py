"""``fit(X, y, X_val=, y_val=, sample_weight_val=)``: your own validation set.

Names as in sklearn's HistGradientBoosting. The validation set feeds ``valid_loss`` and
``valid_accuracy`` in ``history_`` and, with ``early_stopping=True``, decides when to stop
and which weights to keep; every training row is trained on.
"""

import numpy as np
import pytest
import sklearn
from sklearn.metrics import accuracy_score, log_loss
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from sknets import CNNClassifier, MLPClassifier, RNNClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"max_epochs": 6, "lr": 0.01, "random_state": 0, "device": "cpu", "batch_size": 64}

# valid_loss is the mean float32 loss of the training-mode network in eval mode; the
# check recomputes it from float64 predictions of the same weights: they agree to float32
# rounding of a few hundred summed terms, far inside 1e-5 relative.
FLOAT32_LOSS = {"rtol": 1e-5}


class TrainingRows(Callback):
    """Records how many rows each epoch trains and validates on."""

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        valid = 0 if dataset_valid is None else len(dataset_valid)
        net.history.record("rows", (len(dataset_train), valid))


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return X[:1000], y[:1000], X[1000:1300], y[1000:1300]


def test_the_validation_set_is_used_as_given(split):
    X, y, X_val, y_val = split
    clf = MLPClassifier(callbacks=[TrainingRows()], **FAST).fit(X, y, X_val=X_val, y_val=y_val)
    assert set(clf.history_["rows"]) == {(1000, 300)}  # nothing held out of X
    last = clf.history_.iloc[-1]
    np.testing.assert_allclose(
        last["valid_loss"],
        log_loss(y_val, clf.predict_proba(X_val), labels=clf.classes_),
        **FLOAT32_LOSS,
    )
    assert last["valid_accuracy"] == accuracy_score(y_val, clf.predict(X_val))


def test_early_stopping_keeps_the_best_epoch_on_the_validation_set(split):
    X, y, X_val, y_val = split
    params = {**FAST, "max_epochs": 40, "lr": 0.05, "n_iter_no_change": 3}
    clf = MLPClassifier(early_stopping=True, **params).fit(X, y, X_val=X_val, y_val=y_val)
    assert clf.n_epochs_ < 40
    best = clf.history_["valid_loss"].idxmin()
    assert clf.best_epoch_ == best
    restored = log_loss(y_val, clf.predict_proba(X_val), labels=clf.classes_)
    np.testing.assert_allclose(restored, clf.history_["valid_loss"].min(), **FLOAT32_LOSS)


def test_sample_weight_val_weights_the_validation_loss(split):
    X, y, X_val, y_val = split
    weights = np.where(y_val == 3, 10.0, 1.0)
    clf = MLPClassifier(**FAST).fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=weights)
    proba = clf.predict_proba(X_val)
    weighted = log_loss(y_val, proba, sample_weight=weights, labels=clf.classes_)
    np.testing.assert_allclose(clf.history_["valid_loss"].iloc[-1], weighted, **FLOAT32_LOSS)
    assert abs(weighted - log_loss(y_val, proba, labels=clf.classes_)) > 1e-3


def test_class_weights_of_the_training_labels_weight_validation_too(split):
    X, y, X_val, y_val = split
    class_weight = {label: 1.0 for label in range(10)} | {3: 10.0}
    clf = MLPClassifier(class_weight=class_weight, **FAST).fit(X, y, X_val=X_val, y_val=y_val)
    weights = np.where(y_val == 3, 10.0, 1.0)
    weighted = log_loss(y_val, clf.predict_proba(X_val), sample_weight=weights, labels=clf.classes_)
    np.testing.assert_allclose(clf.history_["valid_loss"].iloc[-1], weighted, **FLOAT32_LOSS)


def test_string_labels_and_other_layouts(digits):
    X, y = digits
    names = np.array(list("abcdefghij"))[y]
    cnn = CNNClassifier(channels=(4,), hidden_layer_sizes=(8,), **FAST)
    cnn.fit(
        X[:500].reshape(-1, 1, 8, 8),
        names[:500],
        X_val=X[500:700].reshape(-1, 1, 8, 8),
        y_val=names[500:700],
    )
    assert cnn.history_["valid_accuracy"].iloc[-1] > 0.3
    ragged = [row.reshape(8, 8)[: 4 + i % 5] for i, row in enumerate(X[:700])]
    rnn = RNNClassifier(hidden_size=8, **FAST).fit(
        ragged[:500], y[:500], X_val=ragged[500:], y_val=y[500:700]
    )
    assert rnn.history_["valid_loss"].notna().all()


def test_in_a_pipeline_the_earlier_steps_transform_x_val(split):
    X, y, X_val, y_val = split
    X, X_val = X * 50 + 3, X_val * 50 + 3  # far from standard: the scaler matters
    with sklearn.config_context(enable_metadata_routing=True):
        model = MLPClassifier(**FAST).set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline([("scale", StandardScaler()), ("mlp", model)], transform_input=["X_val"])
        pipe.fit(X, y, X_val=X_val, y_val=y_val)
    proba = pipe.predict_proba(X_val)
    np.testing.assert_allclose(
        pipe[-1].history_["valid_loss"].iloc[-1],
        log_loss(y_val, proba, labels=pipe.classes_),
        **FLOAT32_LOSS,
    )


@pytest.mark.parametrize(
    ("params", "fit_params", "message"),
    [
        ({}, {"X_val": "X"}, "X_val and y_val go together; y_val is missing"),
        ({}, {"y_val": "y"}, "X_val and y_val go together; X_val is missing"),
        ({}, {"sample_weight_val": "w"}, "sample_weight_val was passed without X_val"),
        ({"validation_fraction": 0.2}, {"X_val": "X", "y_val": "y"}, "validation_fraction=0.2"),
        ({}, {"X_val": "X3", "y_val": "y"}, "X has 3 features, but MLPClassifier is expecting 64"),
        ({}, {"X_val": "X", "y_val": "y_unseen"}, r"y_val contains labels \[42\] not seen"),
    ],
)
def test_inconsistent_validation_arguments_raise(split, params, fit_params, message):
    X, y, X_val, y_val = split
    values = {
        "X": X_val,
        "y": y_val,
        "w": np.ones(len(y_val)),
        "X3": X_val[:, :3],
        "y_unseen": np.where(np.arange(len(y_val)) == 0, 42, y_val),
    }
    with pytest.raises(ValueError, match=message):
        MLPClassifier(**FAST, **params).fit(X, y, **{k: values[v] for k, v in fit_params.items()})
