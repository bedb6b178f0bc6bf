"""``MLPClassifier``: a multi-layer perceptron with the sklearn interface."""

from __future__ import annotations

from numbers import Integral, Real

import torch

from ._docstrings import fill_shared_docs
from ._sklearn_compat import Interval, StrOptions
from .base import NeuralNetClassifierBase, positive_ints
from .modules import ACTIVATIONS, MLP


@fill_shared_docs
class MLPClassifier(NeuralNetClassifierBase):
    """Multi-layer perceptron classifier trained with PyTorch.

    ``X`` holds one sample per row: a numpy array, a DataFrame, or a scipy sparse matrix or
    array (CSR, CSC or COO; other formats are converted to CSR) such as
    :class:`~sklearn.feature_extraction.text.TfidfVectorizer` produces. Sparse input is
    never made dense as a whole: each batch is, on its way to the network, so memory grows
    with the stored values, not with ``n_samples * n_features``. Fits and predictions are
    the same as on ``X.toarray()``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer. ``()`` gives a single linear layer with a softmax: a
        perceptron / multinomial logistic regression.
    activation : {"relu", "tanh", "sigmoid", "leaky_relu", "gelu", "elu"}, default="relu"
        Activation after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer (training only).
    batch_norm : bool, default=False
        Batch normalisation of each hidden layer.
    {training_parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.
    module_ : torch.nn.Module
        The trained network (:class:`sknets.modules.MLP`).
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
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
    }

    # Batches of rows are made dense one at a time (sknets._data.SparseRows).
    _accept_sparse = ["csr", "csc", "coo"]

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation: str = "relu",
        *,
        dropout: float = 0.0,
        batch_norm: bool = False,
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
        class_weight=None,
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
        self.class_weight = class_weight
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def suggest_params(self, trial) -> dict:
        """Sample the default MLP search space: depth 1-3, width 32-512, dropout, training.

        See :meth:`NeuralNetClassifierBase.suggest_params`.
        """
        n_layers = trial.suggest_int("n_layers", 1, 3)
        width = trial.suggest_int("width", 32, 512, log=True)
        return {
            **super().suggest_params(trial),
            "hidden_layer_sizes": (width,) * n_layers,
            "activation": trial.suggest_categorical("activation", ["relu", "gelu", "tanh"]),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        }

    def _build_module(self, n_classes: int) -> MLP:
        hidden_layer_sizes = positive_ints(
            "hidden_layer_sizes",
            self.hidden_layer_sizes,
            "(100,) or (256, 128); () gives a perceptron",
        )
        return MLP(
            self.n_features_in_,
            n_classes,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=self.activation,
            dropout=self.dropout,
            batch_norm=self.batch_norm,
        )
