"""``MLPClassifier`` and ``MLPRegressor``: multi-layer perceptrons with the sklearn interface."""

from __future__ import annotations

from numbers import Integral, Real

import torch

from ._docstrings import fill_shared_docs
from ._sklearn_compat import Interval, StrOptions
from .base import positive_ints
from .classifier import NeuralNetClassifierBase
from .modules import ACTIVATIONS, MLP
from .regressor import NeuralNetRegressorBase

MLP_INPUT = """\
``X`` holds one sample per row: a numpy array, a DataFrame, or a scipy sparse matrix or
array (CSR, CSC or COO; other formats are converted to CSR) such as
:class:`~sklearn.feature_extraction.text.TfidfVectorizer` produces. Sparse input is
never made dense as a whole: each batch is, on its way to the network, so memory grows
with the stored values, not with ``n_samples * n_features``. Fits and predictions are
the same as on ``X.toarray()``.
"""

MLP_PARAMETERS = """\
hidden_layer_sizes : tuple of int, default=(100,)
    Width of each hidden layer. ``()`` gives a single linear layer: a perceptron /
    (multinomial) logistic regression for a classifier, a linear regression for a
    regressor.
activation : {"relu", "tanh", "sigmoid", "leaky_relu", "gelu", "elu"}, default="relu"
    Activation after each hidden layer.
dropout : float, default=0.0
    Dropout probability after each hidden layer (training only).
batch_norm : bool, default=False
    Batch normalisation of each hidden layer.
"""

MLP_ATTRIBUTES = """\
n_features_in_ : int
    Number of features seen in ``fit``.
feature_names_in_ : ndarray of str
    Column names, when ``X`` was a DataFrame with string column names.
module_ : torch.nn.Module
    The trained network (:class:`sknets.modules.MLP`).
"""


class MLPArchitecture:
    """What the MLP estimators share: their parameters, sparse rows and the network built."""

    _docs = {
        "architecture_input": MLP_INPUT,
        "architecture_parameters": MLP_PARAMETERS,
        "architecture_attributes": MLP_ATTRIBUTES,
    }
    _architecture_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
    }

    # Batches of rows are made dense one at a time (sknets._rows.Rows).
    _accept_sparse = ["csr", "csc", "coo"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def suggest_params(self, trial) -> dict:
        """Sample the default MLP search space: depth 1-3, width 32-512, dropout, training.

        See :meth:`sknets.base.NeuralNetBase.suggest_params`.
        """
        n_layers = trial.suggest_int("n_layers", 1, 3)
        width = trial.suggest_int("width", 32, 512, log=True)
        return {
            **super().suggest_params(trial),
            "hidden_layer_sizes": (width,) * n_layers,
            "activation": trial.suggest_categorical("activation", ["relu", "gelu", "tanh"]),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        }

    def _build_module(self, n_outputs: int) -> MLP:
        hidden_layer_sizes = positive_ints(
            "hidden_layer_sizes",
            self.hidden_layer_sizes,
            "(100,) or (256, 128); () gives a perceptron",
        )
        return MLP(
            self.n_features_in_,
            n_outputs,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=self.activation,
            dropout=self.dropout,
            batch_norm=self.batch_norm,
        )


@fill_shared_docs
class MLPClassifier(MLPArchitecture, NeuralNetClassifierBase):
    """Multi-layer perceptron classifier trained with PyTorch.

    {architecture_input}

    Parameters
    ----------
    {architecture_parameters}
    {task_parameters}
    {training_parameters}

    Attributes
    ----------
    {task_attributes}
    {architecture_attributes}
    {training_attributes}

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknets import MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(max_epochs=5, random_state=0).fit(X / 16, y)
    >>> clf.predict(X[:3] / 16).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **NeuralNetClassifierBase._parameter_constraints,
        **MLPArchitecture._architecture_constraints,
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation: str = "relu",
        *,
        dropout: float = 0.0,
        batch_norm: bool = False,
        class_weight=None,
        optimizer="adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        batch_size: int = 128,
        max_epochs: int = 100,
        early_stopping: bool = False,
        validation_fraction: float | None = None,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        lr_schedule="constant",
        device: str | torch.device = "auto",
        mixed_precision: bool = False,
        random_state=None,
        verbose: int = 0,
        callbacks: list | None = None,
        warm_start: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.class_weight = class_weight
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.lr_schedule = lr_schedule
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start


@fill_shared_docs
class MLPRegressor(MLPArchitecture, NeuralNetRegressorBase):
    """Multi-layer perceptron regressor trained with PyTorch.

    {architecture_input}

    Targets are standardised for training and predictions come back in their units
    (``scale_targets``); ``y`` may have several columns (multi-output).

    Parameters
    ----------
    {architecture_parameters}
    {task_parameters}
    {training_parameters}

    Attributes
    ----------
    {task_attributes}
    {architecture_attributes}
    {training_attributes}

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import scale
    >>> from sknets import MLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = MLPRegressor(max_epochs=5, random_state=0).fit(scale(X), y)
    >>> reg.predict(scale(X)[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **NeuralNetRegressorBase._parameter_constraints,
        **MLPArchitecture._architecture_constraints,
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation: str = "relu",
        *,
        dropout: float = 0.0,
        batch_norm: bool = False,
        loss: str = "squared_error",
        huber_delta: float = 1.0,
        scale_targets: bool = True,
        optimizer="adam",
        lr: float = 1e-3,
        weight_decay: float = 0.01,
        batch_size: int = 128,
        max_epochs: int = 100,
        early_stopping: bool = False,
        validation_fraction: float | None = None,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        lr_schedule="constant",
        device: str | torch.device = "auto",
        mixed_precision: bool = False,
        random_state=None,
        verbose: int = 0,
        callbacks: list | None = None,
        warm_start: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.loss = loss
        self.huber_delta = huber_delta
        self.scale_targets = scale_targets
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.lr_schedule = lr_schedule
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start
