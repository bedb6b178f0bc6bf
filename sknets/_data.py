"""Training data and the fast batch path, converted at most once.

Batches are slices of tensors that hold the whole data set (moved to the device once when
it fits there), never per-sample ``Dataset.__getitem__`` calls plus a collate function.
Data the module cannot take as it is stays as stored (:class:`Rows`) and is converted a
batch at a time: uint8 pixels become float32 on the device, float64 rows are cast per batch,
a scipy sparse matrix is made dense per batch, memory maps and sample sources (files) are
read per batch. A held-out validation part indexes the data instead of copying it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from ._rows import Rows

#: Share of the device's free memory the training data may take before batches are
#: copied from (pinned) host memory one at a time instead.
DEVICE_MEMORY_SHARE = 0.5


Inputs = torch.Tensor | Rows | Mapping[str, torch.Tensor | Rows]


def _each(inputs: Inputs, function: Callable) -> Inputs:
    """``function`` applied to each part (tensor or :class:`Rows`) of ``inputs``."""
    if isinstance(inputs, Mapping):
        return {name: function(part) for name, part in inputs.items()}
    return function(inputs)


def _index(inputs: Inputs, index: torch.Tensor | slice) -> Inputs:
    return _each(inputs, lambda part: part[index])


def _map(inputs: Inputs, function: Callable[[torch.Tensor], torch.Tensor]) -> Inputs:
    """``function`` applied to every batch of ``inputs``: now to a tensor, per batch to Rows."""
    return _each(
        inputs, lambda part: part.map(function) if isinstance(part, Rows) else function(part)
    )


def _subset(inputs: Inputs, index: torch.Tensor) -> Inputs:
    """The samples at ``index``, without copying: tensors become :class:`Rows` over them."""

    def subset(part):
        if isinstance(part, Rows):
            return part.subset(index)
        return Rows(part, sample_shape=tuple(part.shape[1:]), positions=index)

    return _each(inputs, subset)


def placed(inputs: Inputs, device: torch.device, *, whole: bool) -> Inputs:
    """``inputs`` delivered on ``device``: moved there now with ``whole``, else per batch."""

    def place(part):
        if not isinstance(part, Rows):
            if whole:
                return part.to(device)
            part = Rows(part, sample_shape=tuple(part.shape[1:]))
        return part.placed(device, whole=whole)

    return _each(inputs, place)


def input_batches(inputs: Inputs, indices: list[torch.Tensor | slice]) -> Iterator[Inputs]:
    """The samples at each of ``indices`` in turn, as the module takes them."""
    if isinstance(inputs, Mapping):
        parts = {name: input_batches(part, indices) for name, part in inputs.items()}
        for _ in indices:
            yield {name: next(batches) for name, batches in parts.items()}
    elif isinstance(inputs, Rows):
        yield from inputs.batches(indices)
    else:
        for index in indices:
            yield inputs[index]


def _tensors(inputs: Inputs) -> list[torch.Tensor | Rows]:
    return list(inputs.values()) if isinstance(inputs, Mapping) else [inputs]


def _n_bytes(inputs: Inputs) -> int:
    return sum(
        part.n_bytes if isinstance(part, Rows) else part.element_size() * part.nelement()
        for part in _tensors(inputs)
    )


def first_rows(inputs: Inputs, count: int) -> torch.Tensor | dict[str, torch.Tensor]:
    """Copies of the first ``count`` samples, dense (a view would keep all of them alive)."""
    return _each(inputs, lambda part: part[slice(0, count)].clone())


def n_rows(inputs: Inputs) -> int:
    """Number of samples in ``inputs`` (the first dimension, shared by all its tensors)."""
    return len(_tensors(inputs)[0])


def values_per_row(inputs: Inputs) -> int:
    """Values of one sample as the module receives it (dense), over all tensors of ``inputs``."""
    return sum(math.prod(part.shape[1:]) for part in _tensors(inputs))


class ArrayData(torch.utils.data.Dataset):
    """Whole-data-set inputs, encoded targets and per-sample weights.

    ``inputs`` is a tensor, :class:`Rows` (samples converted a batch at a time), or a dict
    of these passed to the module as keyword arguments (e.g. padded sequences and their
    lengths). All share the first dimension.
    """

    def __init__(
        self,
        inputs: Inputs,
        targets: torch.Tensor | None = None,
        sample_weight: torch.Tensor | None = None,
    ) -> None:
        self.inputs = inputs
        self.targets = targets
        self.sample_weight = sample_weight

    def __len__(self) -> int:
        return n_rows(self.inputs)

    def __getitem__(self, index):
        # Only for compatibility with generic torch code; sknets batches with TensorBatches.
        target = None if self.targets is None else self.targets[index]
        return _index(self.inputs, index), target

    def subset(self, indices: np.ndarray) -> ArrayData:
        """The rows at ``indices`` as a new :class:`ArrayData`; inputs are not copied."""
        index = torch.as_tensor(indices, dtype=torch.long)
        return ArrayData(
            _subset(self.inputs, index),
            None if self.targets is None else self.targets[index],
            None if self.sample_weight is None else self.sample_weight[index],
        )


def split_target(target):
    """Return ``(targets, sample_weight or None)`` from a batch's target part."""
    if isinstance(target, tuple):
        return target
    return target, None


def fits_on_device(n_bytes: int, device: torch.device) -> bool:
    """Whether data of ``n_bytes`` should live on ``device`` for the whole fit."""
    if device.type != "cuda":
        return True
    free_bytes, _ = torch.cuda.mem_get_info(device)
    return n_bytes <= DEVICE_MEMORY_SHARE * free_bytes


class TensorBatches:
    """Re-iterable mini-batches over an :class:`ArrayData`, as tensor slices.

    Parameters
    ----------
    data : ArrayData
        The whole data set.
    batch_size : int
        Rows per batch. A final batch of one row is merged into the previous one, since a
        single-row batch breaks batch normalisation and carries a noisy gradient.
    shuffle : bool
        Draw a new permutation at every pass (training); keep the order otherwise.
    device : torch.device
        Where batches are delivered. The data moves there once if it fits; otherwise it is
        pinned in host memory and each batch is copied asynchronously.
    generator : torch.Generator, optional
        Source of the permutations, so a seeded fit shuffles reproducibly.
    batch_transform : callable, optional
        ``batch_transform(inputs, generator) -> inputs`` applied to each batch (training
        augmentation).
    """

    def __init__(
        self,
        data: ArrayData,
        batch_size: int,
        *,
        shuffle: bool,
        device: torch.device,
        generator: torch.Generator | None = None,
        batch_transform: Callable | None = None,
    ) -> None:
        self.n_samples = len(data)
        self.batch_size = max(1, min(batch_size, self.n_samples))
        self.shuffle = shuffle
        self.device = device
        self.generator = generator
        self.batch_transform = batch_transform
        self.on_device = fits_on_device(_n_bytes(data.inputs), device)
        # Inputs move whole or per batch as stored (uint8 stays uint8); targets and
        # weights are small and follow the same rule.
        self.inputs = placed(data.inputs, device, whole=self.on_device)
        self.targets = None if data.targets is None else self._place(data.targets)
        self.sample_weight = None if data.sample_weight is None else self._place(data.sample_weight)

    def _place(self, values: torch.Tensor) -> torch.Tensor:
        return values.to(self.device) if self.on_device else values.pin_memory()

    def _deliver(self, values: torch.Tensor) -> torch.Tensor:
        return values if self.on_device else values.to(self.device, non_blocking=True)

    def batch_bounds(self) -> list[tuple[int, int]]:
        """Start and stop row of each batch."""
        starts = list(range(0, self.n_samples, self.batch_size))
        bounds = [(start, min(start + self.batch_size, self.n_samples)) for start in starts]
        if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
            bounds[-2:] = [(bounds[-2][0], self.n_samples)]
        return bounds

    def __len__(self) -> int:
        return len(self.batch_bounds())

    def __iter__(self) -> Iterator[tuple]:
        bounds = self.batch_bounds()
        if self.shuffle:
            # Host positions gather host-stored inputs; the targets' copy lives with them.
            order = torch.randperm(self.n_samples, generator=self.generator)
            indices = [order[start:stop] for start, stop in bounds]
            target_order = order.to(self.device) if self.on_device else order
            target_indices = [target_order[start:stop] for start, stop in bounds]
        else:
            indices = target_indices = [slice(start, stop) for start, stop in bounds]
        batches = input_batches(self.inputs, indices)
        for inputs, index in zip(batches, target_indices, strict=True):
            if self.batch_transform is not None:
                inputs = self.batch_transform(inputs, self.generator)
            if self.targets is None:
                yield inputs, None
                continue
            targets = self._deliver(self.targets[index])
            if self.sample_weight is None:
                yield inputs, targets
            else:
                yield inputs, (targets, self._deliver(self.sample_weight[index]))


class HoldoutSplit:
    """skorch ``train_split``: hold out a stratified validation fraction of the rows.

    Multi-label targets are split without stratification. Single-label targets are
    stratified when every class has at least two rows and the validation part can hold one
    row of each class; otherwise it falls back to a plain shuffled split.
    """

    def __init__(self, fraction: float, random_state: int) -> None:
        self.fraction = fraction
        self.random_state = random_state

    def __call__(self, dataset: ArrayData, y=None, **fit_params):
        n_samples = len(dataset)
        n_valid = int(np.ceil(self.fraction * n_samples))
        if n_valid < 1 or n_valid >= n_samples:
            raise ValueError(
                f"validation_fraction={self.fraction} leaves {n_samples - n_valid} training and "
                f"{n_valid} validation rows out of {n_samples}; both need at least one"
            )
        targets = dataset.targets.numpy()
        stratify = None
        if targets.ndim == 1:  # class indices; multi-label rows are split unstratified
            counts = np.bincount(targets)
            counts = counts[counts > 0]
            enough = n_valid >= len(counts) and n_samples - n_valid >= len(counts)
            if counts.min() >= 2 and enough:
                stratify = targets
        train_rows, valid_rows = train_test_split(
            np.arange(n_samples),
            test_size=n_valid,
            stratify=stratify,
            random_state=self.random_state,
        )
        return dataset.subset(np.sort(train_rows)), dataset.subset(np.sort(valid_rows))
