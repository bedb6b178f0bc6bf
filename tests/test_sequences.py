import numpy as np
import pandas as pd
import pytest
import torch

from sknets.sequences import is_ragged, pad_sequences


def test_pad_multivariate_at_the_end():
    first = np.arange(6, dtype=np.float32).reshape(3, 2)
    second = np.full((1, 2), 9.0, dtype=np.float32)
    padded, lengths = pad_sequences([first, second])
    assert padded.shape == (2, 3, 2)
    assert padded.dtype == np.float32
    np.testing.assert_array_equal(padded[0], first)
    np.testing.assert_array_equal(padded[1], [[9, 9], [0, 0], [0, 0]])
    assert lengths.dtype == np.int64
    np.testing.assert_array_equal(lengths, [3, 1])


def test_pad_token_ids_stay_integers():
    padded, lengths = pad_sequences([[4, 5, 6], [7], [8, 9]])
    assert padded.dtype.kind == "i"
    np.testing.assert_array_equal(padded, [[4, 5, 6], [7, 0, 0], [8, 9, 0]])
    np.testing.assert_array_equal(lengths, [3, 1, 2])


def test_dtype_promotion_and_override():
    padded, _ = pad_sequences([np.array([1, 2]), np.array([0.5])])
    assert padded.dtype == np.float64
    np.testing.assert_array_equal(padded, [[1, 2], [0.5, 0]])
    padded, _ = pad_sequences([[1, 2], [3]], dtype=np.float32)
    assert padded.dtype == np.float32


def test_padding_value():
    padded, _ = pad_sequences([[1.0, 2.0], [3.0]], padding_value=np.nan)
    np.testing.assert_array_equal(padded, [[1, 2], [3, np.nan]])


def test_max_length_keeps_the_first_steps():
    padded, lengths = pad_sequences([[1, 2, 3, 4], [5, 6], [7]], max_length=2)
    np.testing.assert_array_equal(padded, [[1, 2], [5, 6], [7, 0]])
    np.testing.assert_array_equal(lengths, [2, 2, 1])


def test_max_length_longer_than_every_sequence_does_not_pad_further():
    padded, lengths = pad_sequences([[1, 2], [3]], max_length=10)
    assert padded.shape == (2, 2)
    np.testing.assert_array_equal(lengths, [2, 1])


def test_accepts_tuple_object_array_series_and_tensors():
    sequences = [np.ones((2, 3)), np.ones((4, 3))]
    object_array = np.empty(2, dtype=object)
    object_array[:] = sequences
    expected, _ = pad_sequences(sequences)
    for container in (tuple(sequences), object_array, pd.Series(sequences)):
        padded, lengths = pad_sequences(container)
        np.testing.assert_array_equal(padded, expected)
        np.testing.assert_array_equal(lengths, [2, 4])
    padded, _ = pad_sequences([torch.ones(2, 3), torch.ones(4, 3)])
    np.testing.assert_array_equal(padded, expected)


def test_input_is_not_modified():
    first = np.ones((3, 2))
    padded, _ = pad_sequences([first, np.ones((1, 2))])
    padded[:] = 5
    np.testing.assert_array_equal(first, 1)


@pytest.mark.parametrize(
    ("sequences", "kwargs", "match"),
    [
        ([], {}, r"sequences is empty; pad_sequences needs at least one sequence"),
        ("abc", {}, r"sequences must be a list of sequences, got a single string"),
        ([[1, 2], []], {}, r"sequence 1 is empty; every sequence needs at least 1 step"),
        ([np.ones((2, 3)), np.ones((0, 3))], {}, r"sequence 1 is empty"),
        (
            [np.ones((2, 3)), np.ones((2, 3)), np.ones((4, 2))],
            {},
            r"sequence 2 has 2 features but sequence 0 has 3; all sequences must have the same",
        ),
        (
            [np.ones((2, 3)), np.ones(4)],
            {},
            r"sequence 1 is 1-D but sequence 0 is 2-D",
        ),
        (
            [np.ones((2, 3)), np.ones((2, 3, 1))],
            {},
            r"sequence 1 has 3 dimensions \(shape \(2, 3, 1\)\); use \(n_steps,\) or",
        ),
        ([[1, 2], 3], {}, r"sequence 1 has 0 dimensions"),
        ([[[1, 2], [3]]], {}, r"sequence 0 is not a regular array"),
        ([["a", "b"], ["c"]], {}, r"sequences must hold numbers, got dtype <U1"),
        ([[1, 2]], {"max_length": 0}, r"max_length=0 is not supported; use None or an integer"),
        ([[1, 2]], {"max_length": 2.5}, r"max_length=2.5 is not supported"),
    ],
)
def test_pad_sequences_errors(sequences, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences(sequences, **kwargs)


def _object_array(items):
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


@pytest.mark.parametrize(
    "X",
    [
        [np.zeros((3, 2)), np.zeros((5, 2))],
        [np.zeros((3, 2)), np.zeros((3, 2))],  # equal lengths too: padding is harmless
        [[1, 2, 3], [4]],
        ([1, 2], [3]),
        _object_array([np.zeros(3), np.zeros(5)]),
        pd.Series([np.zeros(3), np.zeros(5)]),
        [torch.zeros(3, 2), torch.zeros(1, 2)],
    ],
)
def test_is_ragged_true(X):
    assert is_ragged(X) is True


@pytest.mark.parametrize(
    "X",
    [
        np.zeros((4, 5, 2)),
        np.zeros((4, 5)),
        np.zeros(4, dtype=object),  # holds scalars, not sequences
        [],
        [1.0, 2.0],
        ["a text", "another text"],
        "a text",
        pd.DataFrame({"a": [1, 2]}),
        pd.Series([1.0, 2.0]),
        torch.zeros(4, 5, 2),
        None,
    ],
)
def test_is_ragged_false(X):
    assert is_ragged(X) is False
