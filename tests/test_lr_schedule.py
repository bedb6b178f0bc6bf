"""``lr_schedule``: constant, reduce on plateau, cosine or your own function of the epoch."""

import numpy as np
import pytest

from sknets import MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (16,), "lr": 0.01, "random_state": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:400], y[:400]


def test_plateau_divides_the_rate_by_5_before_the_fit_converges(data):
    # tol=10: no epoch improves on the first, so both counters run from epoch 2.
    # n_iter_no_change=4 -> patience 2: epochs 2, 3, 4 fail, the rate drops for epoch 5;
    # epochs 2-6 fail: the fit stops after epoch 6 (count 5 > 4).
    clf = MLPClassifier(lr_schedule="plateau", tol=10.0, n_iter_no_change=4, max_epochs=50, **FAST)
    clf.fit(*data)
    assert clf.n_epochs_ == 6
    np.testing.assert_allclose(clf.history_["lr"], [0.01] * 4 + [0.002] * 2)


def test_plateau_follows_the_validation_loss_with_early_stopping(data):
    clf = MLPClassifier(
        lr_schedule="plateau",
        early_stopping=True,
        n_iter_no_change=4,
        max_epochs=200,
        **{**FAST, "lr": 0.05},
    ).fit(*data)
    history = clf.history_
    drops = history.index[history["lr"].diff() < 0]
    assert len(drops) >= 1
    first = drops[0]
    # Before the drop, the validation loss had not improved by tol for 3 epochs.
    before = history.loc[: first - 1, "valid_loss"]
    assert before.iloc[-3:].min() > before.iloc[:-3].min() - clf.tol


def test_a_callable_sets_the_rate_of_each_epoch(data):
    clf = MLPClassifier(lr_schedule=lambda epoch: 0.5**epoch, max_epochs=4, **FAST).fit(*data)
    np.testing.assert_allclose(clf.history_["lr"], 0.01 * 0.5 ** np.arange(4))


def test_the_schedule_continues_across_warm_starts_and_partial_fit(data):
    warm = MLPClassifier(lr_schedule=lambda e: 0.5**e, max_epochs=2, warm_start=True, **FAST)
    warm.fit(*data).fit(*data)
    np.testing.assert_allclose(warm.history_["lr"], 0.01 * 0.5 ** np.arange(4))
    # tol=10 again: reduce-on-plateau keeps its count across partial_fit calls.
    partial = MLPClassifier(lr_schedule="plateau", tol=10.0, n_iter_no_change=2, **FAST)
    for _ in range(5):
        partial.partial_fit(*data, classes=np.arange(10))
    np.testing.assert_allclose(partial.history_["lr"], [0.01] * 3 + [0.002] * 2)


def test_cosine_anneals_over_max_epochs(data):
    clf = MLPClassifier(lr_schedule="cosine", max_epochs=5, n_iter_no_change=np.inf, **FAST)
    lr = clf.fit(*data).history_["lr"].to_numpy()
    np.testing.assert_allclose(lr, 0.005 * (1 + np.cos(np.pi * np.arange(5) / 5)))


def test_unknown_schedule_names_the_parameter(data):
    with pytest.raises(ValueError, match="'lr_schedule' parameter of MLPClassifier must be"):
        MLPClassifier(lr_schedule="step", **FAST).fit(*data)
