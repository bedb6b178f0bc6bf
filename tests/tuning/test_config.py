"""The study description of ``sknets tune``: JSON and TOML, data sources, search spaces."""

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from sklearn.metrics import get_scorer, get_scorer_names, r2_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline

from sknets import (
    CNNClassifier,
    CNNRegressor,
    MLPClassifier,
    MLPRegressor,
    RNNClassifier,
    RNNRegressor,
)
from sknets._study_file import STUDY_FILE_EXAMPLE, STUDY_FILE_KEYS, STUDY_FILE_SEARCH_SPACE_EXAMPLE
from sknets.tuning import search
from sknets.tuning.config import (
    BUILTIN_DATASETS,
    DATA_KEYS,
    KNOWN_KEYS,
    REGRESSION_METRICS,
    TASKS,
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
    six = [MLPClassifier, CNNClassifier, RNNClassifier, MLPRegressor, CNNRegressor, RNNRegressor]
    assert estimator_classes() == {estimator.__name__: estimator for estimator in six}


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
        if fields[key].default is None and key == "metric":  # None: the task's default
            tasks = ", ".join(
                f'"{task.default_metric}" for a {name}' for name, task in TASKS.items()
            )
            assert default.group(1) == tasks
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


# ---------------------------------------------------------------------------- regressors
REGRESSOR = {
    "estimator": "MLPRegressor",
    "scaler": "standard",
    "data": {"dataset": "diabetes"},
    "params": {"max_epochs": 3, "device": "cpu"},
    # A learning rate at which 3 epochs reach a clearly positive R2 on diabetes.
    "search_space": {"lr": {"type": "float", "low": 1e-2, "high": 3e-2}},
}


# The fit that checks the scorer trains 3 epochs, on purpose too few to converge.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_regressor_study_on_diabetes_maximises_r2():
    config = TuneConfig.from_dict(REGRESSOR)
    assert config.metric == "r2" and config.describe()["metric"] == "r2"
    objective = config.objective()
    assert list(objective.scorers) == ["r2"] and objective.objective_metric == "r2"
    study = optuna.create_study(direction="maximize", pruner=config.pruner())
    study.optimize(objective, n_trials=2)
    assert [trial.state for trial in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2
    # An R2: at most 1, here well above 0 (a squared error would be in the thousands).
    assert all(0.2 < trial.value < 1 for trial in study.trials)
    X, y = config.load_data()
    model = config.build_estimator().fit(X, y)
    assert objective.scorers["r2"](model, X, y) == pytest.approx(r2_score(y, model.predict(X)))


def test_the_default_metric_is_the_tasks_score():
    classifier = TuneConfig.from_dict(BASE)
    regressor = TuneConfig.from_dict({"estimator": "RNNRegressor", "data": {"dataset": "diabetes"}})
    assert (classifier.task(), classifier.metric) == ("classifier", "accuracy")
    assert (regressor.task(), regressor.metric) == ("regressor", "r2")
    # A metric the file names is kept.
    raw = {**REGRESSOR, "metric": "neg_mean_absolute_error"}
    assert TuneConfig.from_dict(raw).metric == "neg_mean_absolute_error"
    assert TuneConfig(estimator="MLPRegressor", data={"dataset": "diabetes"}).metric is None


@pytest.mark.parametrize(
    ("raw", "folds"),
    [
        (BASE, StratifiedKFold),
        ({"estimator": "MLPRegressor", "data": {"dataset": "diabetes"}}, KFold),
    ],
)
def test_folds_are_stratified_for_classifiers_and_plain_for_regressors(raw, folds):
    config = TuneConfig.from_dict({**raw, "cv": 3, "random_state": 7})
    X, y = config.load_data()
    expected = list(folds(3, shuffle=True, random_state=7).split(X, y))
    splits = config.objective().splits
    assert len(splits) == 3
    for (train, test), (expected_train, expected_test) in zip(splits, expected):
        np.testing.assert_array_equal(train, expected_train)
        np.testing.assert_array_equal(test, expected_test)


def test_stratified_and_plain_folds_differ_on_the_data_of_the_test_above():
    # Otherwise the test above could not tell the two kinds of folds apart.
    for raw in (BASE, {"estimator": "MLPRegressor", "data": {"dataset": "diabetes"}}):
        X, y = TuneConfig.from_dict(raw).load_data()
        labels = np.arange(len(y)) % 3  # any labels: StratifiedKFold needs classes
        stratified = next(StratifiedKFold(3, shuffle=True, random_state=7).split(X, labels))[1]
        plain = next(KFold(3, shuffle=True, random_state=7).split(X))[1]
        assert not np.array_equal(np.sort(stratified), np.sort(plain))


@pytest.mark.parametrize(
    ("estimator", "dataset", "metric", "kind", "task"),
    [
        ("MLPRegressor", "diabetes", "accuracy", "classification", "regressor"),
        ("CNNRegressor", "diabetes", "neg_log_loss", "classification", "regressor"),
        ("MLPRegressor", "diabetes", "adjusted_rand_score", "classification", "regressor"),
        ("MLPClassifier", "iris", "r2", "regression", "classifier"),
        ("RNNClassifier", "iris", "neg_mean_squared_error", "regression", "classifier"),
    ],
)
def test_a_metric_of_the_other_task_is_an_error(estimator, dataset, metric, kind, task):
    raw = {"estimator": estimator, "data": {"dataset": dataset}, "metric": metric}
    examples = re.escape(str(list(TASKS[task].metric_examples)))
    with pytest.raises(
        ValueError,
        match=rf"metric='{metric}' is a {kind} metric, but {estimator} is a {task}; use a "
        rf"{TASKS[task].name} metric such as {examples}",
    ):
        TuneConfig.from_dict(raw)


def test_regression_metrics_are_the_scorers_of_sklearns_regression_metrics():
    # sklearn lists no scorer by task; the module of each scorer's metric function does.
    # (``_score_func`` is private: it is read here, never by the package.)
    by_module = {
        name
        for name in get_scorer_names()
        if get_scorer(name)._score_func.__module__.endswith("._regression")
    }
    assert by_module == REGRESSION_METRICS
    assert {"r2", "neg_mean_squared_error", "neg_root_mean_squared_error"} <= REGRESSION_METRICS


def test_builtin_datasets_ship_with_sklearn_and_say_their_task():
    tasks = {name: task for name, (_, task) in BUILTIN_DATASETS.items()}
    assert tasks == {
        "digits": "classifier",
        "iris": "classifier",
        "wine": "classifier",
        "breast_cancer": "classifier",
        "diabetes": "regressor",
        "linnerud": "regressor",
    }
    X, y = TuneConfig.from_dict(
        {"estimator": "MLPRegressor", "data": {"dataset": "diabetes"}}
    ).load_data()
    assert X.shape == (442, 10) and y.dtype == np.float64


@pytest.mark.parametrize("dataset", ["diabetes", "linnerud"])
def test_a_classifier_on_a_regression_dataset_is_an_error(dataset):
    raw = {"estimator": "CNNClassifier", "data": {"dataset": dataset}}
    with pytest.raises(
        ValueError,
        match=rf"data.dataset='{dataset}' is a regression dataset \(numeric targets\), which "
        r"CNNClassifier, a classifier, cannot learn; name a regressor, or one of the "
        r"classification datasets \['breast_cancer', 'digits', 'iris', 'wine'\]",
    ):
        TuneConfig.from_dict(raw)


def test_a_regressor_may_read_a_classification_datasets_labels_as_numbers():
    config = TuneConfig.from_dict({"estimator": "MLPRegressor", "data": {"dataset": "iris"}})
    assert config.metric == "r2"
    assert set(config.load_data()[1]) == {0, 1, 2}


def test_linnerud_tunes_a_multi_output_regressor():
    raw = {**REGRESSOR, "data": {"dataset": "linnerud"}}
    config = TuneConfig.from_dict(raw)
    X, y = config.load_data()
    assert X.shape == (20, 3) and y.shape == (20, 3)
    study = optuna.create_study(direction="maximize")
    study.optimize(config.objective(), n_trials=1)
    # Linnerud's 20 rows hardly predict the targets: the point is a finite multi-output R2.
    assert study.trials[0].state == optuna.trial.TrialState.COMPLETE
    assert np.isfinite(study.trials[0].value) and study.trials[0].value <= 1


def _csv(tmp_path, labels) -> dict:
    rows = ["a,b,y"] + [f"{i % 7},{i % 5},{label}" for i, label in enumerate(labels)]
    (tmp_path / "t.csv").write_text("\n".join(rows))
    return {"csv": "t.csv", "target": "y"}


def test_a_csv_with_a_numeric_target_trains_a_regressor(tmp_path):
    data = _csv(tmp_path, [f"{0.5 * i:.1f}" for i in range(30)])
    config = TuneConfig.from_dict({**REGRESSOR, "data": data}, base_dir=tmp_path)
    X, y = config.load_data()
    assert y.dtype == np.float64 and y[3] == 1.5
    integers = _csv(tmp_path, range(30))  # integers too are numbers for a regressor
    config = TuneConfig.from_dict({**REGRESSOR, "data": integers}, base_dir=tmp_path)
    assert config.load_data()[1].dtype == np.float64
    study = optuna.create_study(direction="maximize")
    study.optimize(config.objective(), n_trials=1)
    assert study.trials[0].state == optuna.trial.TrialState.COMPLETE


def test_csv_targets_that_do_not_fit_the_task_are_errors(tmp_path):
    data = _csv(tmp_path, ["yes", "no"] * 5)
    regressor = TuneConfig.from_dict({**REGRESSOR, "data": data}, base_dir=tmp_path)
    with pytest.raises(
        ValueError,
        match=r"data.target='y': MLPRegressor, a regressor, needs numbers, but column 'y' of "
        r".*t.csv holds 'yes' \(dtype \w+\); name a classifier",
    ):
        regressor.objective()  # what ``sknets tune`` calls before any trial
    data = _csv(tmp_path, [0.25 * i for i in range(10)])
    classifier = TuneConfig.from_dict({**BASE, "data": data}, base_dir=tmp_path)
    with pytest.raises(
        ValueError,
        match=r"data.target='y': MLPClassifier, a classifier, needs class labels, but column "
        r"'y' of .*t.csv is 'continuous' \(sklearn's type_of_target\); name a regressor",
    ):
        classifier.objective()


def _toml_blocks(page: Path) -> list[str]:
    """The ``.. code-block:: toml`` blocks of an RST page, unindented."""
    blocks = []
    for part in page.read_text(encoding="utf-8").split(".. code-block:: toml\n")[1:]:
        lines = []
        for line in part.splitlines()[1:]:  # the block starts after one empty line
            if line and not line.startswith("   "):
                break
            lines.append(line[3:])
        blocks.append("\n".join(lines))
    return blocks


def test_the_documented_regression_example_is_a_valid_study_file():
    page = Path(__file__).parents[2] / "docs" / "user_guide" / "tuning.rst"
    (example,) = [block for block in _toml_blocks(page) if "Regressor" in block]
    config = TuneConfig.from_dict(tomllib.loads(example))
    assert config.estimator == "MLPRegressor" and config.task() == "regressor"
    assert config.metric == "r2" and config.data == {"dataset": "diabetes"}
