"""Training data and the fast batch path, converted at most once.

Batches are slices of tensors that hold the whole data set (moved to the device once when
it fits there), never per-sample ``Dataset.__getitem__`` calls plus a collate function.
Data the module cannot take as it is stays as stored (:class:`Rows`) and is converted a
batch at a time: uint8 pixels become float32 on the device, float64 rows are cast per batch,
a scipy sparse matrix is made dense per batch, memory maps and sample sources (files) are
read per batch. A held-out validation part indexes the data instead of copying it.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from numbers import Integral

import numpy as np
import scipy.sparse
import torch
from sklearn.model_selection import train_test_split

from ._sources import SampleSource

#: Share of the device's free memory the training data may take before batches are
#: copied from (pinned) host memory one at a time instead.
DEVICE_MEMORY_SHARE = 0.5


#: Largest magnitude a float32 holds; larger float64 values would become inf in training.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_float32_range(values: np.ndarray | scipy.sparse.sparray, name: str = "X") -> None:
    """Raise a ValueError saying how many values of ``values`` float32 cannot hold, and where.

    Training runs in float32: a float64 value beyond about 3.4e38 would silently become
    infinite and every weight NaN. Of a scipy sparse matrix (CSR, CSC or COO) only the
    stored values are read: its implicit zeros are in range.
    """
    if values.dtype.itemsize <= 4 or not np.issubdtype(values.dtype, np.floating):
        return
    stored = values.data if scipy.sparse.issparse(values) else values
    # Two reductions, no temporary array of X's size, for the (usual) case of no such value.
    if stored.size == 0 or -FLOAT32_MAX <= stored.min() <= stored.max() <= FLOAT32_MAX:
        return
    if scipy.sparse.issparse(values):
        entries = values.tocoo()
        too_large = np.abs(entries.data) > FLOAT32_MAX
        rows = np.unique(entries.row[too_large])
        columns = np.unique(entries.col[too_large])
    else:
        too_large = np.abs(values) > FLOAT32_MAX
        flat = too_large.reshape(len(values), -1)
        rows = np.flatnonzero(flat.any(axis=1))
        columns = np.flatnonzero(flat.any(axis=0))
    raise ValueError(
        f"{name} contains {int(too_large.sum())} values beyond the float32 range "
        f"(|x| > {FLOAT32_MAX:.3g}) that training cannot represent, in rows "
        f"{_first(rows)} and features {_first(columns)} (positions in each flattened "
        "sample); scale or clip the inputs, e.g. with sklearn's StandardScaler"
    )


def _first(indices: np.ndarray, n_shown: int = 5) -> str:
    shown = ", ".join(str(int(index)) for index in indices[:n_shown])
    more = f", ... ({len(indices)} in all)" if len(indices) > n_shown else ""
    return f"[{shown}{more}]"


def check_dense(X, estimator_name: str) -> None:
    """Raise a ValueError if ``X`` is a scipy sparse matrix, which ``estimator_name`` cannot read.

    A convolution or a recurrence mixes neighbouring values and needs them all: densifying
    is the user's explicit choice, with its memory cost in view.
    """
    if scipy.sparse.issparse(X):
        raise ValueError(
            f"{estimator_name} does not accept sparse X (scipy.sparse {type(X).__name__} of "
            f"shape {X.shape}); convert it with X.toarray() if it fits in memory, or use "
            "MLPClassifier, which reads sparse rows batch by batch"
        )


def module_dtype(decoded: np.dtype, *, training: bool) -> torch.dtype:
    """The dtype a module receives for samples that decode to ``decoded``.

    Integers (token ids) become int64. Training runs in float32. Inference keeps float64 in
    float64 (it picks its own precision) and makes other floats float32.
    """
    if np.issubdtype(decoded, np.integer):
        return torch.int64
    if not training and decoded == np.float64:
        return torch.float64
    return torch.float32


#: numpy dtypes of the torch dtypes modules receive.
_NUMPY_DTYPES = {torch.int64: np.int64, torch.float32: np.float32, torch.float64: np.float64}


def as_module_inputs(
    values,
    *,
    training: bool,
    sample_shape: tuple[int, ...] | None = None,
    decode: tuple[Callable[[torch.Tensor], torch.Tensor], ...] = (),
    decoded_dtype: np.dtype | None = None,
    keep_integers: bool = False,
) -> torch.Tensor | Rows:
    """``values`` as the module's input, converted at most once and only when it must be.

    A C-contiguous, writeable array that already has the module's dtype (float32 rows in
    training) becomes a tensor sharing its memory. Anything else stays as stored and becomes
    :class:`Rows`, converted a batch at a time: float64 rows are cast per batch (no float32
    copy of ``X``), uint8 images stay uint8 until ``decode`` makes each batch float (on the
    device), read-only arrays and memory maps are read a batch at a time, a scipy sparse
    matrix is made dense a batch at a time, and a :class:`~sknets._sources.SampleSource` is
    read from its storage a batch at a time.

    Parameters
    ----------
    values : ndarray, np.memmap, scipy sparse matrix or SampleSource
        Validated samples; the first axis indexes them. Training values are checked against
        the float32 range.
    training : bool
        Training inputs are float32; inference keeps float64 (see :func:`module_dtype`).
    sample_shape : tuple of int, optional
        Shape of one sample as the module takes it (after ``decode``); by default, as stored.
    decode : tuple of callables, default=()
        Applied in order to every gathered batch, as stored, before the cast to the module's
        dtype (e.g. channels last to first, ``uint8 -> float32 / 255``).
    decoded_dtype : numpy dtype, optional
        The dtype ``decode`` produces; by default the stored one.
    keep_integers : bool, default=False
        Pass integer values in their own dtype (a user's network that scales uint8 itself).
    """
    sparse = scipy.sparse.issparse(values)
    if training and not isinstance(values, SampleSource):
        check_float32_range(values)
    decoded = np.dtype(decoded_dtype or values.dtype)
    if keep_integers and np.issubdtype(decoded, np.integer):
        dtype = _torch_dtype(decoded)
    else:
        dtype = module_dtype(decoded, training=training)
    shape = tuple(sample_shape or values.shape[1:])
    if sparse:
        matrix = values.tocsr()
        if dtype in _NUMPY_DTYPES:  # cast the stored values once: they are few
            matrix = matrix.astype(_NUMPY_DTYPES[dtype], copy=False)
        return Rows(matrix, sample_shape=shape, decode=(*decode, _cast(dtype)))
    usable = (
        type(values) is np.ndarray  # not a memory map: its pages stay on disk until read
        and values.flags.c_contiguous
        and values.flags.writeable
    )
    if usable and not decode and values.dtype == decoded and _torch_dtype(decoded) == dtype:
        return torch.from_numpy(values).reshape(len(values), *shape)
    storage = torch.from_numpy(values) if usable else values
    return Rows(storage, sample_shape=shape, decode=(*decode, _cast(dtype)))


def _torch_dtype(dtype: np.dtype) -> torch.dtype:
    return torch.from_numpy(np.empty(0, dtype)).dtype


def _cast(dtype: torch.dtype) -> Callable[[torch.Tensor], torch.Tensor]:
    return functools.partial(_to_dtype, dtype=dtype)


def _to_dtype(batch: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return batch.to(dtype)


class Rows:
    """Samples kept as stored, gathered and converted for the module one batch at a time.

    Indexing with a slice or an index tensor gathers those samples from ``storage``, moves
    them to ``device`` (when set) as stored, and applies ``decode`` there: uint8 pixels
    cross to a GPU as uint8 and become float32 on it. A batch is bit for bit the batch of
    the converted array (the conversions act on each value or each sample alone), so
    training and predictions do not depend on the storage.

    Parameters
    ----------
    storage : torch.Tensor, ndarray, np.memmap, scipy CSR matrix or SampleSource
        All samples, indexed along the first axis. A tensor may live on the device; the
        others are read on the host a batch at a time.
    sample_shape : tuple of int
        Shape of one decoded sample (what the module receives).
    positions : torch.Tensor, optional
        int64 positions in ``storage`` of the samples these rows stand for (a held-out
        part, without copying it); None for all of them, in order.
    decode : tuple of callables, default=()
        Applied in order to every gathered batch.
    device : torch.device, optional
        Where gathered batches go before ``decode``; None leaves them where ``storage`` is.
    """

    def __init__(
        self,
        storage,
        *,
        sample_shape: tuple[int, ...],
        positions: torch.Tensor | None = None,
        decode: tuple[Callable[[torch.Tensor], torch.Tensor], ...] = (),
        device: torch.device | None = None,
    ) -> None:
        self.storage = storage
        self.sample_shape = tuple(sample_shape)
        self.positions = positions
        self.decode = decode
        self.device = device

    def _replace(self, **changes) -> Rows:
        storage = changes.pop("storage", self.storage)
        fields = {
            "sample_shape": self.sample_shape,
            "positions": self.positions,
            "decode": self.decode,
            "device": self.device,
            **changes,
        }
        return Rows(storage, **fields)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self), *self.sample_shape)

    @property
    def n_bytes(self) -> int:
        """Bytes of the storage (for a sparse matrix: its values, indices and pointers)."""
        storage = self.storage
        if isinstance(storage, torch.Tensor):
            return storage.element_size() * storage.nelement()
        if scipy.sparse.issparse(storage):
            return storage.data.nbytes + storage.indices.nbytes + storage.indptr.nbytes
        return math.prod(storage.shape) * np.dtype(storage.dtype).itemsize

    @property
    def workers(self) -> int:
        """DataLoader worker processes that gather batches ahead (a source's ``num_workers``)."""
        return self.storage.num_workers if isinstance(self.storage, SampleSource) else 0

    def __len__(self) -> int:
        return self.storage.shape[0] if self.positions is None else len(self.positions)

    def __getitem__(self, index: torch.Tensor | slice | int) -> torch.Tensor:
        if isinstance(index, Integral):  # one sample, as a tensor indexed by an int gives
            position = range(len(self))[index]
            return self.finish(self.gather(slice(position, position + 1)))[0]
        return self.finish(self.gather(index))

    def storage_index(self, index: torch.Tensor | slice) -> torch.Tensor | slice | np.ndarray:
        """Positions in ``storage`` of the rows at ``index``, where ``storage`` indexes them."""
        if self.positions is not None:
            if isinstance(index, torch.Tensor):
                index = index.to(self.positions.device)
            index = self.positions[index]
        if isinstance(self.storage, torch.Tensor):
            if isinstance(index, torch.Tensor):
                return index.to(self.storage.device)
            return index
        # Host storages index with host integers (a shuffled order may live on the device).
        if isinstance(index, slice):
            return np.arange(self.storage.shape[0])[index]
        return index.cpu().numpy()

    def gather(self, index: torch.Tensor | slice) -> torch.Tensor:
        """The rows at ``index`` as stored (not yet moved or decoded)."""
        return gather_storage(self.storage, self.storage_index(index))

    def finish(self, batch: torch.Tensor) -> torch.Tensor:
        """A gathered batch moved to ``device`` and decoded."""
        if self.device is not None:
            if self.device.type == "cuda" and not batch.is_pinned():
                batch = batch.pin_memory()
            batch = batch.to(self.device, non_blocking=True)
        for function in self.decode:
            batch = function(batch)
        return batch.reshape(len(batch), *self.sample_shape)

    def batches(self, indices: list[torch.Tensor | slice]) -> Iterator[torch.Tensor]:
        """The rows at each of ``indices`` in turn; a source with workers reads ahead."""
        if not self.workers:
            for index in indices:
                yield self[index]
            return
        loader = torch.utils.data.DataLoader(
            _GatheredSamples(self.storage),
            sampler=[self.storage_index(index) for index in indices],
            batch_size=None,
            num_workers=self.workers,
            pin_memory=self.device is not None and self.device.type == "cuda",
        )
        for batch, messages in loader:
            for message in messages:  # a worker's warnings, given here where they are seen
                warnings.warn(message, UserWarning, stacklevel=2)
            yield self.finish(batch)

    def subset(self, index: torch.Tensor | slice) -> Rows:
        """The rows at ``index``, without copying them."""
        if isinstance(index, slice):
            index = torch.arange(len(self))[index]
        positions = index if self.positions is None else self.positions[index]
        return self._replace(positions=positions)

    def map(self, function: Callable[[torch.Tensor], torch.Tensor]) -> Rows:
        """The same rows, with ``function`` applied to every decoded batch."""
        return self._replace(decode=(*self.decode, function))

    def placed(self, device: torch.device, *, whole: bool) -> Rows:
        """These rows delivered on ``device``: with ``whole``, the dense storage moves there
        once (a host array in chunks, never converted whole); otherwise each batch does."""
        if whole and device.type == "cpu":
            return self
        if not whole or not _dense(self.storage):
            return self._replace(device=device)
        positions = None if self.positions is None else self.positions.to(device)
        storage = storage_on_device(self.storage, device)
        return self._replace(storage=storage, positions=positions, device=None)


def _dense(storage) -> bool:
    return isinstance(storage, torch.Tensor | np.ndarray)


#: Most bytes of a host array copied to the device at once (see :func:`storage_on_device`).
DEVICE_COPY_CHUNK_BYTES = 64 * 2**20


def storage_on_device(storage: torch.Tensor | np.ndarray, device: torch.device) -> torch.Tensor:
    """A dense storage as one tensor on ``device``, copied chunk by chunk from the host.

    A memory map or read-only array is read a chunk at a time, so host memory never holds
    more than a chunk of it.
    """
    if isinstance(storage, torch.Tensor):
        return storage.to(device)
    on_device = torch.empty(
        storage.shape, dtype=torch.from_numpy(storage[:0].copy()).dtype, device=device
    )
    row_bytes = max(1, storage[:1].nbytes)
    rows = max(1, DEVICE_COPY_CHUNK_BYTES // row_bytes)
    for start in range(0, len(storage), rows):
        chunk = torch.from_numpy(np.array(storage[start : start + rows]))
        on_device[start : start + rows].copy_(chunk)
    return on_device


def gather_storage(storage, index) -> torch.Tensor:
    """Rows of ``storage`` at ``index`` (a slice or int64 positions) as a new dense tensor."""
    if isinstance(storage, torch.Tensor):
        return storage[index]
    if isinstance(storage, SampleSource):
        values = storage.gather(np.asarray(index, dtype=np.int64))
    elif scipy.sparse.issparse(storage):
        values = storage[index].toarray()
    else:
        # A memory map reads only these rows; np.take returns a new, writeable array.
        values = np.take(storage, index, axis=0)
    return torch.from_numpy(np.ascontiguousarray(values))


class _GatheredSamples(torch.utils.data.Dataset):
    """A source as a torch dataset whose items are whole batches (DataLoader workers)."""

    def __init__(self, source: SampleSource) -> None:
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, positions: np.ndarray) -> tuple[torch.Tensor, list[str]]:
        values, messages = self.source.gather_with_warnings(positions)
        return torch.from_numpy(np.ascontiguousarray(values)), messages


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
