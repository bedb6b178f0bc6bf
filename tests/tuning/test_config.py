"""The study description of ``sknets tune``: JSON and TOML, data sources, search spaces."""

import dataclasses
import json
import re

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from sklearn.pipeline import Pipeline

from sknets import MLPClassifier
from sknets._study_file import STUDY_FILE_EXAMPLE, STUDY_FILE_KEYS, STUDY_FILE_SEARCH_SPACE_EXAMPLE
from sknets.tuning import search
from sknets.tuning.config import (
    BUILTIN_DATASETS,
    DATA_KEYS,
    KNOWN_KEYS,
    TuneConfig,
    estimator_classes,
)
from sknets.tuning.spaces import SearchSpace

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

TOML = """
estimator = "MLPClassifier"
scaler = "standard"
n_trials = 4
cv = 2
metric = "balanced_accuracy"

[params]
max_epochs = 2
hidden_layer_sizes = [8, 4]

[data]
dataset = "iris"

[search_space]
lr = { type = "float", low = 1e-3, high = 1e-1, log = true }
batch_size = { type = "categorical", choices = [16, 32] }
"""


def test_toml_config(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(TOML)
    config = TuneConfig.from_file(path)
    estimator = config.build_estimator()
    assert isinstance(estimator, Pipeline)
    assert estimator[-1].hidden_layer_sizes == (8, 4) and estimator[-1].random_state == 0
    space = config.search_space_object().param_distributions
    assert space == {
        "mlpclassifier__lr": FloatDistribution(1e-3, 1e-1, log=True),
        "mlpclassifier__batch_size": CategoricalDistribution([16, 32]),
    }
    X, y = config.load_data()
    assert X.shape == (150, 4)
    objective = config.objective()
    assert len(objective.splits) == 2 and list(objective.scorers) == ["balanced_accuracy"]
    study = optuna.create_study(direction="maximize", pruner=config.pruner())
    study.optimize(objective, n_trials=1)
    assert study.trials[0].value > 0
    assert config.describe()["metric"] == "balanced_accuracy"


def test_json_config_with_csv_data_and_auto_space(tmp_path):
    rng = np.random.default_rng(0)
    rows = [",".join(["a", "b", "label"])]
    rows += [f"{rng.random():.3f},{rng.random():.3f},{'yes' if i % 2 else 'no'}" for i in range(40)]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("\n".join(rows))
    path = tmp_path / "study.json"
    raw = {"estimator": "MLPClassifier", "data": {"csv": "data/train.csv", "target": "label"}}
    path.write_text(json.dumps(raw))
    config = TuneConfig.from_file(path)
    X, y = config.load_data()
    assert X.shape == (40, 2) and X.dtype == np.float32 and set(y) == {"yes", "no"}
    assert isinstance(config.build_estimator(), MLPClassifier)
    assert config.search_space_object().param_distributions == "auto"
    assert isinstance(config.pruner(), optuna.pruners.MedianPruner)


def test_pruning_can_be_switched_off():
    config = TuneConfig.from_dict(
        {"estimator": "MLPClassifier", "data": {"dataset": "wine"}, "pruning": False}
    )
    assert isinstance(config.pruner(), optuna.pruners.NopPruner)


def test_estimator_names_come_from_the_package():
    assert estimator_classes()["MLPClassifier"] is MLPClassifier


BASE = {"estimator": "MLPClassifier", "data": {"dataset": "iris"}}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"estimatr": "x"}, r"config has unknown keys \['estimatr'\]"),
        ({"estimator": "SVC"}, r"estimator='SVC' is not one of \[.*'MLPClassifier'"),
        ({"scaler": "robust"}, "scaler='robust' is not one of"),
        ({"metric": "acc"}, "metric='acc' is not a scikit-learn scorer name"),
        ({"n_trials": 0}, "n_trials=0 must be an integer >= 1"),
        ({"cv": 1}, "cv=1 must be an integer >= 2"),
        ({"pruning": "yes"}, "pruning='yes' must be true or false"),
        ({"params": {"width": 3}}, "do not fit MLPClassifier"),
        ({"data": {"dataset": "mnist"}}, "data.dataset='mnist' is not one of"),
        ({"data": {}}, "needs exactly one of dataset"),
        ({"data": {"csv": "x.csv"}}, "data.csv needs data.target"),
        ({"data": {"dataset": "iris", "sep": ";"}}, r"data has unknown keys \['sep'\]"),
        ({"data": {"dataset": "iris", "target": "y"}}, "data.target='y' goes with data.csv"),
        ({"random_state": "0"}, "random_state='0' must be an integer"),
        ({"random_state": True}, "random_state=True must be an integer"),
        ({"search_space": "grid"}, "search_space='grid' must be 'auto' or a table"),
        ({"search_space": {"lr": 0.1}}, r"search_space.lr=0.1 must be a table with a type"),
        ({"search_space": {"lr": {"type": "normal"}}}, "type='normal' is not supported"),
        ({"search_space": {"lr": {"type": "float", "low": 1}}}, "is not a valid float"),
        ({"search_space": {"lrr": {"type": "float", "low": 0, "high": 1}}}, "'lrr', which"),
    ],
)
def test_config_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        TuneConfig.from_dict({**BASE, **changes})


def test_missing_keys_and_files(tmp_path):
    with pytest.raises(ValueError, match="config needs 'data'"):
        TuneConfig.from_dict({"estimator": "MLPClassifier"})
    with pytest.raises(ValueError, match="does not exist"):
        TuneConfig.from_file(tmp_path / "none.toml")
    (tmp_path / "study.yaml").write_text("a: 1")
    with pytest.raises(ValueError, match=r"must end in .json or .toml, got '.yaml'"):
        TuneConfig.from_file(tmp_path / "study.yaml")
    (tmp_path / "bad.toml").write_text("estimator = ")
    with pytest.raises(ValueError, match="is not valid TOML"):
        TuneConfig.from_file(tmp_path / "bad.toml")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="is not valid JSON"):
        TuneConfig.from_file(tmp_path / "bad.json")


def test_csv_errors(tmp_path):
    (tmp_path / "t.csv").write_text("a,kind,label\n1,x,0\n2,y,1\n")
    config = TuneConfig.from_dict(
        {"estimator": "MLPClassifier", "data": {"csv": "t.csv", "target": "y"}}, base_dir=tmp_path
    )
    with pytest.raises(ValueError, match=r"data.target='y' is not a column"):
        config.load_data()
    config.data["target"] = "label"
    with pytest.raises(ValueError, match=r"non-numeric feature columns \['kind'\]"):
        config.load_data()
    config.data["csv"] = "missing.csv"
    with pytest.raises(ValueError, match="data.csv='missing.csv': no file at"):
        config.load_data()


# ---------------------------------------------------------------- [params] against the space
def _auto_drawn(estimator_class) -> list[str]:
    """The parameters the "auto" space of ``estimator_class`` draws in every trial."""
    return sorted(SearchSpace(estimator_class(), "auto").searched_names())


AUTO_DRAWN = [
    (name, parameter)
    for name, estimator_class in sorted(estimator_classes().items())
    for parameter in _auto_drawn(estimator_class)
]


@pytest.mark.parametrize(("estimator", "parameter"), AUTO_DRAWN)
def test_a_params_value_that_auto_draws_is_an_error(estimator, parameter):
    # Any value, even the default: a fixed value the search replaces is never used.
    value = estimator_classes()[estimator]().get_params()[parameter]
    value = list(value) if isinstance(value, tuple) else value
    raw = {"estimator": estimator, "data": {"dataset": "iris"}, "params": {parameter: value}}
    with pytest.raises(ValueError, match=rf"params.{parameter}=.*search_space = 'auto' draws"):
        TuneConfig.from_dict(raw)


def test_auto_draws_the_architecture_and_the_training_parameters():
    # The list the error above is tested over: not empty, and what the docs promise.
    assert {"lr", "batch_size", "weight_decay", "hidden_layer_sizes", "activation"} <= set(
        _auto_drawn(MLPClassifier)
    )


def test_params_error_names_the_fix_and_what_auto_draws():
    raw = {**BASE, "scaler": "standard", "params": {"hidden_layer_sizes": [32], "max_epochs": 5}}
    with pytest.raises(ValueError) as error:
        TuneConfig.from_dict(raw)
    message = str(error.value)
    assert message.startswith("params.hidden_layer_sizes=[32]: search_space = 'auto' draws")
    assert "max_epochs" not in message.split("draws")[1].split("in every trial")[0]
    assert "Remove it from [params]" in message and "[search_space] table without it" in message
    assert "'lr'" in message  # the list of what "auto" draws, without the pipeline prefix
    assert "mlpclassifier__" not in message


def test_a_params_value_also_in_the_search_space_is_an_error():
    raw = {
        **BASE,
        "params": {"lr": 0.01, "max_epochs": 5},
        "search_space": {"lr": {"type": "float", "low": 1e-4, "high": 1e-1}},
    }
    with pytest.raises(ValueError, match=r"params.lr=0.01: \[search_space\] also has \['lr'\]"):
        TuneConfig.from_dict(raw)


def test_params_the_space_does_not_draw_are_kept():
    raw = {**BASE, "scaler": "standard", "params": {"max_epochs": 5, "random_state": 3}}
    estimator = TuneConfig.from_dict(raw).build_estimator()
    assert estimator[-1].max_epochs == 5 and estimator[-1].random_state == 3
    explicit = {**raw, "params": {"hidden_layer_sizes": [32]}}
    explicit["search_space"] = {"lr": {"type": "float", "low": 1e-4, "high": 1e-1}}
    assert TuneConfig.from_dict(explicit).build_estimator()[-1].hidden_layer_sizes == (32,)


# ------------------------------------------------------- the documented format is the real one
def _documented_keys() -> dict[str, str]:
    """``{key: its "type, default" text}`` from the terms of STUDY_FILE_KEYS."""
    terms = [line for line in STUDY_FILE_KEYS.splitlines() if line and not line.startswith(" ")]
    return dict(term.split(" : ", 1) for term in terms)


def test_every_key_of_the_file_is_documented_and_only_those():
    assert set(_documented_keys()) == KNOWN_KEYS


def test_documented_defaults_are_the_real_defaults():
    fields = {field.name: field for field in dataclasses.fields(TuneConfig)}
    for key, description in _documented_keys().items():
        default = re.search(r"default=(.*)$", description)
        if fields[key].default is dataclasses.MISSING and fields[key].default_factory is (
            dataclasses.MISSING
        ):
            assert default is None and description.endswith("required"), key
            continue
        # The default is written as a TOML value: read it as TOML.
        documented = tomllib.loads(f"value = {default.group(1)}")["value"]
        real = fields[key].default
        if real is dataclasses.MISSING:
            real = fields[key].default_factory()
        assert documented == real, key


def test_documented_estimators_are_the_ones_a_study_file_may_name():
    estimator = STUDY_FILE_KEYS.split("estimator : ")[1].split("\ndata :")[0]
    assert set(re.findall(r'``"(\w+)"``', estimator)) == set(estimator_classes())


def test_documented_data_keys_and_datasets_are_the_real_ones():
    data = STUDY_FILE_KEYS.split("data : table")[1].split("\nscaler :")[0]
    for key in DATA_KEYS:
        assert f"``{key} = " in data, key
    for name in BUILTIN_DATASETS:
        assert f'"{name}"' in data, name


def test_documented_pruner_is_the_default_pruner():
    pruning = STUDY_FILE_KEYS.split("pruning : ")[1].split("\nrandom_state :")[0]
    assert f"from epoch {search.DEFAULT_PRUNER_WARMUP_EPOCHS} on" in pruning
    assert f"once {search.DEFAULT_PRUNER_STARTUP_TRIALS} trials have completed" in pruning


def test_documented_examples_are_valid_study_files():
    example = tomllib.loads(STUDY_FILE_EXAMPLE)
    assert set(example) == KNOWN_KEYS  # the example shows every key
    config = TuneConfig.from_dict(example)
    assert config.search_space_object().param_distributions == "auto"
    explicit = STUDY_FILE_EXAMPLE.replace('search_space = "auto"\n', "")
    explicit += "\n" + STUDY_FILE_SEARCH_SPACE_EXAMPLE
    space = TuneConfig.from_dict(tomllib.loads(explicit)).search_space_object()
    assert sorted(space.param_distributions) == [
        "mlpclassifier__batch_size",
        "mlpclassifier__dropout",
        "mlpclassifier__lr",
    ]


def test_tune_config_docstring_holds_the_whole_format():
    for line in STUDY_FILE_KEYS.splitlines() + STUDY_FILE_EXAMPLE.splitlines():
        assert line.strip() in TuneConfig.__doc__, line
