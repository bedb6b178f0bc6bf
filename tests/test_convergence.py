"""When fits stop: sklearn's tol / n_iter_no_change rule, ConvergenceWarning, no silent NaN."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from skorch.callbacks import Callback

from sknets import CNNClassifier, MLPClassifier, RNNClassifier

FAST = {"hidden_layer_sizes": (16,), "lr": 0.01, "device": "cpu", "random_state": 0}


@pytest.fixture
def blobs():
    X, y = make_blobs(n_samples=120, centers=3, n_features=4, random_state=0)
    return X.astype(np.float32), y


class FixedLosses(Callback):
    """Overwrite the recorded train_loss with a scripted curve, to test the rule exactly."""

    def __init__(self, losses):
        self.losses = losses

    def on_epoch_end(self, net, **kwargs):
        net.history.record("train_loss", self.losses[len(net.history) - 1])


def fit_on_curve(X, y, losses, **params):
    # Callbacks given by the user run before the engine's convergence callback.
    model = MLPClassifier(**FAST, callbacks=[("losses", FixedLosses(losses))], **params)
    return model.fit(X, y)


def test_stops_after_more_than_n_iter_no_change_epochs_without_tol_improvement(blobs):
    X, y = blobs
    # Best 1.0 at epoch 2; epochs 3.. improve by less than tol=0.01 (0.995 > 1.0 - 0.01).
    losses = [2.0, 1.0] + [0.995] * 50
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = fit_on_curve(X, y, losses, tol=0.01, n_iter_no_change=3, max_epochs=50)
    assert model.n_epochs_ == 2 + 4  # sklearn stops when the count exceeds n_iter_no_change
    assert len(model.history_) == 6


def test_an_improvement_of_tol_resets_the_count(blobs):
    X, y = blobs
    losses = [1.0, 0.999, 0.998, 0.95, 0.949, 0.948, 0.947, 0.946] + [0.946] * 20
    model = fit_on_curve(X, y, losses, tol=0.01, n_iter_no_change=2, max_epochs=28)
    assert model.n_epochs_ == 4 + 3


def test_max_epochs_without_convergence_warns(blobs):
    X, y = blobs
    with pytest.warns(ConvergenceWarning, match="max_epochs=5 reached and the train_loss has"):
        model = fit_on_curve(X, y, [1.0 - 0.1 * i for i in range(5)], max_epochs=5)
    assert model.n_epochs_ == 5


def test_n_iter_no_change_inf_trains_every_epoch_without_warning(blobs):
    X, y = blobs
    with warnings.catch_warnings():
        # Every epoch was asked for: reaching max_epochs is no sign of trouble.
        warnings.simplefilter("error", ConvergenceWarning)
        model = fit_on_curve(
            X, y, [1.0 - 0.01 * i for i in range(30)], n_iter_no_change=np.inf, max_epochs=30
        )
    assert model.n_epochs_ == 30


def test_default_fit_stops_when_converged(blobs):
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = MLPClassifier(device="cpu", random_state=0, lr=0.05, tol=1e-2).fit(X, y)
    assert model.n_epochs_ < 100
    loss = model.history_["train_loss"].to_numpy()
    # The last n_iter_no_change + 1 epochs never beat the best before them by tol.
    assert loss[-11:].min() > loss[:-11].min() - 1e-2


def test_early_stopping_monitors_the_validation_loss(blobs):
    X, y = blobs
    model = MLPClassifier(
        **{**FAST, "hidden_layer_sizes": (256, 256)},
        early_stopping=True,
        n_iter_no_change=3,
        max_epochs=300,
    ).fit(X, y)
    valid = model.history_["valid_loss"].to_numpy()
    best_before = np.minimum.accumulate(np.r_[np.inf, valid[:-1]])
    last_tol_improvement = np.flatnonzero(valid <= best_before - model.tol)[-1] + 1
    assert model.n_epochs_ == last_tol_improvement + 4 < 300
    # The weights kept are those of the lowest validation loss, improving by tol or not.
    assert model.best_epoch_ == valid.argmin() + 1


def test_partial_fit_never_stops_or_warns(blobs):
    X, y = blobs
    model = MLPClassifier(**FAST, n_iter_no_change=1, tol=10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for _ in range(5):
            model.partial_fit(X, y, classes=[0, 1, 2])
    assert model.n_epochs_ == 5


def test_warm_start_fits_each_apply_the_rule(blobs):
    X, y = blobs
    model = MLPClassifier(**FAST, warm_start=True, tol=100.0, n_iter_no_change=1)
    model.fit(X, y)
    # Epoch 1 sets the best; epochs 2 and 3 miss it by tol=100, and the second miss stops.
    assert model.n_epochs_ == 3
    model.fit(X, y)
    assert model.n_epochs_ == 6


@pytest.mark.parametrize(
    "estimator, shape",
    [(MLPClassifier, (6,)), (CNNClassifier, (1, 2, 3)), (RNNClassifier, (3, 2))],
)
def test_values_beyond_float32_are_rejected_with_their_place(estimator, shape):
    X = np.random.default_rng(0).normal(size=(20, *shape))
    X.reshape(20, -1)[3, 4] = 1e300
    X.reshape(20, -1)[7, 4] = -1e39
    y = np.arange(20) % 2
    message = (
        r"X contains 2 values beyond the float32 range \(\|x\| > 3.4e\+38\).* in rows "
        r"\[3, 7\] and features \[4\]"
    )
    with pytest.raises(ValueError, match=message):
        estimator(device="cpu", max_epochs=1).fit(X, y)


def test_a_loss_that_becomes_nan_raises_and_leaves_the_model_unfitted(blobs):
    X, y = blobs
    model = MLPClassifier(**{**FAST, "lr": 1e30}, optimizer="sgd", max_epochs=20)
    with pytest.raises(ValueError, match="training loss became (nan|inf) at epoch .*lower"):
        model.fit(X * 1e20, y)
    with pytest.raises(NotFittedError):
        model.predict(X)
