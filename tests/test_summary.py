"""``summary()``: Keras' model.summary() table of every fitted estimator, made by torchinfo."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from torch import nn

from sknets import (
    CNNClassifier,
    MLPClassifier,
    MLPRegressor,
    NeuralNetClassifier,
    RNNClassifier,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"max_epochs": 1, "random_state": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:100] / 16).astype(np.float32), y[:100]


def _counts(module: nn.Module) -> tuple[int, int]:
    parameters = list(module.parameters())
    return sum(p.numel() for p in parameters), sum(p.numel() for p in parameters if p.requires_grad)


@pytest.mark.parametrize(
    ("make", "layout"),
    [
        (lambda: MLPClassifier((16,), **FAST), "rows"),
        (lambda: MLPRegressor((16,), **FAST), "rows"),
        (lambda: CNNClassifier(channels=(4,), hidden_layer_sizes=(8,), **FAST), "images"),
        (lambda: RNNClassifier(hidden_size=8, **FAST), "sequences"),
        (lambda: RNNClassifier(hidden_size=8, **FAST), "ragged"),
    ],
)
def test_summary_lists_the_layers_shapes_and_parameters(digits, make, layout):
    X, y = digits
    inputs = {
        "rows": X,
        "images": X.reshape(-1, 8, 8),
        "sequences": X.reshape(-1, 8, 8),
        "ragged": [row.reshape(8, 8)[: 3 + i % 5] for i, row in enumerate(X)],
    }[layout]
    model = make()
    model.fit(inputs, X[:, 0] if isinstance(model, MLPRegressor) else y)
    model.module_.train()
    table = model.summary()
    total, trainable = _counts(model.module_)
    assert (table.total_params, table.trainable_params) == (total, trainable)
    text = str(table)
    assert type(model.module_).__name__ in text and "Output Shape" in text
    assert f"Total params: {total:,}" in text
    assert model.module_.training  # the fitted network is left in the mode it was in


def test_summary_shows_frozen_parameters(digits):
    X, y = digits

    class HalfFrozen(nn.Module):
        def __init__(self, n_features_in, n_outputs):
            super().__init__()
            self.body = nn.Linear(n_features_in, 8)
            self.head = nn.Linear(8, n_outputs)
            self.body.requires_grad_(False)

        def forward(self, x):
            return self.head(torch.relu(self.body(x)))

    model = NeuralNetClassifier(HalfFrozen, **FAST).fit(X, y)
    table = model.summary(depth=1)
    assert table.total_params == 64 * 8 + 8 + 8 * 10 + 10
    assert table.trainable_params == 8 * 10 + 10
    assert "Non-trainable params: 520" in str(table)
    assert "False" in str(table)  # the body's row says it does not train


def test_summary_needs_a_fitted_estimator():
    with pytest.raises(NotFittedError):
        MLPClassifier().summary()
