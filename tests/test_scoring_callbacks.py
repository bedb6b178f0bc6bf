"""skorch scoring callbacks with scikit-learn scorer names, recorded in ``history_``.

skorch's ``EpochScoring("f1_macro")`` calls the scorer on the inner net; sknets' net answers
as a classifier of the encoded targets, so every sklearn scorer (label, probability,
multi-label) gets like-for-like inputs, with or without sample weights.
"""

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.metrics import f1_score, log_loss, roc_auc_score
from skorch.callbacks import BatchScoring, EpochScoring

from sknets import CNNClassifier, MLPClassifier

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # f1 of the first epochs, before every row has a predicted label.
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning"),
]

FAST = {"hidden_layer_sizes": (32,), "lr": 0.01, "random_state": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return X[:800], y[:800], X[800:1100], y[800:1100]


def scorers():
    return [
        EpochScoring("f1_macro", lower_is_better=False),
        EpochScoring("neg_log_loss", lower_is_better=False),
        EpochScoring("roc_auc_ovr", lower_is_better=False),
        EpochScoring("accuracy", on_train=True, lower_is_better=False, name="train_acc"),
    ]


@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "sample_weight"])
def test_sklearn_scorer_names_score_the_validation_set(split, weighted):
    X, y, X_val, y_val = split
    fit_params = {"sample_weight": np.linspace(0.5, 2, len(y))} if weighted else {}
    clf = MLPClassifier(max_epochs=4, callbacks=scorers(), **FAST)
    clf.fit(X, y, X_val=X_val, y_val=y_val, **fit_params)
    last = clf.history_.iloc[-1]
    proba = clf.predict_proba(X_val)
    # Training-mode float32 outputs against float64 predictions of the same weights: equal
    # labels (these digits are far from ties) and probabilities to float32 rounding.
    assert last["f1_macro"] == f1_score(y_val, clf.predict(X_val), average="macro")
    np.testing.assert_allclose(last["neg_log_loss"], -log_loss(y_val, proba), rtol=1e-5)
    np.testing.assert_allclose(last["neg_log_loss"], -last["valid_loss"], rtol=1e-5)
    np.testing.assert_allclose(
        last["roc_auc_ovr"], roc_auc_score(y_val, proba, multi_class="ovr"), rtol=1e-5
    )
    assert 0.5 < last["train_acc"] <= 1
    assert {"f1_macro_best", "train_acc_best"} <= set(clf.history_)


def test_string_labels_are_scored_on_their_encoding(split):
    X, y, X_val, y_val = split
    names = np.array(list("abcdefghij"))
    clf = MLPClassifier(
        max_epochs=3, callbacks=[EpochScoring("balanced_accuracy", lower_is_better=False)], **FAST
    ).fit(X, names[y], X_val=X_val, y_val=names[y_val])
    assert clf.history_["balanced_accuracy"].iloc[-1] > 0.5


def test_multilabel_scorers():
    X, Y = make_multilabel_classification(300, 16, n_classes=4, random_state=0)
    clf = MLPClassifier(
        max_epochs=30,
        early_stopping=True,
        callbacks=[EpochScoring("f1_samples", lower_is_better=False)],
        **FAST,
    ).fit(X / X.max(), Y)
    assert clf.history_["f1_samples"].iloc[-1] > 0.5


def test_every_recorded_value_reaches_history(digits):
    X, y = digits
    clf = CNNClassifier(
        channels=(4,),
        hidden_layer_sizes=(8,),
        max_epochs=2,
        early_stopping=True,
        callbacks=[BatchScoring("accuracy", lower_is_better=False, name="batch_acc")],
        random_state=0,
        device="cpu",
    ).fit(X[:300].reshape(-1, 1, 8, 8), y[:300])
    assert list(clf.history_)[:5] == [
        "train_loss",
        "valid_loss",
        "valid_accuracy",
        "lr",
        "duration",
    ]
    assert "batch_acc" in clf.history_ and clf.history_["batch_acc"].between(0, 1).all()
    assert not {"batches", "train_batch_count", "train_loss_best"} & set(clf.history_)
