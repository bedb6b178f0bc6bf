"""The study file read by ``sknets tune``: a small TOML or JSON file.

Every worker of a study reads the same file, so all of them train the same estimator on the
same data and folds. :class:`TuneConfig` reads and checks it; its Parameters are the keys of
the file (``sknets._study_file``, the one description of the format).
"""

from __future__ import annotations

import json
import pathlib
import re
from dataclasses import dataclass, field
from textwrap import indent
from typing import Any, NamedTuple

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from sklearn import datasets
from sklearn.metrics import get_scorer, get_scorer_names
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.multiclass import type_of_target

from .._study_file import STUDY_FILE_EXAMPLE, STUDY_FILE_KEYS
from .objective import EpochwiseCV
from .search import default_pruner
from .spaces import SearchSpace, final_step


class Task(NamedTuple):
    """What a study of one task (a classifier's or a regressor's) does its own way."""

    #: The task in words, as in "a regression metric".
    name: str
    #: The metric of a file without ``metric``: what the estimators' own ``score`` reports.
    default_metric: str
    #: The folds: stratified on the labels for classifiers, plain K folds for regressors.
    folds: type
    #: Metrics named when a file's metric belongs to the other task.
    metric_examples: tuple[str, ...]


#: The two tasks, by scikit-learn's ``estimator_type`` tag of the estimator a file names.
TASKS = {
    "classifier": Task(
        "classification",
        "accuracy",
        StratifiedKFold,
        ("accuracy", "balanced_accuracy", "f1_macro", "neg_log_loss"),
    ),
    "regressor": Task(
        "regression",
        "r2",
        KFold,
        ("r2", "neg_mean_squared_error", "neg_mean_absolute_error", "explained_variance"),
    ),
}

#: The scorers of numeric predictions (R2 and the errors), among ``get_scorer_names()``;
#: every other scorer compares labels (classification, and clustering's label agreement).
#: scikit-learn lists them nowhere public; the tests check this set against the module of
#: each scorer's metric, so a scorer added by a new release fails them, not a user's study.
REGRESSION_METRICS = frozenset(
    name
    for name in get_scorer_names()
    if name in {"r2", "explained_variance", "max_error", "d2_absolute_error_score"}
    or name.startswith(("neg_mean_", "neg_median_", "neg_root_mean_", "neg_max_"))
)

#: Datasets that ship with scikit-learn (no download): each loader and the task it is for.
BUILTIN_DATASETS = {
    "digits": (datasets.load_digits, "classifier"),
    "iris": (datasets.load_iris, "classifier"),
    "wine": (datasets.load_wine, "classifier"),
    "breast_cancer": (datasets.load_breast_cancer, "classifier"),
    "diabetes": (datasets.load_diabetes, "regressor"),
    "linnerud": (datasets.load_linnerud, "regressor"),  # three targets per row
}

SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler, "none": None}

KNOWN_KEYS = {
    "estimator", "scaler", "search_space", "n_trials", "cv", "metric", "pruning",
    "random_state", "params", "data",
}  # fmt: skip

#: Keys of the ``[data]`` table: a built-in dataset, or a CSV file and its label column.
DATA_KEYS = {"dataset", "csv", "target"}


def estimator_classes() -> dict[str, type]:
    """The sknets estimators a config may name, classifiers and regressors, by class name.

    Not ``NeuralNetClassifier`` / ``NeuralNetRegressor``: their network is Python code,
    which a TOML or JSON file cannot hold (tune them with :class:`~sknets.tuning.OptunaSearchCV`).
    """
    from .._registry import public_estimator_classes
    from ..network import ModuleArchitecture

    return {
        name: value
        for name, value in public_estimator_classes().items()
        if not issubclass(value, ModuleArchitecture)
    }


def _read(path: pathlib.Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"config {path} is not valid JSON: {error}") from error
    if path.suffix.lower() == ".toml":
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"config {path} is not valid TOML: {error}") from error
    raise ValueError(f"config {path} must end in .json or .toml, got {path.suffix!r}")


def _distribution(name: str, spec) -> optuna.distributions.BaseDistribution:
    if not isinstance(spec, dict) or "type" not in spec:
        raise ValueError(
            f"search_space.{name}={spec!r} must be a table with a type: "
            "{type = 'float', low = 1e-4, high = 1e-1, log = true}"
        )
    kind = spec["type"]
    options = {key: value for key, value in spec.items() if key != "type"}
    builders = {
        "float": FloatDistribution,
        "int": IntDistribution,
        "categorical": CategoricalDistribution,
    }
    if kind not in builders:
        raise ValueError(
            f"search_space.{name}.type={kind!r} is not supported; use 'float', 'int' or "
            "'categorical'"
        )
    try:
        return builders[kind](**options)
    except (TypeError, ValueError) as error:
        raise ValueError(f"search_space.{name}={spec!r} is not a valid {kind}: {error}") from error


@dataclass
class TuneConfig:
    """The study file of ``sknets tune``, read and checked: what every worker of a study tunes.

    Read one with :meth:`from_file` (``.toml`` or ``.json``) or :meth:`from_dict`; both check
    every key before any trial runs and raise a ValueError naming the key. The Parameters
    below are the keys of the file, with TOML's types (a JSON file has the same keys, its
    tables as objects).

    Parameters
    ----------
    {study_file_keys}
    base_dir : path, default=the current directory
        Where a relative ``data.csv`` path starts; :meth:`from_file` sets the file's folder.

    Notes
    -----
    A complete study file::

        {study_file_example}
    ``sknets tune study.toml --storage URL --study-name NAME`` runs a worker of that study.

    Examples
    --------
    >>> config = TuneConfig.from_dict({"estimator": "MLPClassifier", "data": {"dataset": "iris"}})
    >>> config.n_trials, config.metric
    (20, 'accuracy')
    >>> TuneConfig.from_dict({"estimator": "MLPRegressor", "data": {"dataset": "diabetes"}}).metric
    'r2'
    """

    estimator: str
    data: dict
    scaler: str = "none"
    search_space: Any = "auto"
    n_trials: int = 20
    cv: int = 3
    metric: str | None = None  # None: the task's default, set by from_dict
    pruning: bool = True
    random_state: int | None = 0
    params: dict = field(default_factory=dict)
    base_dir: pathlib.Path = field(default_factory=pathlib.Path.cwd)

    @classmethod
    def from_file(cls, path) -> TuneConfig:
        """Read and check a ``.json`` or ``.toml`` config."""
        path = pathlib.Path(path)
        if not path.is_file():
            raise ValueError(f"config file {path} does not exist")
        return cls.from_dict(_read(path), base_dir=path.resolve().parent)

    @classmethod
    def from_dict(cls, raw: dict, *, base_dir=None) -> TuneConfig:
        """Check a config given as a dict (the parsed file)."""
        unknown = sorted(set(raw) - KNOWN_KEYS)
        if unknown:
            raise ValueError(f"config has unknown keys {unknown}; known: {sorted(KNOWN_KEYS)}")
        for required in ("estimator", "data"):
            if required not in raw:
                raise ValueError(f"config needs {required!r}")
        config = cls(**raw, base_dir=pathlib.Path(base_dir or pathlib.Path.cwd()))
        config._check()
        return config

    def _check(self) -> None:
        classes = estimator_classes()
        if self.estimator not in classes:
            raise ValueError(f"estimator={self.estimator!r} is not one of {sorted(classes)}")
        if self.scaler not in SCALERS:
            raise ValueError(f"scaler={self.scaler!r} is not one of {sorted(SCALERS)}")
        task = self.task()
        if self.metric is None:
            self.metric = TASKS[task].default_metric
        if self.metric not in get_scorer_names():
            raise ValueError(f"metric={self.metric!r} is not a scikit-learn scorer name")
        metric_task = "regressor" if self.metric in REGRESSION_METRICS else "classifier"
        if metric_task != task:
            raise ValueError(
                f"metric={self.metric!r} is a {TASKS[metric_task].name} metric, but "
                f"{self.estimator} is a {task}; use a {TASKS[task].name} metric such as "
                f"{list(TASKS[task].metric_examples)}"
            )
        for name, value, minimum in (("n_trials", self.n_trials, 1), ("cv", self.cv, 2)):
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
        if not isinstance(self.pruning, bool):
            raise ValueError(f"pruning={self.pruning!r} must be true or false")
        if self.random_state is not None and (
            not isinstance(self.random_state, int) or isinstance(self.random_state, bool)
        ):
            raise ValueError(f"random_state={self.random_state!r} must be an integer")
        if not isinstance(self.params, dict):
            raise ValueError(f"params={self.params!r} must be a table of estimator parameters")
        if not isinstance(self.data, dict):
            raise ValueError(f"data={self.data!r} must be a table with dataset, or csv and target")
        unknown = sorted(set(self.data) - DATA_KEYS)
        if unknown:
            raise ValueError(f"data has unknown keys {unknown}; known: {sorted(DATA_KEYS)}")
        if ("dataset" in self.data) == ("csv" in self.data):
            raise ValueError(
                f"data={self.data!r} needs exactly one of dataset (a name among "
                f"{sorted(BUILTIN_DATASETS)}) or csv (a file, with target naming the column to "
                "predict)"
            )
        if "dataset" in self.data and self.data["dataset"] not in BUILTIN_DATASETS:
            raise ValueError(
                f"data.dataset={self.data['dataset']!r} is not one of {sorted(BUILTIN_DATASETS)}"
            )
        if "dataset" in self.data:
            self._check_dataset_task(self.data["dataset"], task)
        if "csv" in self.data and "target" not in self.data:
            raise ValueError("data.csv needs data.target, the name of the column to predict")
        if "dataset" in self.data and "target" in self.data:
            raise ValueError(
                f"data.target={self.data['target']!r} goes with data.csv; a built-in dataset "
                "has its own labels"
            )
        self.build_estimator().get_params()  # unknown parameters fail here, before any trial
        self._check_params_not_searched(self.search_space_object())

    def task(self) -> str:
        """``"classifier"`` or ``"regressor"``: the task of the estimator the file names."""
        return get_tags(estimator_classes()[self.estimator]()).estimator_type

    def _check_dataset_task(self, name: str, task: str) -> None:
        """A classifier cannot learn a numeric target; a regressor may read labels as numbers."""
        dataset_task = BUILTIN_DATASETS[name][1]
        if task == "classifier" and dataset_task == "regressor":
            fitting = sorted(key for key, (_, kind) in BUILTIN_DATASETS.items() if kind == task)
            raise ValueError(
                f"data.dataset={name!r} is a regression dataset (numeric targets), which "
                f"{self.estimator}, a classifier, cannot learn; name a regressor, or one of "
                f"the {TASKS[task].name} datasets {fitting}"
            )

    def _check_params_not_searched(self, space: SearchSpace) -> None:
        """A ``[params]`` value that the search draws anew in every trial would be dead."""
        _, prefix = final_step(space.estimator)
        searched = {name.removeprefix(prefix) for name in space.searched_names()}
        overridden = sorted(set(self.params) & searched)
        if not overridden:
            return
        fixed = ", ".join(f"params.{name}={self.params[name]!r}" for name in overridden)
        if self.search_space == "auto":
            raise ValueError(
                f"{fixed}: search_space = 'auto' draws {overridden} in every trial, so the "
                f"fixed value would never be used. Remove it from [params] to tune it, or "
                f"write a [search_space] table without it to keep it fixed ('auto' for "
                f"{self.estimator} draws {sorted(searched)})"
            )
        raise ValueError(
            f"{fixed}: [search_space] also has {overridden} and draws it in every trial, so "
            "the fixed value would never be used; keep it in one of the two tables"
        )

    def build_estimator(self):
        """The estimator (a Pipeline when a scaler is set) with the fixed parameters."""
        params = dict(self.params)
        for name, value in params.items():
            if isinstance(value, list):  # TOML/JSON have no tuples: (64, 32) arrives as a list
                params[name] = tuple(value)
        estimator_class = estimator_classes()[self.estimator]
        try:
            estimator = estimator_class(**params)
        except TypeError as error:
            raise ValueError(
                f"params={self.params!r} do not fit {self.estimator}: {error}"
            ) from error
        if self.random_state is not None and "random_state" not in params:
            estimator.set_params(random_state=self.random_state)
        scaler = SCALERS[self.scaler]
        return estimator if scaler is None else make_pipeline(scaler(), estimator)

    def search_space_object(self) -> SearchSpace:
        """The :class:`~sknets.tuning.SearchSpace` over the built estimator."""
        estimator = self.build_estimator()
        if self.search_space == "auto":
            return SearchSpace(estimator, "auto")
        if not isinstance(self.search_space, dict) or not self.search_space:
            raise ValueError(
                f"search_space={self.search_space!r} must be 'auto' or a table of distributions"
            )
        _, prefix = final_step(estimator)
        distributions = {
            prefix + name: _distribution(name, spec) for name, spec in self.search_space.items()
        }
        return SearchSpace(estimator, distributions)

    def load_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The inputs and targets named by ``data``; a CSV's target as the task needs it."""
        if "dataset" in self.data:
            loader, _ = BUILTIN_DATASETS[self.data["dataset"]]
            return loader(return_X_y=True)
        path = self.base_dir / self.data["csv"]
        if not path.is_file():
            raise ValueError(f"data.csv={self.data['csv']!r}: no file at {path}")
        table = pd.read_csv(path)
        target = self.data["target"]
        if target not in table.columns:
            raise ValueError(
                f"data.target={target!r} is not a column of {path}; columns: "
                f"{list(table.columns)[:12]}"
            )
        features = table.drop(columns=[target])
        non_numeric = [
            name for name in features.columns if not pd.api.types.is_numeric_dtype(features[name])
        ]
        if non_numeric:
            raise ValueError(f"{path} has non-numeric feature columns {non_numeric[:5]}")
        return features.to_numpy(dtype=np.float32), self._csv_target(table[target], path)

    def _csv_target(self, column: pd.Series, path: pathlib.Path) -> np.ndarray:
        """The target column as the estimator's task needs it: labels, or floats."""
        target = self.data["target"]
        if self.task() == "regressor":
            if not pd.api.types.is_numeric_dtype(column):
                raise ValueError(
                    f"data.target={target!r}: {self.estimator}, a regressor, needs numbers, "
                    f"but column {target!r} of {path} holds {column.iloc[0]!r} (dtype "
                    f"{column.dtype}); name a classifier to learn these as labels"
                )
            return column.to_numpy(dtype=np.float64)
        labels = column.to_numpy()
        kind = type_of_target(labels, input_name=f"data.target={target!r}")
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"data.target={target!r}: {self.estimator}, a classifier, needs class labels, "
                f"but column {target!r} of {path} is {kind!r} (sklearn's type_of_target); "
                "name a regressor to learn numeric targets"
            )
        return labels

    def pruner(self) -> optuna.pruners.BasePruner:
        """The median pruner, or none when ``pruning = false``."""
        return default_pruner() if self.pruning else optuna.pruners.NopPruner()

    def objective(self, deadline: float | None = None) -> EpochwiseCV:
        """The trial objective every worker of the study runs."""
        X, y = self.load_data()
        folds = TASKS[self.task()].folds(self.cv, shuffle=True, random_state=self.random_state)
        return EpochwiseCV(
            self.build_estimator(),
            self.search_space_object(),
            X,
            y,
            splits=list(folds.split(X, y)),
            scorers={self.metric: get_scorer(self.metric)},
            objective_metric=self.metric,
            error_score=np.nan,
            deadline=deadline,
        )

    def describe(self) -> dict:
        """What the study tunes, as stored in its user attributes."""
        return {
            "estimator": self.estimator,
            "scaler": self.scaler,
            "metric": self.metric,
            "cv": self.cv,
            "n_trials": self.n_trials,
            "data": self.data,
            "search_space": self.search_space,
        }


def _fill_marker(doc: str, marker: str, text: str) -> str:
    """Put ``text`` in place of the line ``{marker}``, at that line's indentation."""
    match = re.search(rf"^( *){{{marker}}}\n", doc, flags=re.MULTILINE)
    if match is None:
        raise ValueError(f"docstring lacks the marker {{{marker}}}")
    return doc.replace(match.group(0), indent(text, match.group(1)))


# The keys and the example come from sknets._study_file, which ``sknets tune --help`` and the
# user guide also show.
TuneConfig.__doc__ = _fill_marker(
    _fill_marker(TuneConfig.__doc__, "study_file_keys", STUDY_FILE_KEYS),
    "study_file_example",
    STUDY_FILE_EXAMPLE + "\n",
)
