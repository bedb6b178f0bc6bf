"""In-memory training data and the fast batch path.

Batches are slices of tensors that already hold the whole data set (moved to the device once
when it fits there), never per-sample ``Dataset.__getitem__`` calls plus a collate function.
A scipy sparse matrix stays sparse: each batch becomes dense on its way to the module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping

import numpy as np
import scipy.sparse
import torch
from sklearn.model_selection import train_test_split

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


def as_module_tensor(values: np.ndarray, *, training: bool) -> torch.Tensor | SparseRows:
    """``values`` as a contiguous tensor for a module: float32 in training, else as given.

    Integer arrays (token ids) become int64. Training input is checked against the float32
    range; inference input keeps float32 or float64, since inference picks its precision.
    A scipy sparse matrix becomes :class:`SparseRows` of that dtype, still sparse.
    """
    if np.issubdtype(values.dtype, np.integer):
        dtype = np.int64
    elif training:
        check_float32_range(values)
        dtype = np.float32
    else:
        dtype = values.dtype if values.dtype in (np.float32, np.float64) else np.float64
    if scipy.sparse.issparse(values):
        return SparseRows(values.tocsr().astype(dtype, copy=False))
    return torch.from_numpy(np.require(values, dtype, ["C_CONTIGUOUS", "WRITEABLE"]))


class SparseRows:
    """The rows of a scipy CSR matrix, made dense one batch at a time.

    The whole matrix is never densified (100 000 rows of 50 000 float32 features take 18.6
    GB):
    indexing with a slice or an index tensor returns those rows as a **dense** tensor, and
    :func:`_map` defers its function (a device move, a dtype cast) to each such batch. A
    batch is thus bit for bit the batch of ``X.toarray()``: training and predictions do not
    depend on the storage.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix or scipy.sparse.csr_array
        One sample per row, in the dtype of the dense batches.
    batch_functions : tuple of callables, default=()
        Applied in order to every dense batch.
    """

    def __init__(self, matrix, batch_functions: tuple[Callable, ...] = ()) -> None:
        self.matrix = matrix
        self.batch_functions = batch_functions

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    @property
    def n_bytes(self) -> int:
        """Bytes of the sparse storage (values, column indices, row pointers)."""
        matrix = self.matrix
        return matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def __getitem__(self, index: torch.Tensor | slice) -> torch.Tensor:
        rows = torch.from_numpy(self.matrix[_host_index(index)].toarray())
        for function in self.batch_functions:
            rows = function(rows)
        return rows

    def subset(self, index: torch.Tensor | slice) -> SparseRows:
        """The rows at ``index``, still sparse."""
        return SparseRows(self.matrix[_host_index(index)], self.batch_functions)

    def map(self, function: Callable[[torch.Tensor], torch.Tensor]) -> SparseRows:
        """The same rows, with ``function`` applied to every dense batch."""
        return SparseRows(self.matrix, (*self.batch_functions, function))


def _host_index(index: torch.Tensor | slice) -> slice | np.ndarray:
    # A shuffled order lives on the device with the targets; scipy indexes with host integers.
    return index.cpu().numpy() if isinstance(index, torch.Tensor) else index


Inputs = torch.Tensor | SparseRows | Mapping[str, torch.Tensor]


def _index(inputs: Inputs, index: torch.Tensor | slice) -> Inputs:
    if isinstance(inputs, Mapping):
        return {name: tensor[index] for name, tensor in inputs.items()}
    return inputs[index]


def _map(inputs: Inputs, function: Callable[[torch.Tensor], torch.Tensor]) -> Inputs:
    if isinstance(inputs, Mapping):
        return {name: function(tensor) for name, tensor in inputs.items()}
    if isinstance(inputs, SparseRows):
        return inputs.map(function)
    return function(inputs)


def _tensors(inputs: Inputs) -> list[torch.Tensor | SparseRows]:
    return list(inputs.values()) if isinstance(inputs, Mapping) else [inputs]


def _n_bytes(inputs: Inputs) -> int:
    return sum(
        part.n_bytes if isinstance(part, SparseRows) else part.element_size() * part.nelement()
        for part in _tensors(inputs)
    )


def first_rows(inputs: Inputs, count: int) -> torch.Tensor | dict[str, torch.Tensor]:
    """Copies of the first ``count`` samples, dense (a view would keep all of them alive)."""
    if isinstance(inputs, Mapping):
        return {name: tensor[:count].clone() for name, tensor in inputs.items()}
    return inputs[slice(0, count)].clone()


def n_rows(inputs: Inputs) -> int:
    """Number of samples in ``inputs`` (the first dimension, shared by all its tensors)."""
    return len(_tensors(inputs)[0])


def values_per_row(inputs: Inputs) -> int:
    """Values of one sample as the module receives it (dense), over all tensors of ``inputs``."""
    return sum(math.prod(part.shape[1:]) for part in _tensors(inputs))


class ArrayData(torch.utils.data.Dataset):
    """Whole-data-set tensors: inputs, encoded targets and per-sample weights.

    ``inputs`` is a tensor, a :class:`SparseRows`, or a dict of tensors passed to the module
    as keyword arguments (e.g. padded sequences and their lengths). All share the first
    dimension.
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
        """Return the rows at ``indices`` as a new :class:`ArrayData` (sparse stays sparse)."""
        index = torch.as_tensor(indices, dtype=torch.long)
        if isinstance(self.inputs, SparseRows):
            inputs = self.inputs.subset(index)
        else:
            inputs = _index(self.inputs, index)
        return ArrayData(
            inputs,
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
        self.inputs = self._place(data.inputs)
        self.targets = None if data.targets is None else self._place(data.targets)
        self.sample_weight = None if data.sample_weight is None else self._place(data.sample_weight)

    def _place(self, inputs: Inputs) -> Inputs:
        if self.on_device:
            return _map(inputs, lambda tensor: tensor.to(self.device))
        return _map(inputs, lambda tensor: tensor.pin_memory())

    def _deliver(self, inputs: Inputs) -> Inputs:
        if self.on_device:
            return inputs
        return _map(inputs, lambda tensor: tensor.to(self.device, non_blocking=True))

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
        order = None
        if self.shuffle:
            order = torch.randperm(self.n_samples, generator=self.generator)
            if self.on_device:
                order = order.to(self.device)
        for start, stop in self.batch_bounds():
            index = slice(start, stop) if order is None else order[start:stop]
            inputs = self._deliver(_index(self.inputs, index))
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
