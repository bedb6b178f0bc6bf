"""Samples read from storage batch by batch: what the lean data path gathers from.

An estimator never converts such data whole. Each training or prediction batch gathers its
rows as stored (uint8 pixels stay uint8), moves them to the device and only then makes them
float32, so memory holds the stored bytes once, plus a batch.
"""

from __future__ import annotations

import abc

import numpy as np


class SampleSource(abc.ABC):
    """Samples that live outside memory (files, a database) and are read a batch at a time.

    Public as ``sknets.datasets.SampleSource``. sknets estimators fit and predict on a
    source directly (the CNN, MLP and own-network estimators; :class:`ImageFiles
    <sknets.datasets.ImageFiles>` is one); scikit-learn's splitters index it like an array
    (``train_test_split``, ``cross_val_score``), since ``source[indices]`` is the source of
    those samples. A subclass defines :attr:`shape`, :attr:`dtype`, :meth:`gather` and
    :meth:`subset`, and may set ``num_workers``; it must pickle when it has workers.

    Attributes
    ----------
    num_workers : int
        With more than 0, estimators gather batches in that many
        :class:`torch.utils.data.DataLoader` worker processes, ahead of training (decoding
        files in parallel); with 0, in the process that trains.
    """

    num_workers: int = 0

    @property
    @abc.abstractmethod
    def shape(self) -> tuple[int, ...]:
        """``(n_samples, *sample_shape)``: the shape of the array the source stands for."""

    @property
    @abc.abstractmethod
    def dtype(self) -> np.dtype:
        """The dtype of the samples :meth:`gather` returns."""

    @abc.abstractmethod
    def gather(self, indices: np.ndarray) -> np.ndarray:
        """The samples at ``indices`` (int64 positions, any order, repeats allowed), as stored.

        Returns an array of shape ``(len(indices), *shape[1:])`` and dtype :attr:`dtype`,
        row ``i`` holding sample ``indices[i]``. Runs in worker processes when
        ``num_workers > 0``: it must not rely on state changed after the source was made.
        """

    @abc.abstractmethod
    def subset(self, indices: np.ndarray) -> SampleSource:
        """A source of the samples at ``indices`` (int64 positions), in that order."""

    def gather_with_warnings(self, indices: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """What :meth:`gather` returns, with the warnings it would give as strings instead.

        A worker process's warnings never reach the process that trains: estimators call
        this in workers and warn with the messages themselves. By default, :meth:`gather`
        and no message.
        """
        return self.gather(indices), []

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __getitem__(self, key) -> SampleSource:
        """``source[indices]``: the source of those samples (an int array, a bool mask, a slice)."""
        if isinstance(key, tuple) and len(key) == 2 and key[1] is Ellipsis:
            key = key[0]  # scikit-learn's _safe_indexing writes X[indices, ...]
        if isinstance(key, slice):
            indices = np.arange(len(self))[key]
        else:
            key = np.asarray(key)
            if key.dtype == bool:
                if key.shape != (len(self),):
                    raise IndexError(
                        f"a boolean mask of shape {key.shape} does not match {len(self)} samples"
                    )
                indices = np.flatnonzero(key)
            elif np.issubdtype(key.dtype, np.integer) and key.ndim <= 1:
                indices = np.arange(len(self))[key]  # negative positions, bounds checked
            else:
                raise IndexError(
                    f"{type(self).__name__} is indexed with integer positions, a boolean mask "
                    f"or a slice, not {key!r}"
                )
            if indices.ndim == 0:
                indices = indices.reshape(1)
        return self.subset(indices.astype(np.int64, copy=False))

    def __array__(self, dtype=None, copy=None):
        """All samples, read into one array (what ``np.asarray(source)`` means)."""
        values = self.gather(np.arange(len(self), dtype=np.int64))
        return values if dtype is None else values.astype(dtype, copy=False)
