"""NeuralNetClassifier and NeuralNetRegressor: the user's own network under the sklearn contract."""

import pickle

import numpy as np
import optuna
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from sknets import NeuralNetClassifier, NeuralNetRegressor
from sknets.modules import MLP
from sknets.tuning import OptunaSearchCV, SearchSpace

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"max_epochs": 3, "lr": 0.01, "random_state": 0, "device": "cpu"}


class Dense(nn.Module):
    """A network taking what fit learns by name, plus one parameter of its own."""

    def __init__(self, n_features_in, n_outputs, hidden=8):
        super().__init__()
        self.hidden = hidden
        self.layers = nn.Sequential(
            nn.Linear(n_features_in, hidden), nn.ReLU(), nn.Linear(hidden, n_outputs)
        )

    def forward(self, x):
        return self.layers(x)


class SmallConv(nn.Module):
    """Images of any size: takes input_shape, the shape of one sample."""

    def __init__(self, input_shape, n_outputs, channels=4):
        super().__init__()
        self.input_shape = input_shape
        self.conv = nn.Conv2d(input_shape[0], channels, 3, padding=1)
        self.out = nn.Linear(channels * input_shape[1] * input_shape[2], n_outputs)

    def forward(self, x):
        return self.out(torch.relu(self.conv(x)).flatten(1))


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16).astype(np.float32), y[:300]


def test_the_network_gets_what_fit_learned_and_its_module_parameters(digits):
    X, y = digits
    clf = NeuralNetClassifier(Dense, module__hidden=12, **{**FAST, "max_epochs": 20}).fit(X, y)
    assert clf.module_.layers[0].in_features == 64
    assert clf.module_.layers[-1].out_features == 10
    assert clf.module_.hidden == 12
    assert clf.predict_proba(X).shape == (300, 10)
    assert clf.score(X, y) > 0.5
    images = NeuralNetClassifier(SmallConv, module__channels=2, **FAST).fit(
        X.reshape(-1, 1, 8, 8), y
    )
    assert images.module_.input_shape == (1, 8, 8) == images.input_shape_
    assert images.n_features_in_ == 64
    assert images.predict(X[:5].reshape(-1, 1, 8, 8)).shape == (5,)


def test_module_parameters_are_sklearn_parameters(digits):
    X, y = digits
    clf = NeuralNetClassifier(Dense, module__hidden=12, **FAST)
    assert clf.get_params()["module__hidden"] == 12
    assert clf.set_params(module__hidden=5, lr=0.02) is clf
    assert clf.get_params()["module__hidden"] == 5 and clf.lr == 0.02
    copy = clone(clf)
    assert copy.get_params()["module__hidden"] == 5
    assert "module__hidden=5" in repr(copy)
    assert pickle.loads(pickle.dumps(copy)).get_params() == copy.get_params()
    search = GridSearchCV(clf, {"module__hidden": [2, 24]}, cv=2).fit(X, y)
    assert search.best_estimator_.module_.hidden == search.best_params_["module__hidden"]
    assert {params["module__hidden"] for params in search.cv_results_["params"]} == {2, 24}


def test_optuna_search_spaces_take_module_parameters(digits):
    X, y = digits
    search = OptunaSearchCV(
        NeuralNetClassifier(Dense, **FAST),
        {"module__hidden": optuna.distributions.IntDistribution(4, 32)},
        n_trials=2,
        cv=2,
        random_state=0,
    ).fit(X, y)
    assert 4 <= search.best_params_["module__hidden"] <= 32
    assert search.best_estimator_.module_.hidden == search.best_params_["module__hidden"]


def test_an_instance_is_copied_and_never_trained_in_place(digits):
    X, y = digits
    network = Dense(64, 10)
    before = [parameter.detach().clone() for parameter in network.parameters()]
    clf = NeuralNetClassifier(network, **FAST).fit(X, y)
    assert clf.module_ is not network
    for old, new in zip(before, network.parameters()):
        assert torch.equal(old, new)
    assert any(not torch.equal(old, new) for old, new in zip(before, clf.module_.parameters()))
    with pytest.raises(ValueError, match="is an instance of Dense.*module=Dense instead"):
        NeuralNetClassifier(network, module__hidden=3, **FAST).fit(X, y)


def test_a_callable_returning_a_network(digits):
    X, y = digits

    def linear(n_features_in, n_outputs):
        return nn.Linear(n_features_in, n_outputs)

    clf = NeuralNetClassifier(linear, **FAST).fit(X, y)
    assert isinstance(clf.module_, nn.Linear)
    with pytest.raises(ValueError, match="returned str, not a torch.nn.Module"):
        NeuralNetClassifier(lambda: "a network", **FAST).fit(X, y)


def test_default_network_is_sknets_mlp(digits):
    X, y = digits
    clf = NeuralNetClassifier(module__hidden_layer_sizes=(7,), **FAST).fit(X, y)
    assert isinstance(clf.module_, MLP)
    assert clf.module_.layers[0].out_features == 7
    assert NeuralNetClassifier(**FAST).fit(X, y).module_.layers[0].out_features == 100


def test_a_wrong_network_names_the_shapes(digits):
    X, y = digits
    wrong_width = NeuralNetClassifier(lambda n_features_in: nn.Linear(n_features_in, 3), **FAST)
    with pytest.raises(ValueError, match=r"outputs of shape \(2, 3\).*needs \(2, 10\)"):
        wrong_width.fit(X, y)
    with pytest.raises(ValueError, match=r"could not be built with input_shape=\(64,\).*Index"):
        NeuralNetClassifier(SmallConv, **FAST).fit(X, y)  # a conv net fed rows
    with pytest.raises(ValueError, match=r"forward failed on a batch of \(2, 64\) float32"):
        NeuralNetClassifier(lambda n_outputs: nn.Conv2d(1, n_outputs, 3), **FAST).fit(X, y)
    with pytest.raises(ValueError, match="could not be built with n_features_in=64.*unexpected"):
        NeuralNetClassifier(Dense, module__width=3, **FAST).fit(X, y)


def test_a_network_that_cannot_run_in_float64_fails_at_fit(digits):
    class Float32Only(nn.Module):
        def __init__(self, n_features_in, n_outputs):
            super().__init__()
            self.n_features_in, self.n_outputs = n_features_in, n_outputs
            self.scale = nn.Linear(1, 1)

        def forward(self, x):
            return x @ torch.ones(self.n_features_in, self.n_outputs) * self.scale.weight

    X, y = digits
    with pytest.raises(ValueError, match="float64 inputs, as sknets predicts on the CPU"):
        NeuralNetClassifier(Float32Only, **FAST).fit(X, y)


def test_unexpected_keywords_are_reported_by_fit_not_init(digits):
    X, y = digits
    clf = NeuralNetClassifier(Dense, hiden=3, **FAST)  # no error in __init__ (sklearn)
    with pytest.raises(ValueError, match=r"unexpected parameters \['hiden'\].*module__<name>"):
        clf.fit(X, y)


def test_dict_inputs_reach_forward_by_name():
    class TwoInputs(nn.Module):
        def __init__(self, input_shape, n_outputs):
            super().__init__()
            self.image = nn.Linear(int(np.prod(input_shape["image"])), 4)
            self.extra = nn.Linear(input_shape["extra"][0], 4)
            self.out = nn.Linear(8, n_outputs)

        def forward(self, image, extra):
            return self.out(torch.cat([self.image(image.flatten(1)), self.extra(extra)], 1))

    rng = np.random.default_rng(0)
    X = {"image": rng.random((60, 2, 3)), "extra": rng.normal(size=(60, 5))}
    y = X["extra"][:, 0] + X["image"].sum(axis=(1, 2))
    reg = NeuralNetRegressor(TwoInputs, max_epochs=30, lr=0.03, random_state=0).fit(X, y)
    assert reg.input_shape_ == {"image": (2, 3), "extra": (5,)}
    assert not hasattr(reg, "n_features_in_")
    assert reg.score(X, y) > 0.5
    one = reg.predict({name: values[:1] for name, values in X.items()})
    np.testing.assert_allclose(one, reg.predict(X)[:1], rtol=1e-12)
    with pytest.raises(ValueError, match="different numbers of rows"):
        reg.predict({"image": X["image"][:3], "extra": X["extra"][:2]})
    with pytest.raises(ValueError, match="fitted on input_shape_"):
        reg.predict({"image": X["image"][:, :1], "extra": X["extra"]})
    with pytest.raises(ValueError, match="module=None builds sknets' MLP"):
        NeuralNetRegressor(max_epochs=1).fit(X, y)


def test_token_ids_stay_integers_for_an_embedding():
    class Bag(nn.Module):
        def __init__(self, n_outputs, vocabulary=20):
            super().__init__()
            self.embedding = nn.EmbeddingBag(vocabulary, 4)
            self.out = nn.Linear(4, n_outputs)

        def forward(self, tokens):
            assert tokens.dtype == torch.int64
            return self.out(self.embedding(tokens))

    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 20, size=(80, 6))
    y = (tokens == 3).any(axis=1).astype(int)
    clf = NeuralNetClassifier(Bag, max_epochs=20, lr=0.05, random_state=0).fit(tokens, y)
    assert clf.score(tokens, y) > 0.7


def test_regressor_over_a_network_multi_output_and_partial_fit():
    X, y = make_regression(100, 4, n_targets=2, random_state=0)
    reg = NeuralNetRegressor(Dense, module__hidden=16, max_epochs=40, lr=0.03, random_state=0)
    reg.fit(X, y)
    assert reg.module_.layers[-1].out_features == 2 == reg.n_outputs_
    assert reg.predict(X).shape == (100, 2)
    assert reg.score(X, y) > 0.8
    online = NeuralNetRegressor(Dense, random_state=0, device="cpu")
    online.partial_fit(X, y).partial_fit(X, y)
    assert online.n_epochs_ == 2
    with pytest.raises(ValueError, match=r"samples of shape \(3, 1\).*input_shape_=\(4,\)"):
        reg.predict(X[:, :3].reshape(100, 3, 1))


def test_predictions_do_not_depend_on_the_other_rows(digits):
    X, y = digits
    images = X.reshape(-1, 1, 8, 8)
    clf = NeuralNetClassifier(SmallConv, **FAST).fit(images, y)
    everything = clf.predict_proba(images)
    for row in (0, 17, 299):
        # float64 inference: agreement to ~1e-16, whatever the batch (sknets._inference).
        np.testing.assert_allclose(
            clf.predict_proba(images[row : row + 1])[0], everything[row], rtol=1e-12
        )


def test_search_spaces_accept_network_parameters_of_a_pipeline_step():
    pipeline = make_pipeline(StandardScaler(), NeuralNetClassifier(Dense))
    hidden = optuna.distributions.IntDistribution(4, 32)
    space = SearchSpace(pipeline, {"neuralnetclassifier__module__hidden": hidden})
    assert set(space.searched_names()) == {"neuralnetclassifier__module__hidden"}
    with pytest.raises(ValueError, match="'standardscaler__module__hidden', which is not"):
        SearchSpace(pipeline, {"standardscaler__module__hidden": hidden})


def test_uint8_images_reach_the_network_as_uint8():
    seen = []

    class Pixels(nn.Module):
        def __init__(self, input_shape, n_outputs):
            super().__init__()
            self.out = nn.Linear(int(np.prod(input_shape)), n_outputs)

        def forward(self, x):
            seen.append(x.dtype)
            return self.out(x.flatten(1).to(self.out.weight.dtype) / 255)

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(40, 3, 4, 4), dtype=np.uint8)
    y = (images[:, 0].mean(axis=(1, 2)) > 127).astype(int)
    clf = NeuralNetClassifier(Pixels, max_epochs=2, random_state=0).fit(images, y)
    clf.predict(images)
    assert set(seen) == {torch.uint8}  # in training, at the fit-time check and predicting
    assert images.dtype == np.uint8
