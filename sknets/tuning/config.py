"""The study description read by ``sknets tune``: a small JSON or TOML file.

Every worker of a study reads the same file, so all of them train the same estimator on the
same data and folds. Example (TOML)::

    estimator = "MLPClassifier"      # any sknets estimator
    scaler = "standard"              # "standard", "minmax" or "none": a Pipeline step first
    search_space = "auto"            # or a table of distributions, see below
    n_trials = 20                    # trials of the whole study, all workers together
    cv = 3
    metric = "accuracy"              # any scikit-learn scorer name
    pruning = true                   # the median pruner; false runs every epoch
    random_state = 0                 # seeds the folds and the networks

    [params]                         # fixed estimator parameters
    max_epochs = 30

    [data]
    dataset = "digits"               # digits, iris, wine or breast_cancer (shipped with sklearn)
    # csv = "train.csv"              # or a CSV file (path relative to this file) ...
    # target = "label"               # ... and the column holding the labels

An explicit search space names estimator parameters (no pipeline prefix)::

    [search_space]
    lr = { type = "float", low = 1e-4, high = 1e-1, log = true }
    batch_size = { type = "categorical", choices = [32, 64, 128] }
    dropout = { type = "float", low = 0.0, high = 0.5, step = 0.1 }
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from sklearn import datasets
from sklearn.metrics import get_scorer, get_scorer_names
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from ..classifier import NeuralNetClassifierBase
from .objective import EpochwiseCV
from .search import default_pruner
from .spaces import SearchSpace, final_step

BUILTIN_DATASETS = {
    "digits": datasets.load_digits,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
}

SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler, "none": None}

KNOWN_KEYS = {
    "estimator", "scaler", "search_space", "n_trials", "cv", "metric", "pruning",
    "random_state", "params", "data",
}  # fmt: skip


def estimator_classes() -> dict[str, type]:
    """The sknets estimators a config may name, by class name."""
    import sknets

    classes = {}
    for name in getattr(sknets, "__all__", dir(sknets)):
        value = getattr(sknets, name, None)
        if isinstance(value, type) and issubclass(value, NeuralNetClassifierBase):
            classes[name] = value
    return classes


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
    """A parsed study description; see the module docstring for the file format.

    Examples
    --------
    >>> config = TuneConfig.from_dict({"estimator": "MLPClassifier", "data": {"dataset": "iris"}})
    >>> config.n_trials, config.metric
    (20, 'accuracy')
    """

    estimator: str
    data: dict
    scaler: str = "none"
    search_space: Any = "auto"
    n_trials: int = 20
    cv: int = 3
    metric: str = "accuracy"
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
        if self.metric not in get_scorer_names():
            raise ValueError(f"metric={self.metric!r} is not a scikit-learn scorer name")
        for name, value, minimum in (("n_trials", self.n_trials, 1), ("cv", self.cv, 2)):
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
        if not isinstance(self.pruning, bool):
            raise ValueError(f"pruning={self.pruning!r} must be true or false")
        if not isinstance(self.params, dict):
            raise ValueError(f"params={self.params!r} must be a table of estimator parameters")
        if not isinstance(self.data, dict):
            raise ValueError(f"data={self.data!r} must be a table with dataset, or csv and target")
        if ("dataset" in self.data) == ("csv" in self.data):
            raise ValueError(
                f"data={self.data!r} needs exactly one of dataset (a name among "
                f"{sorted(BUILTIN_DATASETS)}) or csv (a file, with target naming its label column)"
            )
        if "dataset" in self.data and self.data["dataset"] not in BUILTIN_DATASETS:
            raise ValueError(
                f"data.dataset={self.data['dataset']!r} is not one of {sorted(BUILTIN_DATASETS)}"
            )
        if "csv" in self.data and "target" not in self.data:
            raise ValueError("data.csv needs data.target, the name of the label column")
        self.build_estimator().get_params()  # unknown parameters fail here, before any trial
        self.search_space_object()

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
        """The :class:`SearchSpace` over the built estimator."""
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
        """The inputs and labels named by ``data``."""
        if "dataset" in self.data:
            return BUILTIN_DATASETS[self.data["dataset"]](return_X_y=True)
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
        return features.to_numpy(dtype=np.float32), table[target].to_numpy()

    def pruner(self) -> optuna.pruners.BasePruner:
        """The median pruner, or none when ``pruning = false``."""
        return default_pruner() if self.pruning else optuna.pruners.NopPruner()

    def objective(self, deadline: float | None = None) -> EpochwiseCV:
        """The trial objective every worker of the study runs."""
        X, y = self.load_data()
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
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
