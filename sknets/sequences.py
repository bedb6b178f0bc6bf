"""Variable-length sequences: tell them apart from regular arrays and pad them into one."""

from collections.abc import Iterable
from functools import reduce
from numbers import Integral
from typing import Any

import numpy as np
import numpy.typing as npt


def _is_sequence(item: Any) -> bool:
    if isinstance(item, (list, tuple)):
        return True
    # ndarrays, tensors, Series... but not strings, which numpy sees as scalars.
    return hasattr(item, "__array__") and np.ndim(item) >= 1


def is_ragged(X: Any) -> bool:
    """Say whether ``X`` is a collection of separate sequences rather than a regular array.

    A list, a tuple or a 1-D object array (or pandas Series) whose first item is itself a
    sequence is treated as separate sequences, whatever their lengths: padding them with
    :func:`pad_sequences` and passing the lengths gives the same result as stacking them
    when they all have the same length, so there is no need to tell the two cases apart.
    Anything else (a numeric ndarray, a DataFrame, a list of numbers or of strings) is not.

    Parameters
    ----------
    X : object
        Input given to an estimator.

    Returns
    -------
    bool
        ``True`` when ``X`` should go through :func:`pad_sequences`.

    Examples
    --------
    >>> import numpy as np
    >>> from sknets.sequences import is_ragged
    >>> is_ragged([np.zeros((3, 2)), np.zeros((5, 2))])
    True
    >>> is_ragged(np.zeros((2, 5, 2)))
    False
    """
    if getattr(X, "ndim", 1) != 1 or isinstance(X, (str, bytes)):
        return False
    if isinstance(X, np.ndarray):
        if X.dtype != object:
            return False
    elif hasattr(X, "to_numpy"):  # a pandas Series of arrays
        X = X.to_numpy()
        if X.dtype != object:
            return False
    elif not isinstance(X, (list, tuple)):
        return False
    return len(X) > 0 and _is_sequence(X[0])


def pad_sequences(
    sequences: Iterable[npt.ArrayLike],
    *,
    dtype: npt.DTypeLike | None = None,
    padding_value: float = 0,
    max_length: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Stack sequences of different lengths into one array, padded at the end.

    Parameters
    ----------
    sequences : list, tuple or 1-D object array of array-like
        Each item is one sequence: ``(T_i, n_features)`` for multivariate steps, or
        ``(T_i,)`` for token ids or a univariate series. All items must have the same number
        of dimensions and of features; ``T_i`` may differ but must be at least 1.
    dtype : dtype or None, default=None
        Data type of the result. ``None`` promotes the sequences' own types (integers stay
        integers, so token ids remain valid indices).
    padding_value : scalar, default=0
        Value written after the end of each shorter sequence.
    max_length : int or None, default=None
        Keep only the first ``max_length`` steps of longer sequences. ``None`` keeps all.

    Returns
    -------
    padded : ndarray of shape (n_sequences, T_max, n_features) or (n_sequences, T_max)
        The sequences, each followed by padding up to ``T_max``, the longest (truncated)
        length.
    lengths : ndarray of shape (n_sequences,), dtype int64
        Number of valid steps in each row of ``padded``.

    Raises
    ------
    ValueError
        If ``sequences`` is empty, a sequence is empty or not 1-D/2-D, the sequences do not
        all have the same number of dimensions or features, they are not numeric, or
        ``max_length`` is not a positive integer.

    Examples
    --------
    >>> from sknets.sequences import pad_sequences
    >>> padded, lengths = pad_sequences([[4, 5, 6], [7]])
    >>> padded
    array([[4, 5, 6],
           [7, 0, 0]])
    >>> lengths
    array([3, 1])
    """
    if isinstance(sequences, (str, bytes)):
        raise ValueError("sequences must be a list of sequences, got a single string")
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, Integral) or max_length < 1
    ):
        raise ValueError(f"max_length={max_length!r} is not supported; use None or an integer >= 1")
    arrays = [_as_array(index, sequence) for index, sequence in enumerate(sequences)]
    if not arrays:
        raise ValueError("sequences is empty; pad_sequences needs at least one sequence")
    _check_shapes(arrays)
    if dtype is None:
        dtype = reduce(np.promote_types, {array.dtype for array in arrays})
        if not (np.issubdtype(dtype, np.number) or np.issubdtype(dtype, np.bool_)):
            raise ValueError(f"sequences must hold numbers, got dtype {dtype}")

    lengths = np.array([len(array) for array in arrays], dtype=np.int64)
    if max_length is not None:
        np.minimum(lengths, max_length, out=lengths)
    padded = np.full(
        (len(arrays), int(lengths.max()), *arrays[0].shape[1:]), padding_value, dtype=dtype
    )
    for row, (array, length) in enumerate(zip(arrays, lengths)):
        padded[row, :length] = array[:length]
    return padded, lengths


def _as_array(index: int, sequence: npt.ArrayLike) -> np.ndarray:
    try:
        return np.asarray(sequence)
    except ValueError as error:  # nested lists of unequal lengths
        raise ValueError(f"sequence {index} is not a regular array: {error}") from None


def _check_shapes(arrays: list[np.ndarray]) -> None:
    first = arrays[0]
    for index, array in enumerate(arrays):
        if array.ndim not in (1, 2):
            raise ValueError(
                f"sequence {index} has {array.ndim} dimensions (shape {array.shape}); "
                "use (n_steps,) or (n_steps, n_features)"
            )
        if len(array) == 0:
            raise ValueError(f"sequence {index} is empty; every sequence needs at least 1 step")
        if array.ndim != first.ndim:
            raise ValueError(
                f"sequence {index} is {array.ndim}-D but sequence 0 is {first.ndim}-D; "
                "all sequences must be (n_steps,) or all (n_steps, n_features)"
            )
        if array.shape[1:] != first.shape[1:]:
            raise ValueError(
                f"sequence {index} has {array.shape[1]} features but sequence 0 has "
                f"{first.shape[1]}; all sequences must have the same number of features"
            )
