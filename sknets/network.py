"""``NeuralNetClassifier`` and ``NeuralNetRegressor``: your own torch network, sklearn's contract.

The network is any :class:`torch.nn.Module`: a class, a callable returning one, or an
instance (copied at fit). It is built with the keyword arguments it accepts among what
``fit`` learned (``n_features_in``, ``input_shape``, ``n_outputs``), plus the user's
``module__<name>`` parameters, which are real scikit-learn parameters. Everything else —
labels or targets, validation, early stopping, devices, seeding, history, inference — is
the shared engine's (:mod:`sknets.base`).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping

import numpy as np
import scipy.sparse
import torch
from sklearn.utils.validation import check_array
from torch import nn

from ._data import n_rows
from ._docstrings import WEIGHT_DECAY, fill_shared_docs
from ._engine import resolve_device
from ._inference import _forward, _to_float64
from ._rows import as_module_inputs
from ._sklearn_compat import validate_data
from ._sources import SampleSource
from .base import validate_source
from .classifier import NeuralNetClassifierBase
from .modules import MLP
from .regressor import NeuralNetRegressorBase

#: What ``fit`` learns and passes to the network's constructor when it accepts the name.
LEARNED_ARGUMENTS = ("n_features_in", "input_shape", "n_outputs")

#: Prefix of the network's own parameters among the estimator's.
MODULE_PREFIX = "module__"

NETWORK_INPUT = """\
``X`` is a numeric array of shape ``(n_samples, ...)`` — rows, images, signals, any shape
the network's ``forward`` takes — a DataFrame, a scipy sparse matrix (each batch reaches
the network dense), or a dict of such arrays with ``n_samples`` rows each, passed to
``forward`` as keyword arguments by name (networks with several inputs). Floating-point
inputs train in float32; integer arrays reach the network in their own dtype, without a
copy (uint8 images for a network that scales them, int64 token ids for an
``nn.Embedding``): cast ``X`` to float for a network of ``Linear`` layers.
"""

NETWORK_PARAMETERS = """\
module : nn.Module subclass, callable returning an nn.Module, nn.Module or None, default=None
    The network. A class or callable is called at each fresh fit with the keyword
    arguments it accepts among ``n_features_in`` (values per sample, for array ``X``),
    ``input_shape`` (one sample's shape; for a dict ``X``, a dict of shapes) and
    ``n_outputs`` (classes, labels or targets, learned from ``y``), plus every
    ``module__<name>`` parameter as ``name``. An instance is deep-copied at fit, so it is
    never trained in place (``module__`` parameters cannot apply to it). ``None`` builds
    :class:`sknets.modules.MLP` with one hidden layer of 100 units, as
    :class:`~sknets.MLPClassifier` does (its ``hidden_layer_sizes``, ``activation``,
    ``dropout`` and ``batch_norm`` are then ``module__`` parameters). The network must map
    a batch to outputs of shape ``(batch, n_outputs)``: logits for a classifier (no
    softmax), values for a regressor; a wrong width, or a ``forward`` that fails on the
    data, raises a ``ValueError`` at fit naming the shapes.
**module_params : module__<name>=value
    Parameters of the network, passed to ``module`` as ``name=value``. They are
    scikit-learn parameters: ``get_params``, ``set_params``, ``clone``, ``GridSearchCV``
    (e.g. ``{"module__hidden": [32, 64]}``) and ``OptunaSearchCV`` spaces take them.
"""

NETWORK_ATTRIBUTES = """\
n_features_in_ : int
    Values per sample seen in ``fit`` (for array ``X``).
feature_names_in_ : ndarray of str
    Column names, when ``X`` was a DataFrame with string column names.
input_shape_ : tuple of int or dict
    One sample's shape (for a dict ``X``, the shape of each named input).
module_ : torch.nn.Module
    The trained network.
"""


def _default_network(
    n_features_in: int,
    n_outputs: int,
    hidden_layer_sizes=(100,),
    activation: str = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> nn.Module:
    """``module=None``: sknets' MLP, with MLPClassifier's defaults."""
    return MLP(
        n_features_in,
        n_outputs,
        hidden_layer_sizes=tuple(hidden_layer_sizes),
        activation=activation,
        dropout=dropout,
        batch_norm=batch_norm,
    )


def _describe(inputs) -> str:
    """The shapes and dtypes of a batch, for error messages."""
    if isinstance(inputs, Mapping):
        return (
            "{" + ", ".join(f"{name!r}: {_describe(part)}" for name, part in inputs.items()) + "}"
        )
    return f"{tuple(inputs.shape)} {str(inputs.dtype).removeprefix('torch.')}"


def _accepted_arguments(factory, names) -> list[str]:
    """The ``names`` that ``factory``'s signature takes (all of them with ``**kwargs``)."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature: offer everything
        return list(names)
    parameters = signature.parameters.values()
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters):
        return list(names)
    return [name for name in names if name in signature.parameters]


class ModuleArchitecture:
    """What the own-network estimators share: ``module``, ``module__`` parameters, any input."""

    _docs = {
        "architecture_input": NETWORK_INPUT,
        "architecture_parameters": NETWORK_PARAMETERS,
        "architecture_attributes": NETWORK_ATTRIBUTES,
        "weight_decay": WEIGHT_DECAY,
    }
    _architecture_constraints: dict = {"module": [callable, nn.Module, None]}
    _accept_sparse = ["csr", "csc", "coo"]

    def _set_module_params(self, module_params: dict) -> None:
        """Store ``module__<name>`` keyword arguments, which ``get_params`` then returns.

        They live in a private dict, not as attributes: scikit-learn lets ``__init__`` set
        only the parameters its signature names. Any other keyword is kept aside and
        reported by ``fit``: scikit-learn estimators raise no error in ``__init__`` or
        ``set_params``.
        """
        stored = dict(getattr(self, "_module_kwargs", {}))
        for key, value in module_params.items():
            if key.startswith(MODULE_PREFIX) and key != MODULE_PREFIX:
                stored[key] = value
            else:
                self._unexpected_params = {**getattr(self, "_unexpected_params", {}), key: value}
        self._module_kwargs = stored

    def _check_unexpected_params(self) -> None:
        unexpected = sorted(getattr(self, "_unexpected_params", {}))
        if unexpected:
            raise ValueError(
                f"{type(self).__name__} got unexpected parameters {unexpected}; parameters of "
                "the network are passed as module__<name>"
            )

    def _module_params(self) -> dict:
        """The ``module__<name>`` parameters set on this estimator, with their prefix."""
        return dict(getattr(self, "_module_kwargs", {}))

    def get_params(self, deep: bool = True) -> dict:
        """Get the parameters of this estimator, ``module__<name>`` ones included.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of contained estimators.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return {**super().get_params(deep=deep), **self._module_params()}

    def set_params(self, **params):
        """Set the parameters of this estimator; ``module__<name>`` ones go to the network.

        Parameters
        ----------
        **params : dict
            Estimator parameters, e.g. ``lr=0.01`` or ``module__hidden=64``.

        Returns
        -------
        self : object
            The estimator.
        """
        module_params = {
            key: params.pop(key)
            for key in list(params)
            # "module_params" is the name of __init__'s **module_params, which sklearn's
            # checks pass like any parameter: kept aside for fit to report, as in __init__.
            if key.startswith(MODULE_PREFIX) or key == "module_params"
        }
        super().set_params(**params)
        self._set_module_params(module_params)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------------ input layouts
    def _validate_inputs(self, X, y=None, *, reset: bool):
        """Validate ``X`` as samples of any shape (or a dict of them) and ``y`` alongside."""
        if y is None and not reset and self._is_plain_fitted_rows(X):
            return X, None
        if isinstance(X, Mapping) and not scipy.sparse.issparse(X):  # a DOK matrix is a dict
            return self._validate_named_inputs(X, y, reset=reset)
        if isinstance(X, SampleSource):
            self._check_sample_shape(tuple(X.shape[1:]), reset=reset)
            X, y = validate_source(self, X, y, reset=reset)
            if reset:
                self.input_shape_ = tuple(X.shape[1:])
            return X, y
        if isinstance(X, list | tuple):
            X = np.asarray(X)
        sample_shape = None
        if len(getattr(X, "shape", ())) >= 3:
            X = np.asarray(X)
            sample_shape = tuple(X.shape[1:])
            self._check_sample_shape(sample_shape, reset=reset)
            X = X.reshape(len(X), -1)  # sklearn validates 2-D rows: a sample's values
        kwargs = {"accept_sparse": self._accept_sparse, "dtype": "numeric", "reset": reset}
        if y is None:
            X = validate_data(self, X, **kwargs)
        else:
            X, y = validate_data(self, X, y, multi_output=True, **kwargs)
        if sample_shape is None:
            sample_shape = (X.shape[1],)
            self._check_sample_shape(sample_shape, reset=reset)
        if reset:
            self.input_shape_ = sample_shape
        if not scipy.sparse.issparse(X):
            X = X.reshape(len(X), *sample_shape)
        return X, y

    def _is_plain_fitted_rows(self, X) -> bool:
        # Rows of the fitted width are "plain" only for a network fitted on rows.
        return (
            isinstance(X, np.ndarray)
            and self.input_shape_ == X.shape[1:]
            and super()._is_plain_fitted_rows(X)
        )

    def _check_sample_shape(self, sample_shape: tuple, *, reset: bool) -> None:
        if reset or sample_shape == self.input_shape_:
            return
        raise ValueError(
            f"X has samples of shape {sample_shape}, but {type(self).__name__} was fitted on "
            f"samples of shape input_shape_={self.input_shape_}"
        )

    def _validate_named_inputs(self, X: Mapping, y, *, reset: bool):
        """A dict of arrays with as many rows each (and as ``y``)."""
        if not X:
            raise ValueError("X is an empty dict; give the network at least one named input")
        arrays = {}
        for name, values in X.items():
            values = check_array(
                np.asarray(values) if isinstance(values, list | tuple) else values,
                dtype="numeric",
                ensure_2d=False,
                allow_nd=True,
                input_name=f"X[{name!r}]",
            )
            if values.ndim == 1:
                values = values.reshape(-1, 1)
            arrays[name] = values
        lengths = {name: len(values) for name, values in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"the inputs of X have different numbers of rows: {lengths}")
        shapes = {name: tuple(values.shape[1:]) for name, values in arrays.items()}
        if reset:
            self.input_shape_ = shapes
            if hasattr(self, "n_features_in_"):
                del self.n_features_in_
        elif shapes != self.input_shape_:
            raise ValueError(
                f"X has inputs of shapes {shapes}, but {type(self).__name__} was fitted on "
                f"input_shape_={self.input_shape_}"
            )
        if y is not None:
            y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
            if len(y) != next(iter(lengths.values())):
                raise ValueError(f"X has {next(iter(lengths.values()))} rows but y has {len(y)}")
        return arrays, y

    def _to_module_inputs(self, X, *, training: bool):
        if isinstance(X, Mapping):
            return {name: _network_tensor(values, training=training) for name, values in X.items()}
        if self.module is None and np.issubdtype(X.dtype, np.integer):
            X = X.astype(np.float32)  # sknets' MLP takes numbers, not token ids
        return _network_tensor(X, training=training)

    # --------------------------------------------------------------------- the network
    def _build_module(self, n_outputs: int) -> nn.Module:
        self._check_unexpected_params()
        network = self._construct_network(n_outputs)
        self._check_network(network, n_outputs)
        return network

    def _construct_network(self, n_outputs: int) -> nn.Module:
        params = {
            key.removeprefix(MODULE_PREFIX): value for key, value in self._module_params().items()
        }
        learned = {"input_shape": self.input_shape_, "n_outputs": n_outputs}
        if hasattr(self, "n_features_in_"):
            learned["n_features_in"] = self.n_features_in_
        module = self.module
        if isinstance(module, nn.Module):
            if params:
                raise ValueError(
                    f"module is an instance of {type(module).__name__}, so the parameters "
                    f"{sorted(self._module_params())} cannot reach its constructor; pass the "
                    f"class module={type(module).__name__} instead"
                )
            return copy.deepcopy(module)
        if module is None:
            if "n_features_in" not in learned:
                raise ValueError(
                    "module=None builds sknets' MLP, which takes array X; for a dict X pass "
                    "your own network as module"
                )
            factory, name = _default_network, "the default MLP"
        else:
            factory, name = module, getattr(module, "__name__", repr(module))
        arguments = {
            key: learned[key]
            for key in _accepted_arguments(factory, LEARNED_ARGUMENTS)
            if key in learned
        }
        arguments.update(params)
        try:
            network = factory(**arguments)
        except Exception as error:  # any failure of user code, reported with its arguments
            raise ValueError(
                f"module={name} could not be built with {_describe_arguments(arguments)}: "
                f"{type(error).__name__}: {error}. fit passes n_features_in, input_shape and "
                "n_outputs when the constructor names them; anything else is a "
                "module__<name> parameter"
            ) from error
        if not isinstance(network, nn.Module):
            raise ValueError(
                f"module={name} returned {type(network).__name__}, not a torch.nn.Module"
            )
        return network

    def _check_network(self, network: nn.Module, n_outputs: int) -> None:
        """Run the network on two training samples: shapes, and float64 on the CPU."""
        inputs = self._example_inputs
        rows = n_rows(inputs)
        outputs = _probe(network, inputs, description=f"a batch of {_describe(inputs)}")
        expected = (rows, n_outputs)
        if not isinstance(outputs, torch.Tensor) or tuple(outputs.shape) != expected:
            seen = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else type(outputs)
            raise ValueError(
                f"the network returned outputs of shape {seen} for a batch of "
                f"{_describe(inputs)}; {type(self).__name__} needs {expected}: "
                f"(batch, n_outputs) with n_outputs={n_outputs} learned from y"
            )
        if resolve_device(self.device).type == "cpu":
            # Predictions on the CPU run a float64 copy (batch-invariant inference).
            _probe(
                copy.deepcopy(network).to(torch.float64),
                {name: _to_float64(part) for name, part in inputs.items()}
                if isinstance(inputs, Mapping)
                else _to_float64(inputs),
                description=(
                    "float64 inputs, as sknets predicts on the CPU so that a sample's "
                    "prediction never depends on the others in the call (make forward "
                    "follow the input's dtype, e.g. torch.zeros(..., dtype=x.dtype))"
                ),
            )


#: Integer dtypes that reach the network as they are (torch has them all); others: int64.
KEPT_INTEGER_DTYPES = (np.uint8, np.int8, np.int16, np.int32, np.int64)


def _network_tensor(values, *, training: bool):
    """Floats as the engine makes them; integers in their own dtype, without a copy (uint8
    images stay uint8 for a network that scales them, token ids stay int32 or int64)."""
    keep = not scipy.sparse.issparse(values) and np.dtype(values.dtype) in KEPT_INTEGER_DTYPES
    return as_module_inputs(values, training=training, keep_integers=keep)


def _describe_arguments(arguments: dict) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in arguments.items()) or "no arguments"


def _probe(network: nn.Module, inputs, *, description: str):
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            return _forward(network, inputs)
    except Exception as error:  # any failure of user code, reported with the shapes
        raise ValueError(
            f"the network's forward failed on {description}: {type(error).__name__}: {error}"
        ) from error
    finally:
        network.train(was_training)


@fill_shared_docs
class NeuralNetClassifier(ModuleArchitecture, NeuralNetClassifierBase):
    """Classifier over your own torch network, with scikit-learn's interface.

    skorch's ``NeuralNetClassifier`` and scikeras' ``KerasClassifier`` for sknets: the
    network is yours, the rest — label encoding, ``class_weight``, multi-label ``y``,
    validation and early stopping, convergence, devices, seeding, history,
    ``partial_fit``, batch-invariant ``predict_proba`` — is the engine every sknets
    classifier runs on.

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
    >>> from torch import nn
    >>> from sknets import NeuralNetClassifier
    >>> class Net(nn.Module):
    ...     def __init__(self, n_features_in, n_outputs, hidden=32):
    ...         super().__init__()
    ...         self.layers = nn.Sequential(
    ...             nn.Linear(n_features_in, hidden), nn.ReLU(), nn.Linear(hidden, n_outputs)
    ...         )
    ...     def forward(self, x):
    ...         return self.layers(x)
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = NeuralNetClassifier(Net, module__hidden=64, max_epochs=5, random_state=0)
    >>> clf.fit(X / 16, y).predict(X[:3] / 16).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **NeuralNetClassifierBase._parameter_constraints,
        **ModuleArchitecture._architecture_constraints,
    }

    def __init__(
        self,
        module=None,
        *,
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
        **module_params,
    ) -> None:
        self.module = module
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
        self._set_module_params(module_params)


@fill_shared_docs
class NeuralNetRegressor(ModuleArchitecture, NeuralNetRegressorBase):
    """Regressor over your own torch network, with scikit-learn's interface.

    skorch's ``NeuralNetRegressor`` and scikeras' ``KerasRegressor`` for sknets: the network
    is yours; target standardisation (``scale_targets``), the loss, multi-output ``y``,
    validation and early stopping, convergence, devices, seeding, history, ``partial_fit``
    and batch-invariant ``predict`` come from the engine every sknets regressor runs on.

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
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import scale
    >>> from torch import nn
    >>> from sknets import NeuralNetRegressor
    >>> def linear(n_features_in, n_outputs):
    ...     return nn.Linear(n_features_in, n_outputs)
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = NeuralNetRegressor(linear, max_epochs=5, random_state=0).fit(scale(X), y)
    >>> reg.predict(scale(X)[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **NeuralNetRegressorBase._parameter_constraints,
        **ModuleArchitecture._architecture_constraints,
    }

    def __init__(
        self,
        module=None,
        *,
        loss: str = "squared_error",
        huber_delta: float = 1.0,
        scale_targets: bool = True,
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
        **module_params,
    ) -> None:
        self.module = module
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
        self._set_module_params(module_params)
