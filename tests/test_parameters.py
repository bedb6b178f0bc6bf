"""Every constructor parameter of every estimator takes effect.

One table per estimator holds, for each name in ``Estimator().get_params()``, a non-default
value and a check that the value reaches the built network (``module_``) or changes what
``fit`` does. The test is parametrized from ``get_params()``, not from the tables, so a new
parameter fails here until it gets an entry.

All fits are tiny (60 rows, a few epochs) and pinned to the CPU: seeded CPU fits are
bit-for-bit reproducible, so a reference fit and a fit that differ only in one parameter
differ only through that parameter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from sklearn.base import is_classifier
from sklearn.datasets import load_digits, make_blobs
from skorch.callbacks import Callback
from torch import nn

from sknets import (
    CNNClassifier,
    CNNRegressor,
    MLPClassifier,
    MLPRegressor,
    RNNClassifier,
    RNNRegressor,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = (
    MLPClassifier,
    CNNClassifier,
    RNNClassifier,
    MLPRegressor,
    CNNRegressor,
    RNNRegressor,
)

# Settings of every fit here (the reference and the one with the tested value), so that a
# fit takes a few milliseconds. device="cpu": the exact equalities below assume CPU kernels.
BASE = {
    MLPClassifier: {"hidden_layer_sizes": (8,), "max_epochs": 3, "lr": 0.01},
    CNNClassifier: {"channels": (4,), "hidden_layer_sizes": (8,), "max_epochs": 3, "lr": 0.01},
    RNNClassifier: {"hidden_size": 8, "max_epochs": 3, "lr": 0.01},
}
# The regressors train the same architectures on the same data, the labels read as numbers.
BASE |= {MLPRegressor: BASE[MLPClassifier], CNNRegressor: BASE[CNNClassifier]}
BASE |= {RNNRegressor: BASE[RNNClassifier]}
SHARED_BASE = {"random_state": 0, "device": "cpu"}

# Smallest change of the probabilities that counts as an effect. The fits compared are seeded
# CPU fits, which the same settings reproduce bit for bit (check_random_state asserts it), so
# an ignored parameter changes nothing at all; the effects measured here are 4e-4 or more.
REAL_CHANGE = 1e-4


# ---------------------------------------------------------------------------- data
@functools.cache
def dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Tiny data sets, 60 rows each, by the name a table entry asks for."""
    rng = np.random.default_rng(0)
    if name == "blobs":  # MLP: 4 features, 3 classes
        X, y = make_blobs(n_samples=60, centers=3, n_features=4, random_state=0)
        return X.astype(np.float32), y
    if name in ("images", "image_rows"):  # CNN: 8x8 digits, 10 classes
        X, y = load_digits(return_X_y=True)
        X = (X[:60] / 16).astype(np.float32)
        return (X if name == "image_rows" else X.reshape(-1, 1, 8, 8)), y[:60]
    if name == "colour_channels_last":  # CNN: (n, height 6, width 5, 3 channels)
        X = rng.random((60, 6, 5, 3), dtype=np.float32)
        return X, X.mean(axis=(1, 2)).argmax(axis=1)
    if name in ("sequences", "sequence_rows"):  # RNN: 6 steps of 2 features, 2 classes
        X = rng.normal(size=(60, 6, 2)).astype(np.float32)
        y = (X[:, 0, 0] > 0).astype(int)
        return (X.reshape(60, -1) if name == "sequence_rows" else X), y
    if name == "tokens":  # RNN: token ids 2..9 in rows of 6
        X = rng.integers(2, 10, size=(60, 6))
        return X, (X[:, 0] > 5).astype(int)
    raise KeyError(name)


DEFAULT_DATA = {MLPClassifier: "blobs", CNNClassifier: "images", RNNClassifier: "sequences"}
DEFAULT_DATA |= {MLPRegressor: "blobs", CNNRegressor: "images", RNNRegressor: "sequences"}


# ------------------------------------------------------------------------ the cases
@dataclass(frozen=True)
class Case:
    """A non-default ``value`` and ``check(trial)``, which fails if the value had no effect.

    ``params`` are set in both the reference fit and the fit with ``value`` (e.g. the
    ``num_layers=2`` without which an RNN's ``dropout`` does nothing); ``data`` names the
    data set when the estimator's usual one cannot show the effect.
    """

    value: object
    check: Callable[[Trial], None]
    params: dict = field(default_factory=dict)
    data: str | None = None


class Trial:
    """One parameter under test: builds and fits the estimators a check compares."""

    def __init__(self, estimator, name, case, capsys, monkeypatch):
        self.estimator, self.name, self.case = estimator, name, case
        self.capsys, self.monkeypatch = capsys, monkeypatch
        self.X, self.y = dataset(case.data or DEFAULT_DATA[estimator])
        # Network outputs: one per class (a 2-way softmax for 2), one for a regressor.
        self.n_outputs = len(np.unique(self.y)) if is_classifier(estimator()) else 1

    def make(self, **params):
        """The estimator with the shared settings, the case's ``params`` and ``params``."""
        base = {**SHARED_BASE, **BASE[self.estimator], **self.case.params}
        return self.estimator(**{**base, **params})

    @functools.cached_property
    def changed(self):
        """Fitted with the tested value."""
        return self.make(**{self.name: self.case.value}).fit(self.X, self.y)

    @functools.cached_property
    def reference(self):
        """Fitted without it (the shared settings otherwise: default or ``BASE`` value)."""
        return self.make().fit(self.X, self.y)


def layers(clf, kind, part=None) -> list[nn.Module]:
    """Layers of type ``kind`` in ``clf.module_`` (or in its sub-module ``part``)."""
    module = clf.module_ if part is None else getattr(clf.module_, part)
    return [layer for layer in module.modules() if isinstance(layer, kind)]


def linear_widths(clf, part=None) -> list[tuple[int, int]]:
    return [(layer.in_features, layer.out_features) for layer in layers(clf, nn.Linear, part)]


def predictions(fitted, X) -> np.ndarray:
    """Class probabilities of a classifier, predictions of a regressor."""
    return fitted.predict_proba(X) if is_classifier(fitted) else fitted.predict(X)


def assert_predictions_differ(first, second, X):
    change = np.abs(predictions(first, X) - predictions(second, X)).max()
    assert change > REAL_CHANGE, f"predictions moved by only {change:.2g}"


def callback(clf, name):
    return dict(clf.net_.callbacks_)[name]


class BatchRows(Callback):
    """Record ``(training, rows)`` of every batch, to count batch sizes and held-out rows."""

    def initialize(self):
        self.batches_ = []
        return self

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        targets = batch[1][0] if isinstance(batch[1], tuple) else batch[1]
        self.batches_.append((training, len(targets)))

    def rows(self, *, training: bool) -> list[int]:
        return [rows for is_training, rows in self.batches_ if is_training is training]


class LinearOutputDtypes(Callback):
    """Record the dtypes of every ``nn.Linear`` output computed while the network trains."""

    def initialize(self):
        self.dtypes_ = set()
        self.handles_ = []
        return self

    def on_train_begin(self, net, **kwargs):
        self.handles_ = [
            layer.register_forward_hook(self._record)
            for layer in net.module_.modules()
            if isinstance(layer, nn.Linear)
        ]

    def _record(self, layer, inputs, output):
        if layer.training:
            self.dtypes_.add(output.dtype)

    def on_train_end(self, net, **kwargs):
        for handle in self.handles_:
            handle.remove()
        self.handles_ = []


class EpochsSeen(Callback):
    def initialize(self):
        self.epochs_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_.append(net.history[-1, "epoch"])


class GradientNorms(Callback):
    """Global L2 norm of the gradients each optimizer step used (after any clipping)."""

    def initialize(self):
        self.norms_ = []
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            norms = [p.grad.norm() for p in net.module_.parameters() if p.grad is not None]
            self.norms_.append(torch.stack(norms).norm().item())


class FlipAndCount:
    """Augmentation that mirrors each batch and records the batch shapes it saw."""

    def __init__(self):
        self.shapes = []

    def __call__(self, batch, generator):
        self.shapes.append(tuple(batch.shape))
        return batch.flip(-1)


# ------------------------------------------------------------- shared parameter checks
def check_optimizer(t):  # "sgd"
    assert isinstance(t.reference.net_.optimizer_, torch.optim.Adam)
    optimizer = t.changed.net_.optimizer_
    assert isinstance(optimizer, torch.optim.SGD)
    assert optimizer.param_groups[0]["nesterov"] is True


def check_lr(t):  # 0.05
    assert t.changed.net_.optimizer_.param_groups[0]["lr"] == 0.05
    assert_predictions_differ(t.changed, t.reference, t.X)


def check_weight_decay(t):  # 0.5
    assert t.changed.net_.optimizer_.param_groups[0]["weight_decay"] == 0.5
    assert_predictions_differ(t.changed, t.reference, t.X)


def check_batch_size(t):  # 16
    changed = t.make(batch_size=16, callbacks=[("rows", BatchRows())]).fit(t.X, t.y)
    reference = t.make(callbacks=[("rows", BatchRows())]).fit(t.X, t.y)
    assert callback(changed, "rows").rows(training=True) == [16, 16, 16, 12] * 3
    assert callback(reference, "rows").rows(training=True) == [60] * 3


def check_max_epochs(t):  # 2 (BASE: 3)
    assert t.changed.n_epochs_ == 2 and list(t.changed.history_.index) == [1, 2]
    assert t.reference.n_epochs_ == 3


def check_early_stopping(t):  # True
    changed = t.make(early_stopping=True, callbacks=[("rows", BatchRows())]).fit(t.X, t.y)
    # validation_fraction=None holds out 10 %: 6 of the 60 rows, every epoch.
    assert callback(changed, "rows").rows(training=False) == [6] * changed.n_epochs_
    assert callback(changed, "rows").rows(training=True) == [54] * changed.n_epochs_
    assert "valid_loss" in changed.history_ and "valid_loss" not in t.reference.history_


def check_validation_fraction(t):  # 0.25
    changed = t.make(validation_fraction=0.25, callbacks=[("rows", BatchRows())]).fit(t.X, t.y)
    assert callback(changed, "rows").rows(training=False) == [15] * 3
    assert "valid_loss" in changed.history_
    assert ("valid_accuracy" in changed.history_) == is_classifier(changed)
    assert "valid_loss" not in t.reference.history_


# With tol=10 no epoch after the first improves enough: sklearn's rule stops the fit at the
# (n_iter_no_change + 2)-th epoch, here the 3rd of 6.
def check_n_iter_no_change(t):  # 1, with tol=10
    assert t.changed.n_epochs_ == 3
    assert t.reference.n_epochs_ == 6


def check_tol(t):  # 10, with n_iter_no_change=1
    assert t.changed.n_epochs_ == 3
    # With the default tol=1e-4 every epoch improves: these losses fall faster than that.
    assert t.reference.n_epochs_ == 6


def check_lr_schedule(t):  # "cosine" over max_epochs=3 epochs
    lr = t.changed.history_["lr"].to_numpy()
    np.testing.assert_allclose(lr, 0.01 * (1 + np.cos(np.pi * np.arange(3) / 3)) / 2)
    np.testing.assert_allclose(t.reference.history_["lr"], 0.01)
    assert t.changed.history_["train_loss"].iloc[-1] != t.reference.history_["train_loss"].iloc[-1]


def check_class_weight(t):  # {0: 20}: class 0, the first column, weighs 20 times the others
    changed = t.changed.predict_proba(t.X)[:, 0].mean()
    reference = t.reference.predict_proba(t.X)[:, 0].mean()
    assert changed > reference + 0.01


def check_device(t):  # "cpu", the default being "auto"
    real_cuda = torch.cuda.is_available()
    t.monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    # "cpu" stays on the CPU even where "auto" would pick CUDA.
    assert t.changed.net_.device == "cpu"
    if real_cuda:
        return  # the rest would train on the real GPU: never in the tests
    # "auto" does pick CUDA then: there is none, so its first CUDA call fails...
    with pytest.raises((AssertionError, RuntimeError), match="CUDA|cuda|NVIDIA"):
        t.make(device="auto").fit(t.X, t.y)
    # ...and the CPU when CUDA is not available.
    t.monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert t.make(device="auto").fit(t.X, t.y).net_.device == "cpu"


def check_mixed_precision(t):  # True
    spied = t.make(mixed_precision=True, callbacks=[("dtypes", LinearOutputDtypes())])
    spied.fit(t.X, t.y)
    plain = t.make(callbacks=[("dtypes", LinearOutputDtypes())]).fit(t.X, t.y)
    assert callback(spied, "dtypes").dtypes_ == {torch.bfloat16}
    assert callback(plain, "dtypes").dtypes_ == {torch.float32}
    # bfloat16 keeps 8 bits of mantissa where float32 keeps 24: after the 12 steps of these
    # fits the probabilities are 4e-4 (RNN) to 5e-3 (CNN) away from float32 training, as
    # measured; ignoring the flag would give 0.
    assert_predictions_differ(spied, plain, t.X)
    assert predictions(spied, t.X).dtype == np.float64


def check_random_state(t):  # 1 (BASE: 0)
    again = t.make(random_state=1).fit(t.X, t.y)
    # Same seed, same CPU kernels on the same tensors: every bit is reproduced.
    np.testing.assert_array_equal(predictions(again, t.X), predictions(t.changed, t.X))
    assert_predictions_differ(t.changed, t.reference, t.X)


def check_verbose(t):  # 1
    t.capsys.readouterr()
    t.make().fit(t.X, t.y)
    assert t.capsys.readouterr().out == ""
    t.make(verbose=1).fit(t.X, t.y)
    table = t.capsys.readouterr().out
    assert "train_loss" in table
    assert len([line for line in table.splitlines() if line.strip()[:1].isdigit()]) == 3


def check_callbacks(t):  # [("epochs", EpochsSeen())]
    assert callback(t.changed, "epochs").epochs_ == [1, 2, 3]
    assert "epochs" not in dict(t.reference.net_.callbacks_)


def check_warm_start(t):  # True
    warm = t.make(warm_start=True).fit(t.X, t.y)
    first_weights = [p.detach().clone() for p in warm.module_.parameters()]
    warm.fit(t.X, t.y)
    assert warm.n_epochs_ == 6 and list(warm.history_.index) == [1, 2, 3, 4, 5, 6]
    assert any(not torch.equal(a, b) for a, b in zip(first_weights, warm.module_.parameters()))
    assert t.make().fit(t.X, t.y).fit(t.X, t.y).n_epochs_ == 3


SHARED = {
    "optimizer": Case("sgd", check_optimizer),
    "lr": Case(0.05, check_lr),
    "weight_decay": Case(0.5, check_weight_decay),
    "batch_size": Case(16, check_batch_size),
    "max_epochs": Case(2, check_max_epochs),
    "early_stopping": Case(True, check_early_stopping),
    "validation_fraction": Case(0.25, check_validation_fraction),
    "n_iter_no_change": Case(1, check_n_iter_no_change, {"tol": 10.0, "max_epochs": 6}),
    "tol": Case(10.0, check_tol, {"n_iter_no_change": 1, "max_epochs": 6}),
    "lr_schedule": Case("cosine", check_lr_schedule),
    "class_weight": Case({0: 20.0}, check_class_weight),
    "device": Case("cpu", check_device),
    "mixed_precision": Case(True, check_mixed_precision, {"batch_size": 16}),
    "random_state": Case(1, check_random_state),
    "verbose": Case(1, check_verbose),
    "callbacks": Case([("epochs", EpochsSeen())], check_callbacks),
    "warm_start": Case(True, check_warm_start),
}


# ------------------------------------------------------------------------------ MLP
def check_mlp_hidden_layer_sizes(t):  # (5, 3)
    assert linear_widths(t.changed) == [(4, 5), (5, 3), (3, t.n_outputs)]
    assert linear_widths(t.reference) == [(4, 8), (8, t.n_outputs)]


def check_mlp_activation(t):  # "tanh"
    assert len(layers(t.changed, nn.Tanh)) == 1 and not layers(t.changed, nn.ReLU)
    assert len(layers(t.reference, nn.ReLU)) == 1


def check_mlp_dropout(t):  # 0.3
    assert [layer.p for layer in layers(t.changed, nn.Dropout)] == [0.3]
    assert not layers(t.reference, nn.Dropout)


def check_mlp_batch_norm(t):  # True
    assert [layer.num_features for layer in layers(t.changed, nn.BatchNorm1d)] == [8]
    assert not layers(t.reference, nn.BatchNorm1d)


MLP_TABLE = {
    **SHARED,
    "hidden_layer_sizes": Case((5, 3), check_mlp_hidden_layer_sizes),
    "activation": Case("tanh", check_mlp_activation),
    "dropout": Case(0.3, check_mlp_dropout),
    "batch_norm": Case(True, check_mlp_batch_norm),
}


# ------------------------------------------------------------------------------ CNN
# The reference network: Conv2d(1->4, 3x3, same) -> BatchNorm -> ReLU -> MaxPool(2) on 8x8
# images, flattened to 4 * 4 * 4 = 64 features, then Linear(64->8) -> ReLU -> Linear(8->10).
def head_inputs(clf) -> int:
    return layers(clf, nn.Linear, "head")[0].in_features


def convolutions(clf) -> list[nn.Conv2d]:
    return layers(clf, nn.Conv2d)


def check_cnn_channels(t):  # (3, 5)
    assert [conv.out_channels for conv in convolutions(t.changed)] == [3, 5]
    assert [conv.out_channels for conv in convolutions(t.reference)] == [4]


def check_cnn_kernel_size(t):  # 5
    assert convolutions(t.changed)[0].kernel_size == (5, 5)
    assert convolutions(t.reference)[0].kernel_size == (3, 3)


def check_cnn_stride(t):  # 2: 8x8 -> 4x4 -> pooled 2x2
    assert convolutions(t.changed)[0].stride == (2, 2)
    assert head_inputs(t.changed) == 4 * 2 * 2
    assert head_inputs(t.reference) == 4 * 4 * 4


def check_cnn_padding(t):  # "valid": 8x8 -> 6x6 -> pooled 3x3
    assert convolutions(t.changed)[0].padding == (0, 0)
    assert convolutions(t.reference)[0].padding == (1, 1)
    assert head_inputs(t.changed) == 4 * 3 * 3


def check_cnn_pooling(t):  # "avg"
    assert len(layers(t.changed, nn.AvgPool2d)) == 1 and not layers(t.changed, nn.MaxPool2d)
    assert len(layers(t.reference, nn.MaxPool2d)) == 1


def check_cnn_pool_size(t):  # 3: 8x8 pooled by 3, rounding up, is 3x3
    (pool,) = layers(t.changed, nn.MaxPool2d)
    assert (pool.kernel_size, pool.stride) == (3, 3)
    assert head_inputs(t.changed) == 4 * 3 * 3
    (reference_pool,) = layers(t.reference, nn.MaxPool2d)
    assert reference_pool.kernel_size == 2


def check_cnn_batch_norm(t):  # False (the CNN default is True)
    assert not layers(t.changed, nn.BatchNorm2d)
    assert [layer.num_features for layer in layers(t.reference, nn.BatchNorm2d)] == [4]


def check_cnn_activation(t):  # "tanh", in the block and in the head
    assert len(layers(t.changed, nn.Tanh, "features")) == 1
    assert len(layers(t.changed, nn.Tanh, "head")) == 1
    assert not layers(t.changed, nn.ReLU)
    assert len(layers(t.reference, nn.ReLU)) == 2


def check_cnn_conv_dropout(t):  # 0.25, in the blocks only
    assert [layer.p for layer in layers(t.changed, nn.Dropout, "features")] == [0.25]
    assert not layers(t.changed, nn.Dropout, "head")
    assert not layers(t.reference, nn.Dropout)


def check_cnn_hidden_layer_sizes(t):  # (5, 3)
    assert linear_widths(t.changed, "head") == [(64, 5), (5, 3), (3, t.n_outputs)]
    assert linear_widths(t.reference, "head") == [(64, 8), (8, t.n_outputs)]


def check_cnn_dropout(t):  # 0.4, in the head only
    assert [layer.p for layer in layers(t.changed, nn.Dropout, "head")] == [0.4]
    assert not layers(t.changed, nn.Dropout, "features")
    assert not layers(t.reference, nn.Dropout)


def check_cnn_global_pool(t):  # True: each of the 4 maps averaged to one value
    assert len(layers(t.changed, nn.AdaptiveAvgPool2d)) == 1
    assert head_inputs(t.changed) == 4
    assert not layers(t.reference, nn.AdaptiveAvgPool2d)


def check_cnn_input_shape(t):  # (1, 8, 8), on flat rows of 64 pixels
    assert t.changed.input_shape_ == (1, 8, 8) and convolutions(t.changed)
    # Without it, flat rows are one-channel signals.
    assert t.reference.input_shape_ == (1, 64) and layers(t.reference, nn.Conv1d)


def check_cnn_channels_last(t):  # True, on (n, 6, 5, 3) colour images
    assert t.changed.input_shape_ == (3, 6, 5)
    assert convolutions(t.changed)[0].in_channels == 3
    with pytest.warns(UserWarning, match="pass channels_last=True"):
        reference = t.make().fit(t.X, t.y)
    assert reference.input_shape_ == (6, 5, 3)


def check_cnn_augmentation(t):  # FlipAndCount()
    augment = FlipAndCount()
    augmented = t.make(augmentation=augment).fit(t.X, t.y)
    assert augment.shapes == [(60, 1, 8, 8)] * 3  # one full batch per epoch
    assert_predictions_differ(augmented, t.reference, t.X)


CNN_TABLE = {
    **SHARED,
    "channels": Case((3, 5), check_cnn_channels),
    "kernel_size": Case(5, check_cnn_kernel_size),
    "stride": Case(2, check_cnn_stride),
    "padding": Case("valid", check_cnn_padding),
    "pooling": Case("avg", check_cnn_pooling),
    "pool_size": Case(3, check_cnn_pool_size),
    "batch_norm": Case(False, check_cnn_batch_norm),
    "activation": Case("tanh", check_cnn_activation),
    "conv_dropout": Case(0.25, check_cnn_conv_dropout),
    "hidden_layer_sizes": Case((5, 3), check_cnn_hidden_layer_sizes),
    "dropout": Case(0.4, check_cnn_dropout),
    "global_pool": Case(True, check_cnn_global_pool),
    "input_shape": Case((1, 8, 8), check_cnn_input_shape, data="image_rows"),
    "channels_last": Case(True, check_cnn_channels_last, data="colour_channels_last"),
    "augmentation": Case(FlipAndCount(), check_cnn_augmentation),
}


# ------------------------------------------------------------------------------ RNN
def recurrent(clf) -> nn.RNNBase:
    return clf.module_.recurrent


def check_rnn_cell(t):  # "gru"
    assert isinstance(recurrent(t.changed), nn.GRU)
    assert isinstance(recurrent(t.reference), nn.LSTM)


def check_rnn_hidden_size(t):  # 5
    assert recurrent(t.changed).hidden_size == 5
    assert linear_widths(t.changed, "head") == [(5, t.n_outputs)]
    assert recurrent(t.reference).hidden_size == 8


def check_rnn_num_layers(t):  # 2
    assert recurrent(t.changed).num_layers == 2
    assert recurrent(t.reference).num_layers == 1


def check_rnn_bidirectional(t):  # True: both directions' states feed the head
    assert recurrent(t.changed).bidirectional is True
    assert linear_widths(t.changed, "head") == [(16, t.n_outputs)]
    assert recurrent(t.reference).bidirectional is False


def check_rnn_dropout(t):  # 0.3, with num_layers=2
    assert recurrent(t.changed).dropout == 0.3
    assert recurrent(t.reference).dropout == 0.0
    assert_predictions_differ(t.changed, t.reference, t.X)


def check_rnn_sequence_pooling(t):  # "mean"
    assert t.changed.module_.summary == "mean"
    assert_predictions_differ(t.changed, t.reference, t.X)


def check_rnn_hidden_layer_sizes(t):  # (6,)
    assert linear_widths(t.changed, "head") == [(8, 6), (6, t.n_outputs)]
    assert linear_widths(t.reference, "head") == [(8, t.n_outputs)]


def check_rnn_activation(t):  # "tanh", with hidden_layer_sizes=(6,)
    assert len(layers(t.changed, nn.Tanh, "head")) == 1
    assert not layers(t.changed, nn.ReLU)
    assert len(layers(t.reference, nn.ReLU, "head")) == 1


def check_rnn_head_dropout(t):  # 0.3, with hidden_layer_sizes=(6,)
    assert [layer.p for layer in layers(t.changed, nn.Dropout, "head")] == [0.3]
    assert not layers(t.reference, nn.Dropout)


def check_rnn_vocab_size(t):  # 12, on token ids
    embedding = t.changed.module_.embedding
    assert (embedding.num_embeddings, embedding.padding_idx) == (12, 0)
    # Without it the ids are read as numbers: one feature per step, no embedding.
    assert t.reference.module_.embedding is None
    assert recurrent(t.reference).input_size == 1


def check_rnn_embedding_dim(t):  # 7, with vocab_size=12 on token ids
    assert t.changed.module_.embedding.embedding_dim == 7
    assert recurrent(t.changed).input_size == 7
    assert t.reference.module_.embedding.embedding_dim == 32


def check_rnn_input_shape(t):  # (6, 2), on flat rows of 12 values
    assert recurrent(t.changed).input_size == 2
    assert t.changed.n_features_in_ == 12
    # Without it, a row is a univariate sequence of 12 steps.
    assert recurrent(t.reference).input_size == 1


def check_rnn_clip_grad_norm(t):  # 0.05
    clipped = t.make(clip_grad_norm=0.05, callbacks=[("norms", GradientNorms())])
    plain = t.make(callbacks=[("norms", GradientNorms())])  # "auto": no clipping for LSTM
    clipped_norms = callback(clipped.fit(t.X, t.y), "norms").norms_
    plain_norms = callback(plain.fit(t.X, t.y), "norms").norms_
    # Clipping rescales by 0.05 / (norm + 1e-6): the result is below 0.05 up to float32
    # rounding of the norm (~1e-7 relative), far inside 1e-6.
    assert max(clipped_norms) <= 0.05 + 1e-6
    assert min(plain_norms) > 0.1  # guard: unclipped, every step is well above the bound


RNN_TABLE = {
    **SHARED,
    "cell": Case("gru", check_rnn_cell),
    "hidden_size": Case(5, check_rnn_hidden_size),
    "num_layers": Case(2, check_rnn_num_layers),
    "bidirectional": Case(True, check_rnn_bidirectional),
    "dropout": Case(0.3, check_rnn_dropout, {"num_layers": 2}),
    "sequence_pooling": Case("mean", check_rnn_sequence_pooling),
    "hidden_layer_sizes": Case((6,), check_rnn_hidden_layer_sizes),
    "activation": Case("tanh", check_rnn_activation, {"hidden_layer_sizes": (6,)}),
    "head_dropout": Case(0.3, check_rnn_head_dropout, {"hidden_layer_sizes": (6,)}),
    "vocab_size": Case(12, check_rnn_vocab_size, data="tokens"),
    "embedding_dim": Case(7, check_rnn_embedding_dim, {"vocab_size": 12}, data="tokens"),
    "input_shape": Case((6, 2), check_rnn_input_shape, data="sequence_rows"),
    "clip_grad_norm": Case(0.05, check_rnn_clip_grad_norm),
}


# ------------------------------------------------------------------------ regressors
def check_loss(t):  # "absolute_error"
    assert isinstance(t.changed.net_.criterion_, nn.L1Loss)
    assert isinstance(t.reference.net_.criterion_, nn.MSELoss)
    assert_predictions_differ(t.changed, t.reference, t.X)


def check_huber_delta(t):  # 0.05, with loss="huber"
    assert t.changed.net_.criterion_.delta == 0.05
    assert_predictions_differ(t.changed, t.reference, t.X)


def check_scale_targets(t):  # False
    assert float(t.changed._task.scale[0]) == 1.0 and float(t.changed._task.mean[0]) == 0.0
    np.testing.assert_allclose(float(t.reference._task.mean[0]), np.mean(t.y))
    assert_predictions_differ(t.changed, t.reference, t.X)


REGRESSION = {
    "loss": Case("absolute_error", check_loss),
    "huber_delta": Case(0.05, check_huber_delta, {"loss": "huber"}),
    "scale_targets": Case(False, check_scale_targets),
}
ONLY_CLASSIFIERS = {"class_weight"}


def regressor_table(table: dict) -> dict:
    shared = {name: case for name, case in table.items() if name not in ONLY_CLASSIFIERS}
    return {**shared, **REGRESSION}


TABLES = {MLPClassifier: MLP_TABLE, CNNClassifier: CNN_TABLE, RNNClassifier: RNN_TABLE}
TABLES |= {MLPRegressor: regressor_table(MLP_TABLE), CNNRegressor: regressor_table(CNN_TABLE)}
TABLES |= {RNNRegressor: regressor_table(RNN_TABLE)}


# ---------------------------------------------------------------------------- tests
def _equal(first, second) -> bool:
    try:
        return bool(first == second)
    except (TypeError, ValueError):
        return first is second


@pytest.mark.parametrize(
    ("estimator", "name"),
    [(estimator, name) for estimator in ESTIMATORS for name in sorted(estimator().get_params())],
    ids=lambda value: value.__name__ if isinstance(value, type) else value,
)
def test_parameter_takes_effect(estimator, name, capsys, monkeypatch):
    case = TABLES[estimator].get(name)
    if case is None:
        pytest.fail(
            f"{estimator.__name__}({name}=...) has no entry in {estimator.__name__}'s table in "
            "tests/test_parameters.py: add a non-default value and a check that it takes effect"
        )
    default = estimator().get_params()[name]
    assert not _equal(case.value, default), f"{name}={case.value!r} is the default"
    if name in BASE[estimator]:
        assert not _equal(case.value, BASE[estimator][name])
    case.check(Trial(estimator, name, case, capsys, monkeypatch))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda estimator: estimator.__name__)
def test_tables_hold_only_real_parameters(estimator):
    stale = set(TABLES[estimator]) - set(estimator().get_params())
    assert not stale, f"entries for parameters {estimator.__name__} no longer has: {stale}"
