"""MLPClassifier: the estimator contract, through the shared base it exercises."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from torch import nn

from sknets import MLPClassifier

# device="cpu": "auto" would pick a GPU where there is one, and these tests compare seeded
# fits bit for bit and predictions to float64 precision, which only the CPU path promises.
FAST = {
    "hidden_layer_sizes": (16,),
    "max_epochs": 15,
    "lr": 0.01,
    "random_state": 0,
    "device": "cpu",
}
# A large net on few noisy rows: the validation loss turns up after a few epochs.
OVERFITTING = {
    "hidden_layer_sizes": (256, 256),
    "lr": 0.01,
    "max_epochs": 200,
    "early_stopping": True,
    "random_state": 0,
    "device": "cpu",
}


@pytest.fixture
def blobs():
    X, y = make_blobs(n_samples=120, centers=3, n_features=4, random_state=0)
    return X.astype(np.float32), y


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "emu"]),
        np.array([3, 7, 11]),
        np.array([-1.0, 0.0, 5.0]),
    ],
    ids=["strings", "non-contiguous-ints", "integral-floats"],
)
def test_any_label_type_round_trips(blobs, labels):
    X, y = blobs
    clf = MLPClassifier(**FAST).fit(X, labels[y])
    assert list(clf.classes_) == sorted(labels)
    predictions = clf.predict(X)
    assert set(predictions) <= set(labels)
    assert np.mean(predictions == labels[y]) > 0.9


def test_boolean_labels_binary(blobs):
    X, y = blobs
    y_bool = y == 1
    clf = MLPClassifier(**FAST).fit(X, y_bool)
    np.testing.assert_array_equal(clf.classes_, [False, True])
    assert clf.predict(X).dtype == bool
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, y_bool) > 0.9


def test_predict_matches_argmax_of_proba_and_log_proba(blobs):
    X, y = blobs
    clf = MLPClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    log_proba = clf.predict_log_proba(X)
    assert log_proba.shape == proba.shape and log_proba.dtype == np.float64
    # Both come from the same float64 logits; softmax then log rounds at ~1e-16 of each
    # probability, an absolute error of that size on its log: 1e-12 leaves a 1e4 margin.
    np.testing.assert_allclose(log_proba, np.log(proba), rtol=0, atol=1e-12)


def test_log_proba_stays_finite_where_proba_underflows(blobs):
    X, y = blobs
    clf = MLPClassifier(**FAST).fit(X, y)
    far = X * 1e3  # ReLU logits grow with the input: gaps of thousands underflow exp()
    proba = clf.predict_proba(far)
    assert (proba == 0).any()  # guard: the naive log(predict_proba) would be -inf here
    log_proba = clf.predict_log_proba(far)
    assert np.isfinite(log_proba).all()
    np.testing.assert_array_equal(log_proba.argmax(axis=1), proba.argmax(axis=1))


def test_pandas_input_sets_feature_names(blobs):
    X, y = blobs
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = MLPClassifier(**FAST).fit(frame, pd.Series(y))
    assert clf.n_features_in_ == 4
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X)


@pytest.mark.parametrize("convert", [lambda X: X.tolist(), lambda X: X.astype(np.float64)])
def test_list_and_float64_input_give_the_same_model(blobs, convert):
    X, y = blobs
    reference = MLPClassifier(**FAST).fit(X, y).predict_proba(X)
    converted = MLPClassifier(**FAST).fit(convert(X), y).predict_proba(convert(X))
    np.testing.assert_allclose(converted, reference, rtol=1e-5)


def test_integer_input(blobs):
    X, y = blobs
    clf = MLPClassifier(**FAST).fit(np.round(X).astype(np.int64), y)
    assert clf.score(np.round(X).astype(np.int64), y) > 0.8


def test_perceptron_is_a_single_linear_layer():
    X, y = make_classification(n_samples=200, n_features=5, n_informative=3, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(), max_epochs=40, lr=0.05, random_state=0).fit(X, y)
    linear_layers = [layer for layer in clf.module_.modules() if isinstance(layer, nn.Linear)]
    assert len(linear_layers) == 1
    assert linear_layers[0].in_features == 5 and linear_layers[0].out_features == 2
    # A perceptron is logistic regression: it matches sklearn's on the same data.
    assert clf.score(X, y) >= LogisticRegression().fit(X, y).score(X, y) - 0.03


def test_same_random_state_same_predictions_and_global_rng_untouched(blobs):
    X, y = blobs
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    seeded = {**FAST, "dropout": 0.2}
    first = MLPClassifier(**seeded).fit(X, y).predict_proba(X)
    assert torch.rand(1) == expected_next  # fit ran inside a forked RNG
    second = MLPClassifier(**seeded).fit(X, y).predict_proba(X)
    other = MLPClassifier(**{**seeded, "random_state": 1}).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    # Only the seed differs: initial weights, shuffling and dropout masks all change.
    assert np.abs(first - other).max() > 1e-3


def test_history_without_validation(blobs):
    X, y = blobs
    clf = MLPClassifier(**FAST).fit(X, y)
    assert list(clf.history_.columns) == ["train_loss", "lr", "duration"]
    assert list(clf.history_.index) == list(range(1, 16))
    assert clf.n_epochs_ == 15 and clf.best_epoch_ == 15
    assert clf.history_["train_loss"].iloc[-1] < clf.history_["train_loss"].iloc[0]


def test_history_with_validation_fraction(blobs):
    X, y = blobs
    clf = MLPClassifier(**FAST, validation_fraction=0.25).fit(X, y)
    assert set(clf.history_.columns) == {
        "train_loss",
        "valid_loss",
        "valid_accuracy",
        "lr",
        "duration",
    }
    assert clf.history_["valid_accuracy"].between(0, 1).all()
    assert clf.best_epoch_ == clf.history_["valid_loss"].idxmin()


class BatchTargets(Callback):
    """Record the targets of every training and every validation batch."""

    def initialize(self):
        self.training_ = []
        self.validation_ = []
        return self

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        targets = batch[1][0] if isinstance(batch[1], tuple) else batch[1]
        (self.training_ if training else self.validation_).append(targets.numpy())


def test_early_stopping_holds_out_ten_percent_by_default(blobs):
    X, y = blobs  # 120 rows, 40 of each class
    clf = MLPClassifier(**FAST, early_stopping=True, callbacks=[("targets", BatchTargets())])
    clf.fit(X, y)
    seen = dict(clf.net_.callbacks_)["targets"]
    assert len(seen.validation_) == clf.n_epochs_  # one validation batch per epoch
    for validation, training in zip(seen.validation_, seen.training_):
        # validation_fraction=None: 10 %, 12 rows, stratified to 4 of each class.
        np.testing.assert_array_equal(np.bincount(validation), [4, 4, 4])
        assert len(training) == 108
    without = MLPClassifier(**FAST, callbacks=[("targets", BatchTargets())]).fit(X, y)
    assert dict(without.net_.callbacks_)["targets"].validation_ == []


def test_early_stopping_stops_and_restores_best_weights():
    class SnapshotWeights(Callback):
        def initialize(self):
            self.snapshots_ = {}
            return self

        def on_epoch_end(self, net, **kwargs):
            epoch = net.history[-1, "epoch"]
            self.snapshots_[epoch] = {
                name: value.clone() for name, value in net.module_.state_dict().items()
            }

    X, y = make_classification(
        n_samples=80, n_features=20, n_informative=2, flip_y=0.3, random_state=0
    )
    clf = MLPClassifier(
        **OVERFITTING,
        validation_fraction=0.3,
        n_iter_no_change=5,
        callbacks=[("snapshots", SnapshotWeights())],
    ).fit(X, y)
    assert clf.n_epochs_ < 200
    # sklearn's rule: the 6th epoch in a row without improvement stops the fit.
    assert clf.n_epochs_ == clf.best_epoch_ + 6
    snapshot = dict(clf.net_.callbacks_)["snapshots"].snapshots_[clf.best_epoch_]
    for name, value in clf.module_.state_dict().items():
        torch.testing.assert_close(value, snapshot[name])


def test_warm_start_continues_training(blobs):
    X, y = blobs
    clf = MLPClassifier(**{**FAST, "max_epochs": 3}, warm_start=True).fit(X, y)
    weights_after_first = clf.module_.layers[0].weight.detach().clone()
    clf.fit(X, y)
    assert clf.n_epochs_ == 6
    assert list(clf.history_.index) == list(range(1, 7))
    assert not torch.equal(weights_after_first, clf.module_.layers[0].weight)
    cold = MLPClassifier(**{**FAST, "max_epochs": 3}).fit(X, y).fit(X, y)
    assert cold.n_epochs_ == 3


def test_partial_fit_trains_exactly_one_epoch_per_call(blobs):
    X, y = blobs
    clf = MLPClassifier(**FAST)
    clf.partial_fit(X[:60], y[:60], classes=[0, 1, 2])
    assert clf.n_epochs_ == 1
    for expected in (2, 3):
        clf.partial_fit(X[60:], y[60:])
        assert clf.n_epochs_ == expected
    assert len(clf.history_) == 3
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])


def test_partial_fit_with_early_stopping_trains_without_a_holdout(blobs):
    X, y = blobs
    clf = MLPClassifier(**FAST, early_stopping=True)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.n_epochs_ == 3
    assert "valid_loss" not in clf.history_


def test_partial_fit_sample_weight(blobs):
    X, y = blobs
    weights = np.ones(len(y))
    weights[::3] = 0

    def three_epochs(X_train, y_train, sample_weight=None):
        clf = full_batch()
        for _ in range(3):
            clf.partial_fit(X_train, y_train, classes=[0, 1, 2], sample_weight=sample_weight)
        return clf.predict_proba(X)

    weighted = three_epochs(X, y, weights)
    dropped = three_epochs(X[weights > 0], y[weights > 0])
    # One full batch per call: sum(w * loss) / sum(w) with zero weights is the mean loss of
    # the kept rows up to float32 summation order (~1e-7 relative), and three Adam steps
    # keep errors of that size (measured: at most 2e-7 relative over seeds 0-3).
    np.testing.assert_allclose(weighted, dropped, rtol=1e-5, atol=0)
    unweighted = three_epochs(X, y)
    assert np.abs(weighted - unweighted).max() > 1e-3  # 5e-3 to 6e-2 measured


def test_partial_fit_errors(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifier(**FAST).partial_fit(X, y)
    with pytest.raises(ValueError, match="not in classes=\\[0, 1\\]"):
        MLPClassifier(**FAST).partial_fit(X, y, classes=[0, 1])
    clf = MLPClassifier(**FAST).partial_fit(X[y < 2], y[y < 2], classes=[0, 1])
    with pytest.raises(ValueError, match="labels \\[2\\] not seen in the first fit"):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported"):
        MLPClassifier(**FAST, class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def full_batch(**params):
    return MLPClassifier(**{**FAST, "batch_size": 1024, **params})


def test_zero_sample_weight_equals_dropping_rows(blobs):
    X, y = blobs
    weights = np.ones(len(y))
    weights[::3] = 0
    weighted = full_batch().fit(X, y, sample_weight=weights).predict_proba(X)
    dropped = full_batch().fit(X[weights > 0], y[weights > 0]).predict_proba(X)
    np.testing.assert_allclose(weighted, dropped, rtol=1e-4, atol=1e-6)


def test_integer_sample_weight_equals_repeating_rows(blobs):
    X, y = blobs
    weights = np.where(np.arange(len(y)) % 4 == 0, 2, 1)
    weighted = full_batch().fit(X, y, sample_weight=weights).predict_proba(X)
    repeated = full_batch().fit(np.repeat(X, weights, 0), np.repeat(y, weights)).predict_proba(X)
    np.testing.assert_allclose(weighted, repeated, rtol=1e-4, atol=1e-6)


def test_class_weight_moves_decisions_towards_the_weighted_class():
    X, y = make_classification(
        n_samples=300, n_features=4, weights=[0.8, 0.2], class_sep=0.5, random_state=0
    )
    plain = MLPClassifier(**FAST).fit(X, y).predict(X)
    balanced = MLPClassifier(**FAST, class_weight="balanced").fit(X, y).predict(X)
    favour_one = MLPClassifier(**FAST, class_weight={0: 1, 1: 20}).fit(X, y).predict(X)
    assert (balanced == 1).sum() > (plain == 1).sum()
    assert (favour_one == 1).sum() > (balanced == 1).sum()


def test_class_weight_dict_keyed_by_string_labels(blobs):
    X, y = blobs
    labels = np.array(["a", "b", "c"])[y]
    clf = MLPClassifier(**FAST, class_weight={"a": 10.0, "b": 1.0, "c": 1.0}).fit(X, labels)
    assert clf.score(X, labels) > 0.8


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "rmsprop", torch.optim.Adagrad])
def test_each_optimizer_learns(blobs, optimizer):
    X, y = blobs
    clf = MLPClassifier(**FAST, optimizer=optimizer, weight_decay=1e-4).fit(X, y)
    assert isinstance(clf.net_.optimizer_, torch.optim.Optimizer)
    assert clf.net_.optimizer_.param_groups[0]["weight_decay"] == 1e-4
    assert clf.score(X, y) > 0.9


def test_sgd_uses_nesterov_momentum(blobs):
    X, y = blobs
    clf = MLPClassifier(**FAST, optimizer="sgd").fit(X, y)
    group = clf.net_.optimizer_.param_groups[0]
    assert group["momentum"] == 0.9 and group["nesterov"] is True


class GradientEvaluations(Callback):
    """Count the gradients computed and the training batches: LBFGS evaluates several per step."""

    def initialize(self):
        self.gradients_ = 0
        self.batches_ = 0
        return self

    def on_grad_computed(self, net, **kwargs):
        self.gradients_ += 1

    def on_batch_end(self, net, training=False, **kwargs):
        self.batches_ += bool(training)


def test_lbfgs_learns_with_its_closure(blobs):
    X, y = blobs
    clf = MLPClassifier(
        **{**FAST, "lr": 0.1, "max_epochs": 5},
        optimizer=torch.optim.LBFGS,
        callbacks=[("evaluations", GradientEvaluations())],
    ).fit(X, y)
    assert isinstance(clf.net_.optimizer_, torch.optim.LBFGS)
    counted = dict(clf.net_.callbacks_)["evaluations"]
    # Up to max_iter=20 loss and gradient evaluations per step (100 for the 5 steps here);
    # any first-order optimizer computes exactly one.
    assert counted.batches_ == 5 and counted.gradients_ >= 2 * counted.batches_
    assert clf.score(X, y) > 0.95


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "gelu", "elu"])
def test_each_activation_builds_and_learns(blobs, activation):
    X, y = blobs
    clf = MLPClassifier(**{**FAST, "max_epochs": 30}, activation=activation).fit(X, y)
    assert clf.score(X, y) > 0.85


def test_batch_norm_and_dropout_with_a_one_row_last_batch(blobs):
    X, y = blobs
    # 121 rows with batch_size 30: the last batch would hold one row, which BatchNorm rejects.
    X, y = np.vstack([X, X[:1]]), np.append(y, y[0])
    clf = MLPClassifier(**FAST, batch_size=30, batch_norm=True, dropout=0.3).fit(X, y)
    assert any(isinstance(layer, nn.BatchNorm1d) for layer in clf.module_.modules())
    assert clf.score(X, y) > 0.85


def test_mixed_precision_trains_in_bfloat16_on_cpu(blobs):
    X, y = blobs
    clf = MLPClassifier(**FAST, mixed_precision=True)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    trained_dtypes = set()

    def record(layer, inputs, output):
        if layer.training:
            trained_dtypes.add(output.dtype)

    handles = [layer.register_forward_hook(record) for layer in clf.module_.layers]
    clf.partial_fit(X, y)
    for handle in handles:
        handle.remove()
    # Under CPU autocast the Linear layers compute in bfloat16 (ReLU keeps their dtype).
    assert trained_dtypes == {torch.bfloat16}
    mixed = MLPClassifier(**FAST, mixed_precision=True).fit(X, y)
    plain = MLPClassifier(**FAST).fit(X, y)
    # Without autocast the two fits would be the same float32 computation, bit for bit;
    # bfloat16 training moved the probabilities by 3.6e-4 to 2e-3 over seeds 0-3.
    assert np.abs(mixed.predict_proba(X) - plain.predict_proba(X)).max() > 1e-4
    assert mixed.predict_proba(X).dtype == np.float64
    assert mixed.score(X, y) > 0.85


def test_pickle_round_trip_and_clone(blobs):
    X, y = blobs
    clf = MLPClassifier(**FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    unfitted = clone(clf)
    assert not hasattr(unfitted, "net_")
    assert unfitted.get_params() == clf.get_params()


def test_pipeline_cross_validate_grid_search_and_report(blobs):
    X, y = blobs
    pipeline = make_pipeline(StandardScaler(), MLPClassifier(**FAST))
    results = cross_validate(pipeline, X, y, cv=3, scoring=["accuracy", "f1_macro"])
    assert results["test_accuracy"].mean() > 0.85
    search = GridSearchCV(pipeline, {"mlpclassifier__hidden_layer_sizes": [(8,), (16,)]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["mlpclassifier__hidden_layer_sizes"] in [(8,), (16,)]
    report = classification_report(y, search.predict(X), output_dict=True)
    assert report["accuracy"] > 0.85


def test_verbose_levels(blobs, capsys):
    X, y = blobs
    MLPClassifier(**{**FAST, "max_epochs": 2}).fit(X, y)
    assert capsys.readouterr().out == ""
    MLPClassifier(**{**FAST, "max_epochs": 2}, verbose=1, validation_fraction=0.2).fit(X, y)
    table = capsys.readouterr().out
    assert "train_loss" in table and "valid_loss" in table and "valid_accuracy" in table
    assert len([line for line in table.splitlines() if line.strip()[:1].isdigit()]) == 2
    clf = MLPClassifier(**{**FAST, "max_epochs": 2}, verbose=2).fit(X, y)
    assert "progress_bar" in dict(clf.net_.callbacks_)
    assert "train_loss" in capsys.readouterr().out


def test_early_stopping_message_in_verbose_mode(capsys):
    X, y = make_classification(n_samples=80, n_features=20, flip_y=0.3, random_state=0)
    MLPClassifier(**OVERFITTING, n_iter_no_change=3, verbose=1).fit(X, y)
    assert "Stopping since valid_loss has not improved by at least tol=0.0001 in the last 4" in (
        capsys.readouterr().out
    )
