"""sknets.save / sknets.load: round trips of every estimator kind, trust, tampered files."""

import io
import json
import pathlib
import pickle
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
import safetensors.torch
import torch
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from skorch.callbacks import EpochScoring
from torch import nn

import sknets
from sknets import (
    CNNClassifier,
    CNNRegressor,
    MLPClassifier,
    MLPRegressor,
    NeuralNetClassifier,
    NeuralNetRegressor,
    RNNClassifier,
    RNNRegressor,
    load,
    save,
)
from sknets._fitted_state import REBUILT_ATTRIBUTES
from sknets.augmentation import ImageAugmentation
from sknets.persistence import ATTRIBUTES, DOCUMENT, OPTIMIZER, PIPELINE, WEIGHTS

# Two epochs of tiny networks: the round trip, not the fit, is under test. device="cpu":
# exact equality of predictions is what the CPU's float64 inference promises.
FAST = {"max_epochs": 2, "n_iter_no_change": np.inf, "random_state": 0, "device": "cpu"}


def warmup(epoch):
    """A learning-rate schedule defined at the top of a module: importable by name."""
    return min(1.0, (epoch + 1) / 2)


class TinyNet(nn.Module):
    """A user's network for NeuralNetClassifier, defined at the top of a module."""

    def __init__(self, n_features_in, n_outputs, hidden=4):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features_in, hidden), nn.ReLU(), nn.Linear(hidden, n_outputs)
        )

    def forward(self, x):
        return self.layers(x)


def rows(n_samples=120, n_features=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_samples, n_features))


def images(n_samples=64, seed=0):
    return np.random.default_rng(seed).random((n_samples, 1, 8, 8))


def ragged(n_samples=40, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(length, 2)) for length in rng.integers(1, 7, size=n_samples)]


def tokens(n_samples=40, seed=0):
    rng = np.random.default_rng(seed)
    return [list(rng.integers(2, 30, size=length)) for length in rng.integers(1, 7, size=n_samples)]


def kinds():
    """(id, estimator, X, y): every estimator kind and layout whose state differs."""
    X = rows()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    words = np.array(["ant", "bee", "cat"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0)]
    sequences = ragged()
    lengths = np.array([len(sequence) for sequence in sequences])
    return [
        ("mlp-ints", MLPClassifier((8,), **FAST), X, (X[:, 0] > 0).astype(int)),
        (
            "mlp-strings-frame-balanced",
            MLPClassifier((8,), class_weight="balanced", **FAST),
            frame,
            words,
        ),
        (
            "mlp-floats-class-weight-dict",
            MLPClassifier((), class_weight={1.0: 2.0, 2.0: 1.0}, lr_schedule="plateau", **FAST),
            X,
            np.where(X[:, 0] > 0, 2.0, 1.0),
        ),
        ("mlp-multilabel", MLPClassifier((8,), **FAST), X, (X[:, :3] > 0).astype(int)),
        ("mlp-regressor", MLPRegressor((8,), **FAST), X, 100 * X[:, 0] + 7),
        (
            "mlp-regressor-multioutput-frame-huber",
            MLPRegressor((8, 4), loss="huber", batch_norm=True, **FAST),
            frame,
            np.column_stack([X[:, 0], -3 * X[:, 1]]),
        ),
        (
            "cnn-bools-augmented",
            CNNClassifier(
                (4,), hidden_layer_sizes=(8,), augmentation=ImageAugmentation(max_shift=0.1), **FAST
            ),
            images(),
            images().mean(axis=(1, 2, 3)) > 0.5,
        ),
        (
            "cnn-regressor-flat-rows",
            CNNRegressor((4,), hidden_layer_sizes=(), input_shape=(1, 8, 8), **FAST),
            images().reshape(64, -1),
            images().mean(axis=(1, 2, 3)),
        ),
        (
            "rnn-ragged-strings-early-stopping",
            RNNClassifier("gru", 8, early_stopping=True, validation_fraction=0.25, **FAST),
            sequences,
            np.array(["short", "long"])[(lengths > 3).astype(int)],
        ),
        (
            "rnn-flat-rows",
            RNNClassifier("lstm", 8, input_shape=(3, 2), **FAST),
            X,
            (X[:, 0] > 0).astype(int),
        ),
        (
            "rnn-regressor-tokens",
            RNNRegressor("lstm", 8, vocab_size="auto", embedding_dim=4, **FAST),
            tokens(),
            np.array([len(sequence) for sequence in tokens()], dtype=float),
        ),
    ]


def comparable(value):
    """``value`` with its type, and parameter objects as their class and parameters."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        return type(value), comparable(value.get_params(deep=False))
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value), [comparable(item) for item in value]
    return type(value), value


def assert_same_params(loaded, original):
    assert comparable(loaded.get_params(deep=False)) == comparable(original.get_params(deep=False))


def assert_same(loaded, original, name):
    assert type(loaded) is type(original), name
    if isinstance(original, np.ndarray):
        np.testing.assert_array_equal(loaded, original, err_msg=name)
        assert loaded.dtype == original.dtype, name
    elif isinstance(original, torch.Tensor):
        assert torch.equal(loaded, original) and loaded.dtype == original.dtype, name
    elif isinstance(original, dict):
        assert loaded.keys() == original.keys(), name
        for key, item in original.items():
            assert_same(loaded[key], item, f"{name}[{key!r}]")
    else:
        assert loaded == original, name


def assert_same_fitted_state(loaded, original):
    assert vars(loaded).keys() == vars(original).keys()
    params = original.get_params(deep=False)
    for name, value in vars(original).items():
        if name not in params and name not in REBUILT_ATTRIBUTES:
            assert_same(getattr(loaded, name), value, name)
    pd.testing.assert_frame_equal(loaded.history_, original.history_)
    assert type(loaded._task) is type(original._task)
    for name, tensor in original.module_.state_dict().items():
        assert torch.equal(loaded.module_.state_dict()[name], tensor), name


def round_trip(estimator, tmp_path, **load_options):
    path = tmp_path / "model.sknets"
    save(estimator, path)
    return load(path, **load_options)


# ------------------------------------------------------------------------- round trips
@pytest.mark.parametrize(
    ("estimator", "X", "y"), [case[1:] for case in kinds()], ids=[case[0] for case in kinds()]
)
def test_round_trip_predicts_exactly_as_the_saved_estimator(estimator, X, y, tmp_path):
    original = estimator.fit(X, y)
    loaded = round_trip(original, tmp_path)
    assert type(loaded) is type(original)
    assert_same_params(loaded, original)
    assert_same_fitted_state(loaded, original)
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    if hasattr(original, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))
    assert loaded.score(X, y) == original.score(X, y)


def test_feature_names_are_checked_after_loading(tmp_path):
    X = pd.DataFrame(rows(), columns=[f"f{i}" for i in range(6)])
    loaded = round_trip(MLPRegressor((4,), **FAST).fit(X, X["f0"]), tmp_path)
    assert loaded.feature_names_in_.tolist() == list(X.columns)
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(X[X.columns[::-1]])


@pytest.mark.parametrize(
    ("continue_training", "random_state"), [("partial_fit", None), ("warm_start", 0)]
)
def test_training_continues_as_the_saved_estimator_would(continue_training, random_state, tmp_path):
    # The optimizer's moments, the seed drawn in fit (random_state=None draws a new one at
    # each fresh fit) and the history that counts the epochs are saved, so further epochs
    # give the very weights the saved estimator reaches.
    X = rows()
    y = (X[:, 0] > 0).astype(int)
    params = {**FAST, "random_state": random_state}
    original = MLPClassifier((8,), warm_start=True, **params).fit(X, y)
    loaded = round_trip(original, tmp_path)
    for model in (original, loaded):
        if continue_training == "partial_fit":
            model.partial_fit(X, y)
        else:
            model.fit(X, y)
    assert (
        loaded.n_epochs_ == original.n_epochs_ == (3 if continue_training == "partial_fit" else 4)
    )
    np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))
    pd.testing.assert_frame_equal(
        loaded.history_.drop(columns="duration"), original.history_.drop(columns="duration")
    )


def test_own_network_loads_when_its_class_is_trusted(tmp_path):
    X, y = rows(), (rows()[:, 0] > 0).astype(int)
    original = NeuralNetClassifier(TinyNet, module__hidden=6, **FAST).fit(X, y)
    path = tmp_path / "model.sknets"
    save(original, path)
    name = f"{TinyNet.__module__}.TinyNet"
    with pytest.raises(ValueError, match=rf"names \['{name}'\], which load does not trust"):
        load(path)
    loaded = load(path, trusted=[name])
    assert loaded.module is TinyNet and loaded.get_params()["module__hidden"] == 6
    assert_same_fitted_state(loaded, original)
    np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))


def test_own_network_default_mlp_needs_no_trust_and_instances_cannot_be_saved(tmp_path):
    X = rows()
    regressor = NeuralNetRegressor(**FAST).fit(X, X[:, 0])
    loaded = round_trip(regressor, tmp_path)
    np.testing.assert_array_equal(loaded.predict(X), regressor.predict(X))
    instance = NeuralNetRegressor(TinyNet(6, 1), **FAST).fit(X, X[:, 0])
    with pytest.raises(
        ValueError, match=r"module=TinyNet\(...\) cannot be saved: .* module=TinyNet"
    ):
        save(instance, tmp_path / "instance.sknets")


def test_pipeline_of_sklearn_transformers_round_trips_through_skops(tmp_path):
    X, y = rows(), (rows()[:, 0] > 0).astype(int)
    original = make_pipeline(StandardScaler(), MinMaxScaler(), MLPClassifier((8,), **FAST))
    original.fit(X, y)
    path = tmp_path / "pipeline.sknets"
    save(original, path)
    assert set(zipfile.ZipFile(path).namelist()) == {
        DOCUMENT,
        WEIGHTS,
        ATTRIBUTES,
        OPTIMIZER,
        PIPELINE,
    }
    loaded = load(path)
    assert [name for name, _ in loaded.steps] == [name for name, _ in original.steps]
    np.testing.assert_array_equal(loaded[0].mean_, original[0].mean_)
    np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))
    assert_same_fitted_state(loaded[-1], original[-1])


def test_pipeline_must_end_in_the_only_sknets_step(tmp_path):
    X, y = rows(), (rows()[:, 0] > 0).astype(int)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="last step, and only that one"):
        save(pipeline, tmp_path / "model.sknets")


# ---------------------------------------------------------------------- what cannot be saved
def test_unfitted_estimator_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        save(MLPClassifier(), tmp_path / "model.sknets")
    assert issubclass(NotFittedError, ValueError)


def test_other_estimators_are_refused(tmp_path):
    X, y = rows(), (rows()[:, 0] > 0).astype(int)
    with pytest.raises(
        ValueError, match="saves a fitted sknets estimator .* not a LogisticRegression"
    ):
        save(LogisticRegression().fit(X, y), tmp_path / "model.sknets")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lr_schedule": lambda epoch: 1.0}, r"lr_schedule=.*lambda.* has no import path"),
        ({"random_state": np.random.RandomState(0)}, r"random_state=RandomState.* cannot be saved"),
    ],
)
def test_values_without_a_safe_encoding_fail_at_save(params, message, tmp_path):
    X, y = rows(), (rows()[:, 0] > 0).astype(int)
    model = MLPClassifier((4,), **{**FAST, **params}).fit(X, y)
    with pytest.raises(ValueError, match=message):
        save(model, tmp_path / "model.sknets")


# -------------------------------------------------------------------------- trusted names
@pytest.fixture(scope="module")
def custom_model_file(tmp_path_factory):
    """A model naming an optimizer class, a schedule function and a skorch callback."""
    X, y = rows(), (rows()[:, 0] > 0).astype(int)
    callback = EpochScoring("accuracy", lower_is_better=False, on_train=True)
    model = MLPClassifier(
        (8,), optimizer=torch.optim.SGD, lr_schedule=warmup, callbacks=[callback], **FAST
    ).fit(X, y)
    path = tmp_path_factory.mktemp("trusted") / "model.sknets"
    save(model, path)
    return path, model, X


def test_named_classes_and_functions_load_only_when_trusted(custom_model_file):
    path, model, X = custom_model_file
    names = [
        "skorch.callbacks.scoring.EpochScoring",
        "torch.optim.sgd.SGD",
        f"{warmup.__module__}.warmup",
    ]
    with pytest.raises(ValueError, match="does not trust by default") as raised:
        load(path)
    assert all(repr(name) in str(raised.value) for name in names)
    loaded = load(path, trusted=names)
    assert loaded.optimizer is torch.optim.SGD and loaded.lr_schedule is warmup
    assert_same_params(loaded, model)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert "accuracy" in loaded.history_


@pytest.mark.parametrize("trusted", [True, "torch.optim.sgd.SGD", [torch.optim.SGD]])
def test_trusted_must_be_a_list_of_names(trusted, custom_model_file):
    with pytest.raises(
        ValueError, match="trusted=.* is not supported; pass a list of import paths"
    ):
        load(custom_model_file[0], trusted=trusted)


def test_optimizer_state_that_is_not_tensors_is_left_out_with_a_warning(tmp_path):
    X, y = rows(), (rows()[:, 0] > 0).astype(int)
    model = MLPClassifier((4,), optimizer=torch.optim.LBFGS, **FAST).fit(X, y)
    path = tmp_path / "model.sknets"
    with pytest.warns(UserWarning, match="LBFGS's state holds a list .* fresh optimizer"):
        save(model, path)
    assert OPTIMIZER not in zipfile.ZipFile(path).namelist()
    loaded = load(path, trusted=["torch.optim.lbfgs.LBFGS"])
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


# -------------------------------------------------------------------------- tampered files
@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    X, y = rows(), (rows()[:, 0] > 0).astype(int)
    path = tmp_path_factory.mktemp("saved") / "model.sknets"
    save(MLPClassifier((8,), **FAST).fit(X, y), path)
    return path


def members_of(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_members(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def with_document(model_file, tmp_path, change):
    members = members_of(model_file)
    document = json.loads(members[DOCUMENT])
    change(document)
    members[DOCUMENT] = json.dumps(document).encode()
    return write_members(tmp_path / "altered.sknets", members)


class Payload:
    """Unpickling this would create ``marker``: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


def test_the_fixture_file_loads(model_file):
    assert isinstance(load(model_file), MLPClassifier)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.update(estimator="os.system"),
            r"estimator='os.system', which is not a sknets",
        ),
        (
            lambda d: d["params"].update(lr_schedule={"name": "os.system"}),
            r"\['os.system'\].*trusted",
        ),
        (
            lambda d: d["params"].update(
                callbacks=[{"object": {"class": "subprocess.Popen", "params": {"args": "ls"}}}]
            ),
            r"\['subprocess.Popen'\], which load does not trust",
        ),
        (lambda d: d["params"].update(lr=-1.0), r"'lr' parameter .* Got -1.0"),
        (
            lambda d: d["params"].update(hidden_layer_sizes={"tuple": [9]}),
            r"shape \(8, 6\) .* needs \(9, 6\)",
        ),
        (lambda d: d["attributes"].update(__class__={"name": "os.system"}), "does not trust"),
        (lambda d: d["attributes"].update(__class__=1), r"sets attribute '__class__'"),
        (
            lambda d: d["attributes"].update(n_features_in_={"pickle": "..."}),
            "not a value sknets.save writes",
        ),
        (lambda d: d.update(format_version=99), r"format_version=99"),
        (lambda d: d.update(format="pickle"), r"does not describe a sknets model"),
        (lambda d: d.pop("task"), r"not a valid sknets model description: KeyError\('task'\)"),
    ],
)
def test_altered_descriptions_fail_cleanly(change, message, model_file, tmp_path):
    with pytest.raises(ValueError, match=message):
        load(with_document(model_file, tmp_path, change))


def test_untrusted_names_are_refused_before_any_import(model_file, tmp_path):
    # Importing the module "this" prints the Zen of Python: a canary for an import.
    assert "this" not in sys.modules
    altered = with_document(
        model_file, tmp_path, lambda d: d["params"].update(lr_schedule={"name": "this.s"})
    )
    with pytest.raises(ValueError, match=r"\['this.s'\]"):
        load(altered)
    assert "this" not in sys.modules


def test_weights_that_do_not_fit_the_network_fail_cleanly(model_file, tmp_path):
    members = members_of(model_file)
    weights = safetensors.torch.load(members[WEIGHTS])
    name = next(iter(weights))
    reshaped = {**weights, name: torch.zeros(weights[name].shape[0] + 1, *weights[name].shape[1:])}
    members[WEIGHTS] = safetensors.torch.save(reshaped)
    with pytest.raises(ValueError, match=rf"hold {name} of shape .* needs"):
        load(write_members(tmp_path / "reshaped.sknets", members))
    members[WEIGHTS] = safetensors.torch.save({key: weights[key] for key in list(weights)[1:]})
    with pytest.raises(ValueError, match=rf"missing tensors \['{name}'\]"):
        load(write_members(tmp_path / "missing.sknets", members))


@pytest.mark.parametrize("member", [WEIGHTS, ATTRIBUTES, OPTIMIZER])
def test_pickle_payload_instead_of_safetensors_never_runs(member, model_file, tmp_path):
    marker = tmp_path / "code-ran"
    members = members_of(model_file)
    members[member] = pickle.dumps(Payload(marker))
    with pytest.raises(ValueError, match=f"{member} is not a valid safetensors file"):
        load(write_members(tmp_path / "pickled.sknets", members))
    buffer = io.BytesIO()
    torch.save(Payload(marker), buffer)  # torch's own format: a zip around a pickle
    members[member] = buffer.getvalue()
    with pytest.raises(ValueError, match=f"{member} is not a valid safetensors file"):
        load(write_members(tmp_path / "torch-saved.sknets", members))
    assert not marker.exists()


def test_truncated_and_foreign_files_fail_cleanly(model_file, tmp_path):
    data = model_file.read_bytes()
    truncated = tmp_path / "truncated.sknets"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a complete sknets model file"):
        load(truncated)
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps(Payload(tmp_path / "code-ran")))
    with pytest.raises(ValueError, match="not a complete sknets model file"):
        load(pickled)
    assert not (tmp_path / "code-ran").exists()


def test_unexpected_and_missing_members_fail_cleanly(model_file, tmp_path):
    members = members_of(model_file)
    with pytest.raises(ValueError, match=r"unexpected members \['payload.pkl'\]"):
        load(write_members(tmp_path / "extra.sknets", {**members, "payload.pkl": b"x"}))
    with pytest.raises(ValueError, match=f"describes .*{OPTIMIZER}"):
        load(
            write_members(
                tmp_path / "fewer.sknets", {k: v for k, v in members.items() if k != OPTIMIZER}
            )
        )
    with pytest.raises(ValueError, match=f"describes .*{DOCUMENT}"):
        load(write_members(tmp_path / "more.sknets", {**members, PIPELINE: b"x"}))


# ------------------------------------------------------------------- optional dependency
@pytest.mark.parametrize("module", ["safetensors", "skops"])
def test_missing_optional_dependency_names_the_extra(module, monkeypatch, model_file, tmp_path):
    X, y = rows(), (rows()[:, 0] > 0).astype(int)
    pipeline = make_pipeline(StandardScaler(), MLPClassifier((4,), **FAST)).fit(X, y)
    path = tmp_path / "pipeline.sknets"
    save(pipeline, path)
    for name in [name for name in sys.modules if name.split(".")[0] == module]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, module, None)
    hint = rf'need {module}, which is not installed: pip install "sknets\[persistence\]"'
    with pytest.raises(ImportError, match=hint):
        save(pipeline, tmp_path / "again.sknets")
    with pytest.raises(ImportError, match=hint):
        load(path)
    if module == "safetensors":
        with pytest.raises(ImportError, match=hint):
            load(model_file)
    else:  # a plain estimator needs no skops
        assert isinstance(load(model_file), MLPClassifier)


def test_save_and_load_are_public():
    assert {"save", "load"} <= set(sknets.__all__)
    assert sknets.save is save and sknets.load is load
