"""The private skorch engine behind every sknets estimator.

The public estimators wrap this net (as ``net_``); it only overrides skorch's documented hooks:
``get_iterator`` (the fast tensor batch path), ``get_loss`` (per-sample weights), ``infer``
(optional mixed precision) and ``notify`` (each event goes only to the callbacks that act on
it).
"""

from __future__ import annotations

import contextlib
import re
import sys

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import (
    Callback,
    EpochTimer,
    LRScheduler,
    PassthroughScoring,
    PrintLog,
)
from skorch.utils import TeeGenerator
from torch.autograd.graph import increment_version

from ._data import ArrayData, TensorBatches, split_target


class ValidAccuracy(Callback):
    """Record ``valid_accuracy`` per epoch from the validation batches' outputs.

    Counts on the device during the epoch and reads the total once at its end, so it adds no
    extra prediction pass and no per-batch synchronisation. A row counts as correct as the
    net's task decides (all labels right for multi-label targets).
    """

    def on_epoch_begin(self, net, **kwargs):
        self.correct_ = None
        self.seen_ = 0

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if training or y_pred is None:
            return
        targets, _ = split_target(batch[1])
        correct = net.task.n_correct(y_pred, targets)
        self.correct_ = correct if self.correct_ is None else self.correct_ + correct
        self.seen_ += len(targets)

    def on_epoch_end(self, net, **kwargs):
        if self.seen_:
            net.history.record("valid_accuracy", self.correct_.item() / self.seen_)


class LearningRateLog(Callback):
    """Record ``lr``, the learning rate the epoch trained with (before any schedule steps)."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("lr", net.optimizer_.param_groups[0]["lr"])


class ContinuingLRScheduler(LRScheduler):
    """skorch's ``LRScheduler``, continued rather than rebuilt by each call that trains.

    skorch makes a new torch scheduler at every ``on_train_begin``; that would reset a
    ``ReduceLROnPlateau`` at every ``partial_fit`` call and warm-started ``fit``. The torch
    scheduler is kept as long as it drives the net's current optimizer.
    """

    def on_train_begin(self, net, **kwargs):
        scheduler = getattr(self, "lr_scheduler_", None)
        if scheduler is None or scheduler.optimizer is not net.optimizer_:
            super().on_train_begin(net, **kwargs)


#: An ANSI escape sequence of colour or style (what skorch writes around best values).
ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


class PlainPrintLog(PrintLog):
    """skorch's epoch table, without ANSI colour codes when stdout is not a terminal.

    skorch colours each column's best value; in a file, a log or a CI job the codes only
    garble the text.
    """

    def format_row(self, row, key, color):
        formatted = super().format_row(row, key, color)
        if isinstance(formatted, str) and not _stdout_is_a_terminal():
            return ANSI_CODE.sub("", formatted)
        return formatted


def _stdout_is_a_terminal() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


class EngineNet(NeuralNet):
    """skorch ``NeuralNet`` with the sknets batch path, weighted loss and autocast.

    To scikit-learn scorers (skorch's ``EpochScoring("f1_macro")`` and the like) the net
    looks like a classifier of the encoded targets: ``predict`` returns what the task
    decides, ``predict_proba`` its probabilities and ``classes_`` the encoded classes, so a
    scorer compares like with like. Batch callbacks see the targets without the per-sample
    weights that travel with them.

    Parameters beyond skorch's
    --------------------------
    task : SingleLabel or MultiLabel
        How outputs meet targets: the loss, the probabilities, the decisions.
    mixed_precision : bool
        Run the forward pass under ``torch.autocast`` with bfloat16.
    batch_transform : callable or None
        Applied to training batches only (augmentation).
    shuffle_seed : int
        Seeds the order of training batches (and augmentation) of the next ``fit_loop``.
    """

    def __init__(
        self,
        *args,
        task=None,
        mixed_precision: bool = False,
        batch_transform=None,
        shuffle_seed: int = 0,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.task = task
        self.mixed_precision = mixed_precision
        self.batch_transform = batch_transform
        self.shuffle_seed = shuffle_seed

    @property
    def _default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            *self.task.epoch_callbacks(),
            ("lr", LearningRateLog()),
            ("print_log", PlainPrintLog()),
        ]

    def get_iterator(self, dataset, training=False):
        if not isinstance(dataset, ArrayData):
            return super().get_iterator(dataset, training=training)
        return TensorBatches(
            dataset,
            self.batch_size,
            shuffle=training,
            device=torch.device(self.device),
            generator=torch.Generator().manual_seed(self.shuffle_seed) if training else None,
            batch_transform=self.batch_transform if training else None,
        )

    def infer(self, x, **fit_params):
        if not self.mixed_precision:
            return super().infer(x, **fit_params)
        with torch.autocast(device_type=torch.device(self.device).type, dtype=torch.bfloat16):
            return super().infer(x, **fit_params).float()

    def train_step(self, batch, **fit_params):
        """One optimizer step on ``batch``; skorch's contract without its per-batch overhead.

        skorch resets the train mode of every module and builds an optimizer closure on each
        batch; here the mode is set once per epoch and the optimizer steps directly. Optimizers
        that need a closure (LBFGS) keep skorch's own step.
        """
        if isinstance(self.optimizer_, torch.optim.LBFGS):
            return super().train_step(batch, **fit_params)
        if not self.module_.training:
            self._set_training(True)
        inputs, target = batch
        self.optimizer_.zero_grad(set_to_none=True)
        y_pred = self.infer(inputs, **fit_params)
        loss = self.get_loss(y_pred, target, X=inputs, training=True)
        loss.backward()
        if self._listeners("on_grad_computed"):  # e.g. gradient clipping
            self.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        self.optimizer_.step()
        if self.optimizer_.defaults.get("fused"):
            # A fused step writes the weights in one kernel without bumping their version
            # counters, which is how inference notices that its float64 copy is stale.
            for group in self.optimizer_.param_groups:
                for parameter in group["params"]:
                    increment_version(parameter)
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        targets, sample_weight = split_target(y_true)
        if sample_weight is None:
            return self.criterion_(y_pred, targets)
        per_sample_loss = self.task.per_sample_loss(y_pred, targets)
        return (per_sample_loss * sample_weight).sum() / sample_weight.sum().clamp_min(1e-12)

    def notify(self, method_name, **cb_kwargs):
        """Run the net's own hook, then the callbacks that act on ``method_name``.

        skorch calls every callback at every event, and most inherit skorch's no-op for
        most events: three calls per batch, each of them building its arguments, for
        nothing. Only callbacks whose class defines the event's method are called here, in
        skorch's order, with skorch's arguments.
        """
        batch = cb_kwargs.get("batch")
        if method_name == "on_batch_end" and batch is not None:
            _, sample_weight = split_target(batch[1])
            if sample_weight is not None:
                # Each batch loss is a weighted mean over its rows; skorch averages them by
                # batch size. Counting a batch by its total weight instead makes the epoch's
                # train_loss / valid_loss the weighted mean over all rows.
                prefix = "train" if cb_kwargs.get("training") else "valid"
                self.history.record_batch(f"{prefix}_batch_size", sample_weight.sum().item())
        getattr(self, method_name)(self, **cb_kwargs)
        listeners = self._listeners(method_name)
        if not listeners:
            return
        if batch is not None:
            # Callbacks get the targets alone (the loss has already used the weights); at
            # on_batch_end, where skorch's scoring callbacks cache them, in the units of
            # predict (a regressor's original units). Decoded once per batch, not per event.
            targets = split_target(batch[1])[0]
            if method_name == "on_batch_end":
                targets = self.task.decode_targets(targets)
            cb_kwargs["batch"] = (batch[0], targets)
        for callback in listeners:
            getattr(callback, method_name)(self, **cb_kwargs)

    def _listeners(self, method_name: str) -> list:
        """The callbacks of ``callbacks_`` that act on ``method_name``, cached per list."""
        key = (id(self.callbacks_), len(self.callbacks_))
        if getattr(self, "_listeners_key", None) != key:
            self._listeners_key, self._listeners_cache = key, {}
        if method_name not in self._listeners_cache:
            self._listeners_cache[method_name] = [
                callback for _, callback in self.callbacks_ if _acts_on(callback, method_name)
            ]
        return self._listeners_cache[method_name]

    # What scikit-learn scorers call, on encoded targets.
    @property
    def classes_(self) -> np.ndarray:
        return np.arange(self.task.n_outputs)

    def predict_proba(self, X):
        return self.task.proba(self.forward(X, training=False)).numpy()

    def predict(self, X):
        return self.task.decide(self.forward(X, training=False)).numpy()

    def __sklearn_tags__(self):
        return self.task.tags(super().__sklearn_tags__())


def _acts_on(callback, method_name: str) -> bool:
    """Whether ``callback`` does anything at ``method_name`` (skorch's base does nothing)."""
    if not isinstance(callback, Callback):
        return True
    return getattr(type(callback), method_name, None) is not getattr(Callback, method_name, None)


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn the ``device`` parameter into a usable :class:`torch.device`.

    ``"auto"`` picks CUDA when available, then CPU. An unknown name or an unavailable
    accelerator raises a ``ValueError`` naming the value.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
        ) from error
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }.get(resolved.type, True)
    if not available:
        raise ValueError(
            f"device={device!r} but {resolved.type} is not available on this machine; "
            "use device='auto' to fall back to the CPU"
        )
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} but only {torch.cuda.device_count()} CUDA device(s) exist"
        )
    return resolved


@contextlib.contextmanager
def seeded(seed: int, device: torch.device):
    """Seed torch's global generators inside the block and restore them after it.

    A seeded fit is reproducible without changing the random state the user's own code sees.
    """
    cuda_devices = []
    if device.type == "cuda":
        cuda_devices = [torch.cuda.current_device() if device.index is None else device.index]
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        yield
