"""The shared estimator engine: everything the sknets classifiers and regressors share.

A task base (:mod:`sknets.classifier`, :mod:`sknets.regressor`) adds how targets are encoded,
which loss trains them and how outputs become predictions; an architecture (:mod:`sknets.mlp`,
:mod:`sknets.cnn`, :mod:`sknets.rnn`) declares its parameters, how its input is validated
and shaped, and which :mod:`sknets.modules` network to build. This base owns validation of
the shared parameters, sample weights, validation data, seeding, devices, the skorch net,
convergence and early stopping, learning-rate schedules, history, warm start, one-epoch
``partial_fit`` and batch-invariant inference.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import math
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_y, check_consistent_length, check_is_fitted
from skorch.callbacks import ProgressBar
from skorch.helper import predefined_split
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, ReduceLROnPlateau

from ._convergence import ConvergenceStopping, FiniteLossCheck, NonFiniteLossError
from ._data import ArrayData, HoldoutSplit, first_rows, n_rows
from ._engine import ContinuingLRScheduler, EngineNet, resolve_device, seeded
from ._inference import BatchInvariantInference
from ._rows import as_module_inputs
from ._sklearn_compat import (
    Interval,
    Options,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    validate_data,
)
from ._sources import SampleSource

#: Optimizers by the name users pass as ``optimizer=``, with the defaults sknets adds.
OPTIMIZERS: dict[str, tuple[type[torch.optim.Optimizer], dict]] = {
    "adam": (torch.optim.Adam, {}),
    "adamw": (torch.optim.AdamW, {}),
    "sgd": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "rmsprop": (torch.optim.RMSprop, {}),
}


@functools.cache
def has_fused_step(optimizer_class: type, device: torch.device) -> bool:
    """Whether ``optimizer_class(fused=True)`` runs on ``device`` (torch >= 2.4 on the CPU).

    The fused step updates every parameter in one kernel: the same update, rounded
    differently, about 20 % faster per step for a small MLP on the CPU. Tried once per
    optimizer and device on a one-element parameter, so no torch version is guessed.
    """
    try:
        parameter = torch.zeros(1, device=device, requires_grad=True)
        parameter.grad = torch.zeros_like(parameter)
        optimizer_class([parameter], lr=1e-3, fused=True).step()
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


#: Validation share held out when ``early_stopping=True`` and ``validation_fraction=None``.
DEFAULT_VALIDATION_FRACTION = 0.1

#: ``lr_schedule="plateau"`` divides the learning rate by this factor's inverse (5, as
#: sklearn's ``learning_rate="adaptive"`` and the usual Keras ``ReduceLROnPlateau``).
PLATEAU_FACTOR = 0.2

#: skorch's history keys renamed in ``history_``; every other key a callback records is
#: kept under its own name, after these columns.
HISTORY_RENAMED = {"dur": "duration"}
HISTORY_FIRST = ["train_loss", "valid_loss", "valid_accuracy", "lr", "duration"]

#: History keys of the engine's own bookkeeping, left out of ``history_``.
HISTORY_HIDDEN = {
    "batches",
    "epoch",
    "train_batch_count",
    "valid_batch_count",
    "train_loss_best",
    "valid_loss_best",
}


def _all_finite(X: np.ndarray) -> bool:
    """Whether every value of a float array is finite, without an ``X``-sized temporary.

    The sum is finite exactly when no value is NaN or infinite, unless finite values
    overflow it; only then are the rows checked, a chunk at a time (scikit-learn's trick).
    ``np.isfinite(X).all()`` would allocate a bool array as large as a quarter of float32
    ``X`` on every prediction.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(X.sum()):
            return True
    rows = max(1, 2**20 // max(1, X.shape[1]))
    return all(bool(np.isfinite(X[start : start + rows]).all()) for start in range(0, len(X), rows))


def positive_ints(name: str, value, example: str) -> tuple[int, ...]:
    """Return ``value`` (an int or a sequence of ints) as a tuple of plain ints, all >= 1.

    Raises a ``ValueError`` naming the parameter, its value and an ``example`` of a valid one.
    """
    values = (value,) if isinstance(value, Integral) else tuple(value)
    if not all(isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in values):
        raise ValueError(f"{name}={value!r} must hold positive integers, e.g. {example}")
    return tuple(int(v) for v in values)


def validate_source(estimator, X: SampleSource, y=None, *, reset: bool):
    """``validate_data`` for samples read from storage, whose values are read only per batch.

    Checks and learns what can be known without reading them: the number of values per
    sample (``n_features_in_``), the dtype, the number of samples against ``y``; ``y`` is
    validated as sklearn does.
    """
    name = type(estimator).__name__
    if not (np.dtype(X.dtype) == np.uint8 or np.issubdtype(X.dtype, np.floating)):
        raise ValueError(f"{name} reads uint8 or float samples; {X!r} holds {X.dtype}")
    if len(X) == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is "
            f"required by {name}."
        )
    n_features = math.prod(X.shape[1:])
    if reset:
        estimator.n_features_in_ = n_features
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    elif n_features != estimator.n_features_in_:
        raise ValueError(
            f"X has {n_features} features, but {name} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    if y is not None:
        y = _check_y(y, multi_output=True)
        check_consistent_length(X, y)
    return X, y


class NeuralNetBase(BaseEstimator):
    """Base class of every sknets estimator; not meant to be used directly.

    A task base (:class:`~sknets.classifier.NeuralNetClassifierBase`,
    :class:`~sknets.regressor.NeuralNetRegressorBase`) implements ``_encode_targets`` (which
    sets ``self._task``, from ``sknets._tasks``) and the public ``partial_fit`` and
    prediction methods; an architecture implements ``_build_module`` and may override
    ``_validate_inputs``, ``_to_module_inputs`` and ``_batch_transform``.
    """

    _parameter_constraints: dict = {
        "optimizer": [StrOptions(set(OPTIMIZERS)), callable],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions({"constant", "plateau", "cosine"}), callable],
        "device": [str, torch.device],
        "mixed_precision": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "warm_start": ["boolean"],
    }

    #: scipy sparse formats the default validation lets through (sklearn's ``accept_sparse``);
    #: ``False``: dense input only.
    _accept_sparse: bool | list[str] = False

    # ----------------------------------------------------------------- subclass hooks
    def _validate_inputs(self, X, y=None, *, reset: bool):
        """Validate ``X`` (and ``y``) with sklearn; return arrays. Default: 2-D numeric rows."""
        if y is None and not reset and self._is_plain_fitted_rows(X):
            return X, None
        if isinstance(X, SampleSource):
            if X.ndim != 2:
                raise ValueError(
                    f"{type(self).__name__} takes rows (n_samples, n_features); {X!r} holds "
                    f"samples of shape {X.shape[1:]}"
                )
            return validate_source(self, X, y, reset=reset)
        kwargs = {
            "accept_sparse": self._accept_sparse,
            "dtype": [np.float32, np.float64],
            "reset": reset,
        }
        if y is None:
            return validate_data(self, X, **kwargs), None
        return validate_data(self, X, y, multi_output=True, **kwargs)

    def _is_plain_fitted_rows(self, X) -> bool:
        """Whether ``X`` already is what ``validate_data`` would return for prediction.

        A float ndarray of finite values with the fitted number of columns, for a model fitted
        without feature names, needs no conversion and no warning: skipping sklearn's generic
        checks (~60 us) keeps a one-row prediction fast. Anything else, including every input
        that must raise, goes through ``validate_data`` and its messages.
        """
        return (
            type(X) is np.ndarray
            and X.dtype in (np.float32, np.float64)
            and X.ndim == 2
            and X.shape[0] >= 1
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
            and _all_finite(X)
        )

    def _to_module_inputs(self, X, *, training: bool):
        """Turn validated ``X`` into what the module's ``forward`` takes (tensor or dict).

        Training inputs are float32; inference inputs keep float32 or float64 (the inference
        path picks its own precision).
        """
        # uint8 rows read from a source are made float32, as sklearn makes arrays of them.
        to_float = isinstance(X, SampleSource) and not np.issubdtype(X.dtype, np.floating)
        return as_module_inputs(
            X, training=training, decoded_dtype=np.float32 if to_float else None
        )

    def _build_module(self, n_outputs: int) -> nn.Module:
        """Return the untrained network, with ``n_outputs`` outputs, for the learned shapes."""
        raise NotImplementedError

    def _batch_transform(self):
        """Callable applied to training batches (augmentation), or None."""
        return None

    def _engine_callbacks(self) -> list:
        """Extra ``(name, skorch callback)`` pairs this estimator needs, e.g. gradient clipping."""
        return []

    def suggest_params(self, trial) -> dict:
        """Sample sknets' default search space for this estimator from an Optuna trial.

        The base covers the training parameters; each estimator adds its architecture. Used by
        :class:`sknets.tuning.OptunaSearchCV` with ``param_distributions="auto"``.

        Parameters
        ----------
        trial : optuna.trial.Trial
            The trial to draw from (define-by-run: structured values such as layer tuples are
            built from scalar suggestions, so any Optuna storage can hold them).

        Returns
        -------
        params : dict
            Keyword arguments for :meth:`set_params`.
        """
        return {
            "lr": trial.suggest_float("lr", 1e-4, 3e-2, log=True),
            "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256]),
            "weight_decay": trial.suggest_float("weight_decay", 1e-7, 1e-2, log=True),
        }

    # ----------------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Train the network on ``X, y`` for up to ``max_epochs`` epochs.

        Parameters
        ----------
        X : array-like
            Training inputs; the accepted shapes depend on the estimator.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets. Classifiers: class labels of any type (strings, integers,
            booleans...), or a 0/1 indicator matrix for multi-label classification (one
            independent sigmoid output per label, trained with binary cross-entropy).
            Regressors: numeric values, one column per output.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.
        X_val : array-like, default=None
            Your own validation inputs, in the layout of ``X``, instead of a share held out
            of the training data (so ``validation_fraction`` must stay None). Each epoch
            records ``valid_loss`` and ``valid_accuracy`` on them in ``history_``; with
            ``early_stopping=True`` they decide when to stop and which weights to keep. In a
            :class:`~sklearn.pipeline.Pipeline`, have the earlier steps transform it too
            with ``Pipeline(..., transform_input=["X_val"])`` (metadata routing).
        y_val : array-like, default=None
            Targets of ``X_val``, in the layout of ``y`` (a classifier's among its labels).
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Per-sample weights of the validation loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        continue_training = self.warm_start and hasattr(self, "net_")
        data = self._training_data(X, y, sample_weight, reset=not continue_training)
        validation = self._validation(X_val, y_val, sample_weight_val)
        if not continue_training:
            self._initialize_net()
        self._train(data, self.max_epochs, validation=validation, check_convergence=True)
        return self

    def _partial_fit(self, X, y, sample_weight, **target_options):
        """One epoch on ``X, y`` (``partial_fit``); ``target_options`` go to the task."""
        first_call = not hasattr(self, "net_")
        data = self._training_data(X, y, sample_weight, reset=first_call, **target_options)
        if first_call:
            self._initialize_net()
        self._train(data, 1, validation=None, check_convergence=False)
        return self

    def _validation_fraction(self) -> float | None:
        if self.validation_fraction is not None:
            return self.validation_fraction
        return DEFAULT_VALIDATION_FRACTION if self.early_stopping else None

    def _validation(self, X_val, y_val, sample_weight_val) -> ArrayData | float | None:
        """The validation data of a ``fit``: the user's own, a share to hold out, or None."""
        if X_val is None and y_val is None:
            if sample_weight_val is not None:
                raise ValueError("sample_weight_val was passed without X_val and y_val")
            return self._validation_fraction()
        if X_val is None or y_val is None:
            missing = "X_val" if X_val is None else "y_val"
            raise ValueError(f"X_val and y_val go together; {missing} is missing")
        if self.validation_fraction is not None:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} holds out part of the "
                "training data, but X_val and y_val were passed as the validation set; "
                "set validation_fraction=None to use X_val, or drop X_val"
            )
        X_val, y_val = self._validate_inputs(X_val, y_val, reset=False)
        targets = self._encode_targets(y_val, reset=False, name="y_val")
        weights = self._sample_weights(targets, sample_weight_val)
        return ArrayData(self._to_module_inputs(X_val, training=True), targets, weights)

    def _training_data(self, X, y, sample_weight, *, reset: bool, **target_options) -> ArrayData:
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        X, y = self._validate_inputs(X, y, reset=reset)
        targets = self._encode_targets(
            y, reset=reset, sample_weight=sample_weight, **target_options
        )
        self._learn_target_weights(targets)
        weights = self._sample_weights(targets, sample_weight)
        inputs = self._to_module_inputs(X, training=True)
        if reset:
            # Two samples as the network takes them, for summary() and for checking a
            # user's network when it is built; copies, as a view would keep X alive.
            self._example_inputs = first_rows(inputs, 2)
        return ArrayData(inputs, targets, weights)

    # ---------------------------------------------------------------------- task hooks
    def _encode_targets(
        self, y, *, reset: bool, sample_weight=None, name: str = "y", **options
    ) -> torch.Tensor:
        """The training targets of validated ``y`` as a tensor; with ``reset``, learn the task.

        Sets ``self._task`` (:mod:`sknets._tasks`) on ``reset``, from ``y`` weighted by
        ``sample_weight``; otherwise checks ``y`` against what was learned. ``name`` is how
        errors call ``y`` (``"y_val"``).
        """
        raise NotImplementedError

    def _learn_target_weights(self, targets: torch.Tensor) -> None:
        """Learn per-target loss weights (class weights) from the training targets."""

    def _target_weights(self, targets: torch.Tensor) -> np.ndarray | None:
        """Loss weight of each row from its target (class weights), or None."""
        return None

    def _sample_weights(self, targets: torch.Tensor, sample_weight) -> torch.Tensor | None:
        """Per-sample loss weights: ``sample_weight`` times the target weight; None if uniform.

        Target weights are learned from the training targets, also for validation data.
        """
        target_weights = self._target_weights(targets)
        if sample_weight is None and target_weights is None:
            return None
        n_samples = len(targets)
        weights = np.ones(n_samples)
        if sample_weight is not None:
            weights = _check_sample_weight(
                sample_weight, np.empty((n_samples, 0)), dtype=np.float64, ensure_non_negative=True
            )
        if target_weights is not None:
            weights = weights * target_weights
        return torch.from_numpy(weights.astype(np.float32))

    def _optimizer_and_options(self, device: torch.device) -> tuple[type, dict]:
        options = {"weight_decay": self.weight_decay} if self.weight_decay else {}
        if isinstance(self.optimizer, str):
            optimizer_class, defaults = OPTIMIZERS[self.optimizer]
            if has_fused_step(optimizer_class, device):
                defaults = {**defaults, "fused": True}
            return optimizer_class, {**defaults, **options}
        if isinstance(self.optimizer, type) and not issubclass(
            self.optimizer, torch.optim.Optimizer
        ):
            raise ValueError(
                f"optimizer={self.optimizer!r} is not a torch.optim.Optimizer subclass; use one of "
                f"{sorted(OPTIMIZERS)} or a torch optimizer class"
            )
        return self.optimizer, options

    def _initialize_net(self) -> None:
        device = resolve_device(self.device)
        optimizer_class, optimizer_options = self._optimizer_and_options(device)
        callbacks = [copy.deepcopy(callback) for callback in self.callbacks or []]
        callbacks += self._engine_callbacks()
        monitor = "valid_loss" if self.early_stopping else "train_loss"
        callbacks += self._schedule_callbacks(monitor)
        convergence = ConvergenceStopping(
            monitor=monitor,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            restore_best=self.early_stopping,
        )
        callbacks.append(("convergence", convergence))
        callbacks.append(("finite_loss", FiniteLossCheck(type(self).__name__)))
        if self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        self._seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        with seeded(self._seed, device):
            module = self._build_module(self._task.n_outputs)
        self.net_ = EngineNet(
            module=module,
            task=self._task,
            criterion=self._task.criterion,
            **{f"criterion__{name}": value for name, value in self._task.criterion_options.items()},
            optimizer=optimizer_class,
            lr=self.lr,
            **{f"optimizer__{name}": value for name, value in optimizer_options.items()},
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            train_split=None,
            callbacks=callbacks,
            verbose=int(self.verbose),
            device=str(device),
            mixed_precision=self.mixed_precision,
            batch_transform=self._batch_transform(),
        ).initialize()
        self._inference = BatchInvariantInference(device, self.batch_size, self.mixed_precision)

    def _schedule_callbacks(self, monitor: str) -> list:
        """The skorch ``LRScheduler`` that ``lr_schedule`` asks for (none for "constant")."""
        if self.lr_schedule == "constant":
            return []
        if self.lr_schedule == "plateau":
            patience = 5 if np.isinf(self.n_iter_no_change) else self.n_iter_no_change // 2
            scheduler = ContinuingLRScheduler(
                ReduceLROnPlateau,
                monitor=monitor,
                event_name=None,
                factor=PLATEAU_FACTOR,
                patience=max(1, int(patience)),
                threshold=self.tol,
                threshold_mode="abs",
            )
        elif self.lr_schedule == "cosine":
            scheduler = ContinuingLRScheduler(
                CosineAnnealingLR, event_name=None, T_max=self.max_epochs
            )
        else:
            scheduler = ContinuingLRScheduler(LambdaLR, event_name=None, lr_lambda=self.lr_schedule)
        return [("lr_schedule", scheduler)]

    def _train(
        self,
        data: ArrayData,
        n_epochs: int,
        *,
        validation: ArrayData | float | None,
        check_convergence: bool,
    ) -> None:
        """Train up to ``n_epochs`` epochs; with ``check_convergence``, stop when converged.

        ``validation`` is the validation data, a share of ``data`` to hold out, or None.
        ``partial_fit`` trains its one epoch without the convergence rule, as sklearn's does.
        A fit whose loss turns NaN or infinite raises and leaves the estimator unfitted.
        """
        net = self.net_
        epochs_before = len(net.history)
        epoch_seed = self._seed + epochs_before
        if isinstance(validation, ArrayData):
            net.train_split = predefined_split(validation)
        elif validation is not None:
            net.train_split = HoldoutSplit(validation, epoch_seed)
        else:
            net.train_split = None
        net.shuffle_seed = epoch_seed
        convergence = dict(net.callbacks_)["convergence"]
        convergence.enabled = check_convergence
        try:
            with seeded(epoch_seed, torch.device(net.device)):
                net.notify("on_train_begin", X=data, y=None)
                # Convergence ends skorch's loop with KeyboardInterrupt; Ctrl-C also ends
                # cleanly.
                with contextlib.suppress(KeyboardInterrupt):
                    net.fit_loop(data, epochs=n_epochs)
                net.notify("on_train_end", X=data, y=None)
        except NonFiniteLossError:
            self._forget_fit()
            raise
        self._record_fitted_attributes()
        trained = len(net.history) - epochs_before
        # n_iter_no_change=inf asks for every epoch: reaching max_epochs is then no news.
        stopping = not np.isinf(self.n_iter_no_change)
        if check_convergence and stopping and trained == n_epochs and not convergence.converged_:
            warnings.warn(
                f"{type(self).__name__}: max_epochs={n_epochs} reached and the "
                f"{convergence.monitor} has not converged yet (it improved by more than "
                f"tol={self.tol} within the last n_iter_no_change={self.n_iter_no_change} "
                "epochs); increase max_epochs, or raise tol.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _forget_fit(self) -> None:
        """Remove every fitted attribute: a fit that failed leaves an unfitted estimator."""
        for name in [name for name in vars(self) if name.endswith("_") and name[:1] != "_"]:
            delattr(self, name)

    def _record_fitted_attributes(self) -> None:
        self.module_ = self.net_.module_
        rows = [
            {
                HISTORY_RENAMED.get(key, key): value
                for key, value in row.items()
                if key not in HISTORY_HIDDEN
            }
            for row in self.net_.history
        ]
        epochs = pd.Index([row["epoch"] for row in self.net_.history], name="epoch")
        history = pd.DataFrame(rows, index=epochs)
        first = [column for column in HISTORY_FIRST if column in history]
        self.history_ = history[first + [c for c in history if c not in first]]
        self.n_epochs_ = len(rows)
        self.best_epoch_ = self._best_epoch()

    def _best_epoch(self) -> int:
        convergence = dict(self.net_.callbacks_)["convergence"]
        if convergence.restore_best and convergence.best_epoch_ is not None:
            return int(convergence.best_epoch_)
        if "valid_loss" in self.history_:
            return int(self.history_["valid_loss"].idxmin())
        return self.n_epochs_

    # ---------------------------------------------------------------------- inspection
    def summary(self, *, depth: int = 3):
        """Keras' ``model.summary()``: the network's layers, output shapes and parameters.

        Made by `torchinfo <https://github.com/TylerYep/torchinfo>`_ on one sample shaped
        like the training data, in eval mode; the fitted network is left as it was.

        Parameters
        ----------
        depth : int, default=3
            How many levels of nested modules to list.

        Returns
        -------
        summary : torchinfo.ModelStatistics
            Prints (and displays in a notebook) as the table of layers, their output
            shapes, their parameters and whether these train or are frozen; its
            ``total_params`` and ``trainable_params`` hold the counts.
        """
        check_is_fitted(self)
        import torchinfo

        device = next(self.module_.parameters(), torch.empty(0)).device
        inputs = self._example_inputs
        was_training = self.module_.training
        try:
            return torchinfo.summary(
                self.module_,
                input_data=inputs if isinstance(inputs, dict) else [inputs],
                depth=depth,
                col_names=("output_size", "num_params", "trainable"),
                device=device,
                mode="eval",
                verbose=0,
            )
        finally:
            self.module_.train(was_training)

    # -------------------------------------------------------------------- prediction
    def _outputs(self, X) -> torch.Tensor:
        """float64 outputs of the network for ``X``, the same for a row whatever else is in X."""
        check_is_fitted(self)
        X, _ = self._validate_inputs(X, reset=False)
        inputs = self._to_module_inputs(X, training=False)
        return self._inference(self.module_, inputs, n_rows(inputs))
