"""The shared estimator engine: everything MLP, CNN and RNN classifiers have in common.

A subclass declares its architecture parameters, how its input is validated and shaped, and
which :mod:`sknets.modules` network to build; this base owns validation of the shared
parameters, label encoding, sample and class weights, seeding, devices, the skorch net,
early stopping, history, warm start, ``partial_fit`` and prediction.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import ProgressBar
from torch import nn

from ._convergence import ConvergenceStopping, FiniteLossCheck, NonFiniteLossError
from ._data import ArrayData, HoldoutSplit, as_module_tensor, n_rows
from ._engine import EngineNet, resolve_device, seeded
from ._inference import BatchInvariantInference
from ._sklearn_compat import (
    Interval,
    Options,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    validate_data,
)

#: Optimizers by the name users pass as ``optimizer=``, with the defaults sknets adds.
OPTIMIZERS: dict[str, tuple[type[torch.optim.Optimizer], dict]] = {
    "adam": (torch.optim.Adam, {}),
    "adamw": (torch.optim.AdamW, {}),
    "sgd": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "rmsprop": (torch.optim.RMSprop, {}),
}

#: Validation share held out when ``early_stopping=True`` and ``validation_fraction=None``.
DEFAULT_VALIDATION_FRACTION = 0.1

HISTORY_COLUMNS = {
    "train_loss": "train_loss",
    "valid_loss": "valid_loss",
    "valid_accuracy": "valid_accuracy",
    "dur": "duration",
}


def positive_ints(name: str, value, example: str) -> tuple[int, ...]:
    """Return ``value`` (an int or a sequence of ints) as a tuple of plain ints, all >= 1.

    Raises a ``ValueError`` naming the parameter, its value and an ``example`` of a valid one.
    """
    values = (value,) if isinstance(value, Integral) else tuple(value)
    if not all(isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in values):
        raise ValueError(f"{name}={value!r} must hold positive integers, e.g. {example}")
    return tuple(int(v) for v in values)


class NeuralNetClassifierBase(ClassifierMixin, BaseEstimator):
    """Base class of the sknets classifiers; not meant to be used directly.

    Subclasses implement :meth:`_build_module` and may override :meth:`_validate_inputs`,
    :meth:`_to_module_inputs` and :meth:`_batch_transform`.
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
        "class_weight": [StrOptions({"balanced"}), dict, None],
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
        kwargs = {
            "accept_sparse": self._accept_sparse,
            "dtype": [np.float32, np.float64],
            "reset": reset,
        }
        if y is None:
            return validate_data(self, X, **kwargs), None
        return validate_data(self, X, y, **kwargs)

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
            and bool(np.isfinite(X).all())
        )

    def _to_module_inputs(self, X, *, training: bool):
        """Turn validated ``X`` into what the module's ``forward`` takes (tensor or dict).

        Training inputs are float32; inference inputs keep float32 or float64 (the inference
        path picks its own precision).
        """
        return as_module_tensor(X, training=training)

    def _build_module(self, n_classes: int) -> nn.Module:
        """Return the untrained network for the shapes learned in ``fit``."""
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
    def fit(self, X, y, sample_weight=None):
        """Train the network on ``X, y`` for up to ``max_epochs`` epochs.

        Parameters
        ----------
        X : array-like
            Training inputs; the accepted shapes depend on the estimator.
        y : array-like of shape (n_samples,)
            Class labels of any type (strings, integers, booleans…).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        continue_training = self.warm_start and hasattr(self, "net_")
        data = self._training_data(X, y, sample_weight, reset=not continue_training)
        if not continue_training:
            self._initialize_net()
        self._train(
            data,
            self.max_epochs,
            use_validation=self._validation_fraction() is not None,
            check_convergence=True,
        )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train exactly one epoch on ``X, y``, keeping the current weights.

        Parameters
        ----------
        X : array-like
            Training inputs.
        y : array-like of shape (n_samples,)
            Class labels; all must be among ``classes`` (first call) or ``classes_``.
        classes : array-like, default=None
            Every label the model will ever see. Required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.

        Returns
        -------
        self : object
            The estimator, trained one epoch more.
        """
        first_call = not hasattr(self, "net_")
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, which sees one "
                "chunk of data at a time; pass a dict of weights per class instead"
            )
        data = self._training_data(X, y, sample_weight, reset=first_call, classes=classes)
        if first_call:
            self._initialize_net()
        self._train(data, 1, use_validation=False, check_convergence=False)
        return self

    def _validation_fraction(self) -> float | None:
        if self.validation_fraction is not None:
            return self.validation_fraction
        return DEFAULT_VALIDATION_FRACTION if self.early_stopping else None

    def _training_data(self, X, y, sample_weight, *, reset: bool, classes=None) -> ArrayData:
        X, y = self._validate_inputs(X, y, reset=reset)
        check_classification_targets(y)
        if reset:
            self.classes_ = self._learn_classes(y, classes)
        else:
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} not seen in the first fit; "
                    f"the model knows only classes_={self.classes_.tolist()}"
                )
        targets = np.searchsorted(self.classes_, y).astype(np.int64)
        weights = self._sample_weights(X, y, targets, sample_weight)
        inputs = self._to_module_inputs(X, training=True)
        return ArrayData(inputs, torch.from_numpy(targets), weights)

    @staticmethod
    def _learn_classes(y, classes) -> np.ndarray:
        labels = np.unique(y if classes is None else classes)
        if classes is not None:
            unknown = np.setdiff1d(np.unique(y), labels)
            if unknown.size:
                raise ValueError(
                    f"y contains labels {unknown.tolist()} that are not in "
                    f"classes={labels.tolist()}"
                )
        if len(labels) < 2:
            raise ValueError(
                f"y contains {len(labels)} class ({labels.tolist()}); a classifier needs "
                "samples of at least 2 classes"
            )
        return labels

    def _sample_weights(self, X, y, targets, sample_weight) -> torch.Tensor | None:
        """Per-sample loss weights: ``sample_weight`` times the class weight; None if uniform."""
        if sample_weight is None and self.class_weight is None:
            return None
        n_samples = len(targets)
        weights = np.ones(n_samples)
        if sample_weight is not None:
            weights = _check_sample_weight(
                sample_weight, np.empty((n_samples, 0)), dtype=np.float64, ensure_non_negative=True
            )
        if self.class_weight is not None:
            per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
            weights = weights * per_class[targets]
        return torch.from_numpy(weights.astype(np.float32))

    def _optimizer_and_options(self) -> tuple[type, dict]:
        options = {"weight_decay": self.weight_decay} if self.weight_decay else {}
        if isinstance(self.optimizer, str):
            optimizer_class, defaults = OPTIMIZERS[self.optimizer]
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
        optimizer_class, optimizer_options = self._optimizer_and_options()
        callbacks = [copy.deepcopy(callback) for callback in self.callbacks or []]
        callbacks += self._engine_callbacks()
        convergence = ConvergenceStopping(
            monitor="valid_loss" if self.early_stopping else "train_loss",
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
            module = self._build_module(len(self.classes_))
        self.net_ = EngineNet(
            module=module,
            criterion=nn.CrossEntropyLoss,
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

    def _train(
        self, data: ArrayData, n_epochs: int, *, use_validation: bool, check_convergence: bool
    ) -> None:
        """Train up to ``n_epochs`` epochs; with ``check_convergence``, stop when converged.

        ``partial_fit`` trains its one epoch without the convergence rule, as sklearn's does.
        A fit whose loss turns NaN or infinite raises and leaves the estimator unfitted.
        """
        net = self.net_
        epochs_before = len(net.history)
        epoch_seed = self._seed + epochs_before
        fraction = self._validation_fraction()
        net.train_split = HoldoutSplit(fraction, epoch_seed) if use_validation else None
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
        if check_convergence and trained == n_epochs and not convergence.converged_:
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
                "epoch": row["epoch"],
                **{new: row[old] for old, new in HISTORY_COLUMNS.items() if old in row},
            }
            for row in self.net_.history
        ]
        self.history_ = pd.DataFrame(rows).set_index("epoch")
        self.n_epochs_ = len(rows)
        self.best_epoch_ = self._best_epoch()

    def _best_epoch(self) -> int:
        convergence = dict(self.net_.callbacks_)["convergence"]
        if convergence.restore_best and convergence.best_epoch_ is not None:
            return int(convergence.best_epoch_)
        if "valid_loss" in self.history_:
            return int(self.history_["valid_loss"].idxmin())
        return self.n_epochs_

    # -------------------------------------------------------------------- prediction
    def _logits(self, X) -> torch.Tensor:
        """float64 outputs of the network for ``X``, the same for a row whatever else is in X."""
        check_is_fitted(self)
        X, _ = self._validate_inputs(X, reset=False)
        inputs = self._to_module_inputs(X, training=False)
        return self._inference(self.module_, inputs, n_rows(inputs))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, one column per entry of ``classes_``.

        Parameters
        ----------
        X : array-like
            Inputs in the layout used for ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Softmax of the network's outputs (rows sum to 1).
        """
        return torch.softmax(self._logits(X), dim=1).numpy()

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed stably."""
        return torch.log_softmax(self._logits(X), dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        """Most probable label for each row, as an entry of ``classes_``."""
        best = self._logits(X).argmax(dim=1).numpy()
        return self.classes_[best]
