"""The study description of ``sknets tune``: JSON and TOML, data sources, search spaces."""

import json

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from sklearn.pipeline import Pipeline

from sknets import MLPClassifier
from sknets.tuning.config import TuneConfig, estimator_classes

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
