"""``RNNClassifier``: a recurrent many-to-one sequence classifier with the sklearn interface."""

from __future__ import annotations

from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch
from sklearn.utils.validation import check_array, check_consistent_length
from skorch.callbacks import GradientNormClipping

from ._docstrings import RNN_REGRESSOR_WEIGHT_DECAY, fill_shared_docs
from ._rows import as_module_inputs, check_dense
from ._sklearn_compat import Interval, StrOptions, validate_data
from ._sources import SampleSource
from .base import positive_ints
from .classifier import NeuralNetClassifierBase
from .modules import ACTIVATIONS, CELLS, RNN, SUMMARIES
from .regressor import NeuralNetRegressorBase
from .sequences import is_ragged, pad_sequences
from .text import OUT_OF_VOCABULARY_ID, PADDING_ID

#: Gradient-norm ceiling of ``clip_grad_norm="auto"`` for plain ``cell="rnn"``, whose
#: gradients explode most easily; LSTM and GRU gates keep theirs in check.
AUTO_CLIP_GRAD_NORM = 1.0


class _Sequences(NamedTuple):
    """Validated input: what the module reads, and how many steps of each row are real."""

    values: np.ndarray  # (n, T, F) floats, or (n, T) integer token ids
    lengths: np.ndarray | None  # (n,) valid steps; None when every row uses all T steps


RNN_PARAMETERS = """\
cell : {"lstm", "gru", "rnn"}, default="lstm"
    Recurrent layer: LSTM, GRU or an Elman RNN with tanh.
hidden_size : int, default=64
    Width of the recurrent state (per direction).
num_layers : int, default=1
    Number of stacked recurrent layers.
bidirectional : bool, default=False
    Also read each sequence backwards; doubles the width of the pooled vector.
dropout : float, default=0.0
    Dropout between stacked recurrent layers (only used when ``num_layers > 1``).
sequence_pooling : {"last", "mean", "max"}, default="last"
    How the per-step outputs become one vector per sequence: the final hidden state,
    or the mean or maximum over the valid steps (Keras' ``return_sequences=False``,
    ``GlobalAveragePooling1D`` and ``GlobalMaxPooling1D``).
hidden_layer_sizes : tuple of int, default=()
    Hidden layers of the dense head on top of the pooled vector; ``()`` is a linear layer.
activation : {"relu", "tanh", "sigmoid", "leaky_relu", "gelu", "elu"}, default="relu"
    Activation after each hidden layer of the head.
head_dropout : float, default=0.0
    Dropout after each hidden layer of the head.
vocab_size : int, "auto" or None, default=None
    Set it for token-id input: ids are mapped to vectors by an embedding with
    ``vocab_size`` rows, id 0 being padding and id 1 the out-of-vocabulary token.
    ``"auto"`` learns it in ``fit`` as the largest id seen plus one (so
    ``Pipeline([TextToSequences(), RNNClassifier(vocab_size="auto")])`` works without
    knowing the vocabulary in advance). In ``fit``, ids must be in
    ``[0, vocab_size)``; in ``predict``, ids ``>= vocab_size_`` are read as the
    out-of-vocabulary id 1, as ``TextToSequences`` does for unknown words.
embedding_dim : int, default=32
    Width of the token embedding (token input only).
input_shape : tuple (n_steps, n_features) or None, default=None
    Shape of one sequence when ``X`` is 2-D flat rows of ``n_steps * n_features``
    values. ``None`` reads each 2-D row as a univariate sequence.
clip_grad_norm : float, "auto" or None, default="auto"
    Rescale the gradients so their global L2 norm is at most this value, against
    exploding gradients. ``"auto"`` is 1.0 for ``cell="rnn"`` and no clipping for
    LSTM and GRU; ``None`` never clips.
"""

RNN_ATTRIBUTES = """\
n_features_in_ : int
    For 2-D numeric input (univariate rows, or flat rows with ``input_shape``), the
    number of columns, as in every sklearn estimator. For 3-D arrays, lists of sequences
    and token ids, the number of features per time step (1 for univariate sequences and
    token ids); their number of steps may differ between ``fit`` and ``predict``.
feature_names_in_ : ndarray of str
    Column names, when ``X`` was a DataFrame with string column names.
vocab_size_ : int
    Rows of the token embedding (token input only).
module_ : torch.nn.Module
    The trained network (:class:`sknets.modules.RNN`).
"""


class RNNArchitecture:
    """What the RNN estimators share: parameters, input layouts, the network built."""

    _docs = {"architecture_parameters": RNN_PARAMETERS, "architecture_attributes": RNN_ATTRIBUTES}
    _architecture_constraints: dict = {
        "cell": [StrOptions(set(CELLS))],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "sequence_pooling": [StrOptions(set(SUMMARIES))],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "head_dropout": [Interval(Real, 0, 1, closed="left")],
        # Ids 0 (padding) and 1 (out of vocabulary) are reserved, hence at least 2.
        "vocab_size": [StrOptions({"auto"}), Interval(Integral, 2, None, closed="left"), None],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "input_shape": ["array-like", None],
        "clip_grad_norm": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither"), None],
    }

    def suggest_params(self, trial) -> dict:
        """Sample the default RNN search space: LSTM or GRU, width, depth, direction, pooling.

        See :meth:`sknets.base.NeuralNetBase.suggest_params`.
        """
        num_layers = trial.suggest_int("num_layers", 1, 2)
        # Dropout only acts between stacked layers; a single layer gets no dead dimension.
        dropout = trial.suggest_float("dropout", 0.0, 0.5) if num_layers > 1 else 0.0
        return {
            **super().suggest_params(trial),
            "cell": trial.suggest_categorical("cell", ["lstm", "gru"]),
            "hidden_size": trial.suggest_int("hidden_size", 16, 256, log=True),
            "num_layers": num_layers,
            "dropout": dropout,
            "bidirectional": trial.suggest_categorical("bidirectional", [False, True]),
            "sequence_pooling": trial.suggest_categorical("sequence_pooling", list(SUMMARIES)),
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    # ------------------------------------------------------------------ input layouts
    def _validate_inputs(self, X, y=None, *, reset: bool):
        """Check ``X`` (and ``y``) in any accepted layout; return ``(_Sequences, y)``."""
        check_dense(X, type(self).__name__)
        if isinstance(X, SampleSource):
            raise ValueError(
                f"{type(self).__name__} reads its sequences from memory, not from {X!r}; "
                "pass an array (a memory map works: np.load(path, mmap_mode='r')), or train "
                "on chunks with partial_fit"
            )
        tokens = self.vocab_size is not None
        values, lengths = X, None
        if is_ragged(X):
            values, lengths = pad_sequences(X, padding_value=PADDING_ID)
            if lengths.min() == lengths.max():
                # Sequences of one length form a regular array: a list of rows is read as a
                # 2-D table, as every sklearn estimator reads it.
                lengths = None
        # Token ids are sequences whatever their layout: their padded width may change.
        table = lengths is None and getattr(values, "ndim", 2) != 3 and not tokens
        if reset:
            self._table_input = table
        dtype = "numeric" if tokens else [np.float32, np.float64]
        if table and self._table_input and y is None:
            values = validate_data(self, values, dtype=dtype, reset=reset)
        elif table and self._table_input:
            values, y = validate_data(self, values, y, dtype=dtype, reset=reset, multi_output=True)
        else:
            # Fitted on sequences, 2-D rows are sequences too: only the step features must
            # agree, not the number of steps.
            values, y = self._check_sequences(values, y, dtype=dtype)
        if tokens:
            values, lengths = self._token_ids(values, lengths, reset=reset)
        else:
            values = self._numeric_steps(values, flat_rows=table)
        self._check_step_features(values, reset=reset, tokens=tokens)
        if lengths is not None and lengths.min() == values.shape[1]:
            lengths = None  # every row is full: skip the cost of packing
        return _Sequences(values, lengths), y

    @staticmethod
    def _check_sequences(X, y, *, dtype):
        """Validate 3-D or padded arrays as sklearn would; validate_data is for 2-D only."""
        values = check_array(X, dtype=dtype, allow_nd=True, input_name="X")
        if values.ndim > 3 or 0 in values.shape[1:]:
            raise ValueError(
                f"X has shape {values.shape}; use (n_samples, n_steps, n_features) with at "
                "least 1 step and 1 feature, or a list of (n_steps_i, n_features) arrays"
            )
        if y is not None:
            check_consistent_length(values, y)
            # 1-D labels or a 2-D multi-label indicator matrix; the base checks which.
            y = check_array(y, accept_sparse="csr", ensure_2d=False, dtype=None, input_name="y")
        return values, y

    def _numeric_steps(self, values: np.ndarray, *, flat_rows: bool) -> np.ndarray:
        """Shape numeric input as ``(n, n_steps, n_features)``."""
        if self.input_shape is None:
            return values if values.ndim == 3 else values[:, :, np.newaxis]
        n_steps, n_features = self._checked_input_shape()
        if values.ndim == 3 or not flat_rows:
            values = values if values.ndim == 3 else values[:, :, np.newaxis]
            if values.shape[2] != n_features:
                raise ValueError(
                    f"input_shape={tuple(self.input_shape)} has {n_features} features per "
                    f"step but X has {values.shape[2]}"
                )
            return values
        if values.shape[1] != n_steps * n_features:
            raise ValueError(
                f"input_shape={tuple(self.input_shape)} needs {n_steps * n_features} features "
                f"per row, got {values.shape[1]}"
            )
        return values.reshape(len(values), n_steps, n_features)

    def _checked_input_shape(self) -> tuple[int, int]:
        shape = tuple(self.input_shape)
        if len(shape) != 2 or not all(
            isinstance(size, Integral) and not isinstance(size, bool) and size >= 1
            for size in shape
        ):
            raise ValueError(
                f"input_shape={self.input_shape!r} is not supported; use None or "
                "(n_steps, n_features) with two integers >= 1, e.g. (8, 8)"
            )
        return shape

    def _token_ids(self, values: np.ndarray, lengths, *, reset: bool):
        """Check token ids; learn ``vocab_size_`` in fit, map unseen ids to OOV after."""
        if values.ndim != 2 or not np.issubdtype(values.dtype, np.integer):
            raise ValueError(
                f"vocab_size={self.vocab_size!r} expects integer token ids of shape "
                f"(n_samples, n_steps) or a list of id sequences; got dtype {values.dtype} "
                f"and shape {values.shape}"
            )
        if self.input_shape is not None:
            raise ValueError(
                f"input_shape={self.input_shape!r} is for numeric rows; token ids need "
                "input_shape=None"
            )
        if values.min() < 0:
            raise ValueError(f"X contains token id {values.min()}; ids must be >= 0")
        largest = int(values.max())
        if reset:
            if self.vocab_size == "auto":
                self.vocab_size_ = max(largest + 1, OUT_OF_VOCABULARY_ID + 1)
            elif largest >= self.vocab_size:
                raise ValueError(
                    f"X contains token id {largest} but vocab_size={self.vocab_size}; ids "
                    f"must be in [0, {self.vocab_size}), or use vocab_size='auto'"
                )
            else:
                self.vocab_size_ = self.vocab_size
        elif largest >= self.vocab_size_:
            values = np.where(values >= self.vocab_size_, OUT_OF_VOCABULARY_ID, values)
        if lengths is None:
            # Padding is the trailing run of 0 ids; a row of only padding keeps one step.
            nonzero = values != PADDING_ID
            last = values.shape[1] - np.argmax(nonzero[:, ::-1], axis=1)
            lengths = np.where(nonzero.any(axis=1), last, 1)
        return values.astype(np.int64, copy=False), lengths

    def _check_step_features(self, values: np.ndarray, *, reset: bool, tokens: bool) -> None:
        n_features = 1 if tokens else values.shape[2]
        if reset:
            self._n_step_features = n_features
            if not self._table_input:
                self.n_features_in_ = n_features
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
        elif n_features != self._n_step_features:
            raise ValueError(
                f"X has {n_features} features per time step, but {type(self).__name__} was "
                f"fitted with {self._n_step_features} features per time step"
            )

    def _to_module_inputs(self, X: _Sequences, *, training: bool):
        values = as_module_inputs(X.values, training=training)
        if X.lengths is None:
            return values
        return {"x": values, "lengths": torch.from_numpy(X.lengths.astype(np.int64))}

    # ------------------------------------------------------------------- the network
    def _build_module(self, n_outputs: int) -> RNN:
        tokens = self.vocab_size is not None
        return RNN(
            None if tokens else self._n_step_features,
            n_outputs,
            cell=self.cell,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            summary=self.sequence_pooling,
            hidden_layer_sizes=positive_ints(
                "hidden_layer_sizes", self.hidden_layer_sizes, "(64,); () gives a linear head"
            ),
            activation=self.activation,
            head_dropout=self.head_dropout,
            vocab_size=self.vocab_size_ if tokens else None,
            embedding_dim=self.embedding_dim if tokens else None,
            padding_idx=PADDING_ID,
        )

    def _engine_callbacks(self) -> list:
        max_norm = self.clip_grad_norm
        if max_norm == "auto":
            max_norm = AUTO_CLIP_GRAD_NORM if self.cell == "rnn" else None
        if max_norm is None:
            return []
        return [("gradient_clipping", GradientNormClipping(gradient_clip_value=max_norm))]


@fill_shared_docs
class RNNClassifier(RNNArchitecture, NeuralNetClassifierBase):
    """Recurrent (RNN, LSTM or GRU) sequence classifier trained with PyTorch.

    Reads each sequence step by step and classifies it from a pooled vector of the recurrent
    outputs (many-to-one), through :class:`sknets.modules.RNN`.

    Accepted layouts of ``X``:

    - ``(n_samples, n_steps, n_features)`` array: multivariate sequences;
    - ``(n_samples, n_columns)`` array or DataFrame: one univariate sequence per row, or,
      with ``input_shape=(n_steps, n_features)``, flat rows reshaped to that shape (so the
      estimator works after a scaler in a :class:`~sklearn.pipeline.Pipeline`);
    - a list (or 1-D object array, or Series) of ``(n_steps_i, n_features)`` or
      ``(n_steps_i,)`` arrays of different lengths: they are padded at the end and packed,
      so the padding never changes a sequence's prediction;
    - with ``vocab_size`` set, integer token ids: ``(n_samples, n_steps)`` rows padded with
      0 at the end (the output of :class:`sknets.text.TextToSequences`; each row's
      sequence ends at its last non-zero id), or a list of token-id lists.

    A list of sequences that all have the same length is read as the regular array it
    forms (a list of rows is a 2-D table, as everywhere in sklearn). ``predict`` accepts
    any layout whose number of features per step matches ``fit``, and sequences of any
    length, except that after a fit on 2-D numeric rows, 2-D rows must keep the same
    number of columns.

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
    >>> from sknets import RNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = RNNClassifier(input_shape=(8, 8), max_epochs=2, random_state=0).fit(X / 16, y)
    >>> clf.predict(X[:3] / 16).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **NeuralNetClassifierBase._parameter_constraints,
        **RNNArchitecture._architecture_constraints,
    }

    def __init__(
        self,
        cell: str = "lstm",
        hidden_size: int = 64,
        *,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        sequence_pooling: str = "last",
        hidden_layer_sizes=(),
        activation: str = "relu",
        head_dropout: float = 0.0,
        vocab_size: int | str | None = None,
        embedding_dim: int = 32,
        input_shape: tuple[int, int] | None = None,
        clip_grad_norm: float | str | None = "auto",
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
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.sequence_pooling = sequence_pooling
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.head_dropout = head_dropout
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.input_shape = input_shape
        self.clip_grad_norm = clip_grad_norm
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


@fill_shared_docs
class RNNRegressor(RNNArchitecture, NeuralNetRegressorBase):
    """Recurrent (RNN, LSTM or GRU) sequence regressor (many-to-one) trained with PyTorch.

    Takes the input layouts of :class:`RNNClassifier` (see there) and standardises the targets
    for training, predicting in their units (``scale_targets``); ``y`` may have several
    columns (multi-output).

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
    >>> import numpy as np
    >>> from sknets import RNNRegressor
    >>> series = np.sin(np.arange(300) / 5)
    >>> windows = np.lib.stride_tricks.sliding_window_view(series, 11)
    >>> X, y = windows[:, :10, np.newaxis], windows[:, 10]
    >>> reg = RNNRegressor(hidden_size=16, max_epochs=3, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _docs = {"weight_decay": RNN_REGRESSOR_WEIGHT_DECAY}

    _parameter_constraints: dict = {
        **NeuralNetRegressorBase._parameter_constraints,
        **RNNArchitecture._architecture_constraints,
    }

    def __init__(
        self,
        cell: str = "lstm",
        hidden_size: int = 64,
        *,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        sequence_pooling: str = "last",
        hidden_layer_sizes=(),
        activation: str = "relu",
        head_dropout: float = 0.0,
        vocab_size: int | str | None = None,
        embedding_dim: int = 32,
        input_shape: tuple[int, int] | None = None,
        clip_grad_norm: float | str | None = "auto",
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
        loss: str = "squared_error",
        huber_delta: float = 1.0,
        scale_targets: bool = True,
        device: str | torch.device = "auto",
        mixed_precision: bool = False,
        random_state=None,
        verbose: int = 0,
        callbacks: list | None = None,
        warm_start: bool = False,
    ) -> None:
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.sequence_pooling = sequence_pooling
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.head_dropout = head_dropout
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.input_shape = input_shape
        self.clip_grad_norm = clip_grad_norm
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
        self.loss = loss
        self.huber_delta = huber_delta
        self.scale_targets = scale_targets
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start
