"""Samples kept as stored and converted for the module a batch at a time.

:func:`as_module_inputs` decides, once per ``fit`` or ``predict``, whether ``X`` can reach
the network as it is (float32 rows: a tensor sharing X's memory) or stays as stored in
:class:`Rows`, which gathers a batch (from a tensor, an array, a memory map, a sparse matrix
or a :class:`~sknets._sources.SampleSource`), moves it to the device and decodes it there.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Iterator
from numbers import Integral

import numpy as np
import scipy.sparse
import torch

from ._sources import SampleSource

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
    on_device = torch.empty(storage.shape, dtype=_torch_dtype(storage.dtype), device=device)
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
    return _batch_tensor(values)


def _batch_tensor(values: np.ndarray) -> torch.Tensor:
    """A gathered batch as a tensor sharing its memory (made contiguous if it is not)."""
    return torch.from_numpy(np.ascontiguousarray(values))


class _GatheredSamples(torch.utils.data.Dataset):
    """A source as a torch dataset whose items are whole batches (DataLoader workers)."""

    def __init__(self, source: SampleSource) -> None:
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, positions: np.ndarray) -> tuple[torch.Tensor, list[str]]:
        values, messages = self.source.gather_with_warnings(positions)
        return _batch_tensor(values), messages
