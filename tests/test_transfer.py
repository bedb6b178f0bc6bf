"""Transfer within sknets: a fitted network's features under a new head (modules.NewHead)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from sknets import CNNClassifier, MLPClassifier, NeuralNetClassifier, RNNClassifier
from sknets.modules import CNN, MLP, RNN, NewHead

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"max_epochs": 3, "random_state": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def digit_halves():
    X, y = load_digits(return_X_y=True)
    images = (X / 16).astype(np.float32).reshape(-1, 1, 8, 8)
    first = y < 5
    return (images[first], y[first]), (images[~first][:200], y[~first][:200] - 5)


@pytest.fixture(scope="module")
def source(digit_halves):
    (X, y), _ = digit_halves
    return CNNClassifier(channels=(8,), hidden_layer_sizes=(16,), **FAST).fit(X, y)


def _state(module):
    return {name: value.detach().clone() for name, value in module.state_dict().items()}


@pytest.mark.parametrize(
    "network",
    [
        MLP(6, 3, hidden_layer_sizes=(5, 4)),
        MLP(6, 3, hidden_layer_sizes=()),
        CNN((1, 8, 8), 3, channels=(4,), hidden_layer_sizes=(7,)),
        RNN(2, 3, hidden_size=5, hidden_layer_sizes=(4,)),
    ],
    ids=["mlp", "perceptron", "cnn", "rnn"],
)
def test_forward_features_is_what_the_head_reads(network):
    network.eval()
    inputs = torch.randn(3, 4, 2) if isinstance(network, RNN) else torch.randn(3, 6)
    if isinstance(network, CNN):
        inputs = torch.randn(3, 1, 8, 8)
    features = network.forward_features(inputs)
    assert features.shape == (3, network.num_features)
    # What stands between the features and the outputs: an MLP's output layer, the whole
    # dense head of a CNN or RNN.
    rest = network.layers[-1] if isinstance(network, MLP) else network.head
    torch.testing.assert_close(rest(features), network(inputs), rtol=0, atol=1e-6)


def test_a_frozen_backbone_is_unchanged_and_only_the_head_trains(source, digit_halves):
    _, (X, y) = digit_halves
    before = _state(source.module_)
    target = NeuralNetClassifier(NewHead, module__network=source.module_, **FAST).fit(X, y)
    backbone = target.module_.backbone
    # Parameters and batch-norm statistics alike: bit for bit those of the source.
    for name, value in _state(backbone).items():
        assert torch.equal(value, before[name]), name
    assert not any(parameter.requires_grad for parameter in backbone.parameters())
    assert target.module_.head.layers[-1].out_features == 5
    trainable = target.summary().trainable_params
    assert trainable == sum(p.numel() for p in target.module_.head.parameters())
    # The source estimator itself is untouched too.
    for name, value in _state(source.module_).items():
        assert torch.equal(value, before[name]), name


def test_fine_tuning_changes_the_backbone(source, digit_halves):
    _, (X, y) = digit_halves
    before = _state(source.module_)
    target = NeuralNetClassifier(
        NewHead, module__network=source, module__trainable=True, **FAST
    ).fit(X, y)
    changed = [
        name
        for name, value in _state(target.module_.backbone).items()
        if not torch.equal(value, before[name])
    ]
    assert "features.0.weight" in changed
    assert not any(name.startswith("head.") for name in _state(target.module_.backbone))
    for name, value in _state(source.module_).items():
        assert torch.equal(value, before[name]), name


def test_frozen_features_serve_sequences_too():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5, 2)).astype(np.float32)
    y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    source = RNNClassifier(hidden_size=8, hidden_layer_sizes=(6,), **FAST).fit(X, y)
    target = NeuralNetClassifier(NewHead, module__network=source.module_, **FAST).fit(X, 1 - y)
    assert target.predict(X).shape == (60,)


def test_networks_that_cannot_serve_raise_clearly(digit_halves):
    _, (X, y) = digit_halves
    with pytest.raises(ValueError, match="unfitted CNNClassifier; fit it first.*module_"):
        NewHead(CNNClassifier(), n_outputs=2)
    with pytest.raises(ValueError, match="no forward_features and num_features"):
        NewHead(torch.nn.Linear(3, 2), n_outputs=2)
    # GridSearchCV clones its estimator, which unfits an estimator given as a parameter.
    fitted = MLPClassifier((4,), **FAST).fit(X.reshape(len(X), -1), y)
    search = GridSearchCV(
        NeuralNetClassifier(NewHead, module__network=fitted, **FAST),
        {"module__trainable": [False, True]},
        cv=2,
        error_score="raise",
    )
    with pytest.raises(ValueError, match="unfitted MLPClassifier"):
        search.fit(X.reshape(len(X), -1), y)
    search.set_params(estimator__module__network=fitted.module_).fit(X.reshape(len(X), -1), y)
    assert search.best_params_["module__trainable"] in (False, True)
