"""What a fitted sknets estimator holds, as JSON and tensors, and how it is rebuilt from them.

:func:`describe` writes an estimator's class name, ``get_params()``, every fitted
attribute (``classes_``, ``n_features_in_``, ``input_shape_``, the seed...), its task, its
training history and its optimizer's state, in the JSON encoding of
``sknets._json_values``, beside the network's and the optimizer's tensors. The net, the
network and the inference cache are not written: :func:`rebuild` builds them again the way
``fit`` does (``_initialize_net``), then loads the weights and the optimizer's state into
them and restores the history, so the estimator predicts, scores and continues training as
the described one.
"""

from __future__ import annotations

import warnings

import torch
from sklearn.exceptions import NotFittedError
from skorch.history import History

from ._json_values import Decoder, Encoder
from ._registry import public_estimator_classes
from ._tasks import MultiLabel, Regression, SingleLabel
from .base import NeuralNetBase

#: Fitted attributes not written as they are, but rebuilt from the rest.
REBUILT_ATTRIBUTES = frozenset({"net_", "module_", "_inference", "_task", "history_"})

#: The tasks an estimator may have (``_task``), by class name.
TASKS = {task.__name__: task for task in (SingleLabel, MultiLabel, Regression)}

#: Keys of the optimizer's parameter groups that training changes (learning-rate schedules);
#: the others follow from the estimator's parameters.
OPTIMIZER_GROUP_KEYS = ("lr", "initial_lr")


def estimator_classes() -> dict[str, type]:
    """The estimators a file may name: sknets' public classifiers and regressors, by name.

    ``NeuralNetClassifier`` and ``NeuralNetRegressor`` included: their ``module`` is a class
    or function named by its import path, which the user must trust to load it.
    """
    return public_estimator_classes()


def describe(estimator: NeuralNetBase) -> tuple[dict, dict[str, dict[str, torch.Tensor] | None]]:
    """JSON-ready description of a fitted ``estimator``, and its tensors by kind.

    The tensors are ``{"weights": ..., "attributes": ..., "optimizer": ...}``: the
    network's state dict, the tensors of the fitted attributes (the description refers to
    them by key), and the optimizer's, which are None (with a warning) when its state holds
    other values too. Raises a ``ValueError`` for an estimator that is not a fitted sknets
    estimator, or that holds a value with no encoding (the message names it).
    """
    classes = estimator_classes()
    name = type(estimator).__name__
    if classes.get(name) is not type(estimator):
        raise ValueError(
            f"sknets.save saves a fitted sknets estimator ({', '.join(sorted(classes))}) or a "
            f"Pipeline ending in one, not a {name}"
        )
    if not hasattr(estimator, "net_"):
        raise NotFittedError(
            f"this {name} is not fitted yet, so there is nothing to save; call fit first"
        )
    params = estimator.get_params(deep=False)
    net = estimator.net_
    encode = Encoder()
    optimizer, optimizer_tensors = _optimizer_state(net.optimizer_, encode)
    description = {
        "estimator": name,
        "params": {key: encode(value, key) for key, value in params.items()},
        "attributes": {
            key: encode(value, key)
            for key, value in vars(estimator).items()
            if key not in params and key not in REBUILT_ATTRIBUTES
        },
        "task": _task_state(estimator._task, encode),
        # Per-batch records are engine bookkeeping, never read after their epoch.
        "history": [
            {
                key: encode(value, f"history[{index}][{key!r}]")
                for key, value in row.items()
                if key != "batches"
            }
            for index, row in enumerate(net.history)
        ],
        "optimizer": optimizer,
    }
    weights = {
        key: tensor.detach().cpu().contiguous() for key, tensor in net.module_.state_dict().items()
    }
    tensors = {"weights": weights, "attributes": encode.tensors, "optimizer": optimizer_tensors}
    return description, tensors


def rebuild(description: dict, tensors: dict, resolve) -> NeuralNetBase:
    """The fitted estimator :func:`describe` described, with its network built and given weights.

    ``tensors`` are those :func:`describe` returned, as read back. ``resolve(name)`` turns
    the import paths of the description into objects; it must refuse those the user does
    not trust. An altered description raises a ``ValueError``, or a ``KeyError`` or
    ``TypeError`` for one that lacks what :func:`describe` writes.
    """
    decode = Decoder(resolve, tensors["attributes"])
    classes = estimator_classes()
    cls = classes.get(description["estimator"])
    if cls is None:
        raise ValueError(
            f"the file describes estimator={description['estimator']!r}, which is not a sknets "
            f"estimator; it may be one of {sorted(classes)}"
        )
    params = {str(name): decode(value) for name, value in description["params"].items()}
    estimator = cls(**params)
    estimator._validate_params()  # altered values fail here, as in fit
    attributes = {
        _attribute_name(name, params): decode(value)
        for name, value in description["attributes"].items()
    }
    vars(estimator).update(attributes)
    estimator._task = _rebuilt_task(estimator, description["task"], decode)
    estimator._initialize_net()
    net = estimator.net_
    _load_weights(net.module_, tensors["weights"])
    if description["optimizer"] is not None:
        _restore_optimizer(net.optimizer_, description["optimizer"], tensors["optimizer"], decode)
    net.history = History(
        [
            {**{str(key): decode(value) for key, value in row.items()}, "batches": []}
            for row in description["history"]
        ]
    )
    # The convergence callback reads its per-fit state, which only training sets up.
    dict(net.callbacks_)["convergence"].on_train_begin(net)
    estimator._record_fitted_attributes()
    vars(estimator).update(attributes)  # _seed, best_epoch_... as described, not as rebuilt
    return estimator


# --------------------------------------------------------------------------- the task
def _task_state(task, encode: Encoder) -> dict:
    if TASKS.get(type(task).__name__) is not type(task):
        raise ValueError(f"the estimator's task {type(task).__name__} cannot be saved")
    arguments = {"n_outputs": task.n_outputs}
    if isinstance(task, Regression):
        arguments.update(
            loss=task.loss,
            huber_delta=task.huber_delta,
            mean=task.mean.numpy(),
            scale=task.scale.numpy(),
        )
    return {"kind": type(task).__name__, "arguments": encode(arguments, "task")}


def _rebuilt_task(estimator: NeuralNetBase, state: dict, decode: Decoder):
    task = TASKS[state["kind"]](**decode(state["arguments"]))
    labels = getattr(estimator, "classes_", None)
    n_outputs = len(labels) if labels is not None else getattr(estimator, "n_outputs_", None)
    if task.n_outputs != n_outputs:
        raise ValueError(
            f"the file describes a task of {task.n_outputs} outputs for an estimator of "
            f"{n_outputs} classes or targets"
        )
    return task


def _attribute_name(name: str, params: dict) -> str:
    if (
        not name.isidentifier()
        or name.startswith("__")
        or name in params
        or name in REBUILT_ATTRIBUTES
    ):
        raise ValueError(f"the file sets attribute {name!r}, which no fitted estimator saves")
    return name


# ------------------------------------------------------------- weights and optimizer
def _load_weights(module: torch.nn.Module, weights: dict[str, torch.Tensor]) -> None:
    expected = module.state_dict()
    missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"the saved weights do not fit the {type(module).__name__} built from the saved "
            f"parameters: missing tensors {missing}, unexpected tensors {unexpected}"
        )
    for key, needed in expected.items():
        tensor = weights[key]
        if tensor.shape != needed.shape or tensor.dtype != needed.dtype:
            raise ValueError(
                f"the saved weights hold {key} of shape {tuple(tensor.shape)} ({tensor.dtype}), "
                f"but the network built from the saved parameters needs "
                f"{tuple(needed.shape)} ({needed.dtype})"
            )
    module.load_state_dict(weights)


def _optimizer_state(
    optimizer: torch.optim.Optimizer, encode: Encoder
) -> tuple[dict | None, dict | None]:
    """The optimizer's JSON part and tensors; (None, None) if its state is not only those."""
    state = optimizer.state_dict()
    tensors, values = {}, {}
    for index, entries in state["state"].items():
        for key, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"{index}.{key}"] = value.detach().cpu().contiguous()
            elif value is None or type(value) in (bool, int, float):
                values.setdefault(str(index), {})[key] = encode(value, key)
            else:
                warnings.warn(
                    f"{type(optimizer).__name__}'s state holds a {type(value).__name__} "
                    f"({key!r}), which sknets.save does not write: the loaded model predicts "
                    "as this one, but continues training with a fresh optimizer",
                    UserWarning,
                    stacklevel=4,  # the caller of save
                )
                return None, None
    groups = [
        {key: encode(group[key], key) for key in OPTIMIZER_GROUP_KEYS if key in group}
        for group in state["param_groups"]
    ]
    return {"param_groups": groups, "values": values}, tensors


def _restore_optimizer(optimizer, saved: dict, tensors: dict, decode: Decoder) -> None:
    fresh = optimizer.state_dict()
    shapes = [parameter.shape for group in optimizer.param_groups for parameter in group["params"]]
    state: dict[int, dict] = {}
    for key, tensor in tensors.items():
        index, _, name = key.partition(".")
        index = int(index)
        if not 0 <= index < len(shapes) or tensor.shape not in (shapes[index], torch.Size([])):
            raise ValueError(
                f"the saved optimizer state holds {key} of shape {tuple(tensor.shape)}, which no "
                "parameter of the network has"
            )
        state.setdefault(index, {})[name] = tensor
    for index, entries in saved["values"].items():
        state.setdefault(int(index), {}).update(
            {str(name): decode(value) for name, value in entries.items()}
        )
    if len(saved["param_groups"]) != len(fresh["param_groups"]):
        raise ValueError("the file describes another number of optimizer parameter groups")
    groups = [
        {
            **group,
            **{key: decode(value) for key, value in changed.items() if key in OPTIMIZER_GROUP_KEYS},
        }
        for group, changed in zip(fresh["param_groups"], saved["param_groups"])
    ]
    optimizer.load_state_dict({"state": state, "param_groups": groups})
