import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknets.text import TextToSequences

TEXTS = [
    "The cat sat on the mat",
    "the dog sat",
    "A dog and a cat",
    "the end",
]


def test_vocabulary_most_frequent_first_ties_by_token():
    to_ids = TextToSequences().fit(TEXTS)
    # the: 4, cat/dog/sat: 2 (alphabetical), then the single ones alphabetically;
    # "a" is not a token for the default pattern (two characters or more).
    assert to_ids.vocabulary_ == {
        "the": 2,
        "cat": 3,
        "dog": 4,
        "sat": 5,
        "and": 6,
        "end": 7,
        "mat": 8,
        "on": 9,
    }
    assert to_ids.vocab_size_ == 10
    assert to_ids.max_length_ == 6


def test_vocabulary_does_not_depend_on_text_order():
    forward = TextToSequences().fit(TEXTS).vocabulary_
    backward = TextToSequences().fit(TEXTS[::-1]).vocabulary_
    assert forward == backward


def test_transform_pads_with_zero_at_the_end():
    ids = TextToSequences().fit(TEXTS).transform(TEXTS)
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(
        ids,
        [
            [2, 3, 5, 9, 2, 8],
            [2, 4, 5, 0, 0, 0],
            [4, 6, 3, 0, 0, 0],
            [2, 7, 0, 0, 0, 0],
        ],
    )


def test_unknown_tokens_map_to_one():
    to_ids = TextToSequences().fit(TEXTS)
    np.testing.assert_array_equal(
        to_ids.transform(["the bird sat", "zebra"]), [[2, 1, 5, 0, 0, 0], [1, 0, 0, 0, 0, 0]]
    )


@pytest.mark.parametrize("text", ["", "?!", "a b c"])
def test_text_without_tokens_gets_one_out_of_vocabulary_step(text):
    ids = TextToSequences().fit(TEXTS).transform([text])
    np.testing.assert_array_equal(ids, [[1, 0, 0, 0, 0, 0]])


def test_padding_only_at_the_end_so_lengths_can_be_recovered():
    ids = TextToSequences().fit(TEXTS).transform(TEXTS + ["", "unknown words only"])
    lengths = (ids != 0).sum(axis=1)
    assert lengths.min() >= 1
    for row, length in zip(ids, lengths):
        assert (row[:length] != 0).all() and (row[length:] == 0).all()


def test_max_length_truncates_and_sets_width():
    to_ids = TextToSequences(max_length=3).fit(TEXTS)
    assert to_ids.max_length_ == 3
    ids = to_ids.transform(["the cat sat on the mat", "dog"])
    np.testing.assert_array_equal(ids, [[2, 3, 5], [4, 0, 0]])
    wide = TextToSequences(max_length=8).fit(TEXTS).transform(["the cat"])
    np.testing.assert_array_equal(wide, [[2, 3, 0, 0, 0, 0, 0, 0]])


def test_longer_text_at_transform_is_truncated_to_training_length():
    to_ids = TextToSequences().fit(["one two", "three"])
    assert to_ids.transform(["one two three one"]).shape == (1, 2)


def test_max_length_at_least_one():
    to_ids = TextToSequences().fit(["", "?"])
    assert to_ids.max_length_ == 1
    assert to_ids.vocabulary_ == {}
    assert to_ids.vocab_size_ == 2
    np.testing.assert_array_equal(to_ids.transform(["anything"]), [[1]])


def test_min_frequency_drops_rare_tokens():
    to_ids = TextToSequences(min_frequency=2).fit(TEXTS)
    assert to_ids.vocabulary_ == {"the": 2, "cat": 3, "dog": 4, "sat": 5}
    np.testing.assert_array_equal(to_ids.transform(["the mat"])[0, :2], [2, 1])


def test_max_vocabulary_keeps_most_frequent():
    to_ids = TextToSequences(max_vocabulary=2).fit(TEXTS)
    assert to_ids.vocabulary_ == {"the": 2, "cat": 3}
    assert to_ids.vocab_size_ == 4
    np.testing.assert_array_equal(to_ids.transform(["the dog cat"])[0, :3], [2, 1, 3])


def test_lowercase_and_token_pattern():
    cased = TextToSequences(lowercase=False).fit(["The the"])
    assert set(cased.vocabulary_) == {"The", "the"}
    single_letters = TextToSequences(token_pattern=r"(?u)\b\w+\b").fit(["a cat"])
    assert set(single_letters.vocabulary_) == {"a", "cat"}


def test_same_tokens_as_count_vectorizer():
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer().fit(TEXTS)
    assert set(TextToSequences().fit(TEXTS).vocabulary_) == set(vectorizer.vocabulary_)


@pytest.mark.parametrize(
    "X",
    [np.array(TEXTS), pd.Series(TEXTS, index=[10, 3, 7, 1]), tuple(TEXTS), iter(TEXTS)],
)
def test_array_series_tuple_and_iterator_input(X):
    expected = TextToSequences().fit_transform(TEXTS)
    np.testing.assert_array_equal(TextToSequences().fit_transform(X), expected)


def test_transform_of_empty_list():
    assert TextToSequences().fit(TEXTS).transform([]).shape == (0, 6)


def test_get_params_and_clone():
    to_ids = TextToSequences(lowercase=False, max_vocabulary=5, min_frequency=2, max_length=7)
    params = to_ids.get_params()
    assert params == {
        "lowercase": False,
        "token_pattern": r"(?u)\b\w\w+\b",
        "max_vocabulary": 5,
        "min_frequency": 2,
        "max_length": 7,
    }
    to_ids.fit(TEXTS)
    cloned = clone(to_ids)
    assert cloned.get_params() == params
    assert not hasattr(cloned, "vocabulary_")


def test_pickle_round_trip():
    to_ids = TextToSequences(max_length=4).fit(TEXTS)
    restored = pickle.loads(pickle.dumps(to_ids))
    assert restored.vocabulary_ == to_ids.vocabulary_
    np.testing.assert_array_equal(restored.transform(TEXTS), to_ids.transform(TEXTS))


def test_in_a_pipeline():
    pipeline = make_pipeline(TextToSequences(max_length=3)).fit(TEXTS)
    assert pipeline.transform(["the cat"]).shape == (1, 3)


def test_tags_say_strings():
    tags = TextToSequences().__sklearn_tags__()
    assert tags.input_tags.string
    assert not tags.input_tags.two_d_array


def test_transform_before_fit():
    with pytest.raises(NotFittedError):
        TextToSequences().transform(TEXTS)


@pytest.mark.parametrize(
    ("X", "match"),
    [
        ("the cat sat", r"X must be a list of texts, got a single string; wrap it in a list"),
        (["the cat", 3], r"X\[1\] is int 3; every item of X must be a str"),
        (pd.Series(["the cat", None]), r"X\[1\] is (float nan|NoneType None)"),
        (
            np.array([["a b"], ["c d"]]),
            r"X must be a 1-D list, array or Series of texts, got shape",
        ),
        (pd.DataFrame({"text": TEXTS}), r"X must be a 1-D list, array or Series of texts"),
        ([], r"X is empty; fit needs at least one text"),
    ],
)
def test_fit_input_errors(X, match):
    with pytest.raises(ValueError, match=match):
        TextToSequences().fit(X)


def test_transform_input_errors():
    to_ids = TextToSequences().fit(TEXTS)
    with pytest.raises(ValueError, match=r"got a single string"):
        to_ids.transform("the cat")
    with pytest.raises(ValueError, match=r"X\[0\] is bytes b'the cat'"):
        to_ids.transform([b"the cat"])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"min_frequency": 0},
            r"'min_frequency' parameter of TextToSequences must be an int in the range "
            r"\[1, inf\)\. Got 0 instead",
        ),
        ({"min_frequency": None}, r"'min_frequency' parameter .* Got None instead"),
        (
            {"max_vocabulary": 0},
            r"'max_vocabulary' parameter .* must be an int in the range \[1, inf\) or None\. Got 0",
        ),
        ({"max_vocabulary": 2.0}, r"'max_vocabulary' parameter .* Got 2\.0 instead"),
        ({"max_length": -1}, r"'max_length' parameter .* or None\. Got -1 instead"),
        ({"lowercase": "yes"}, r"'lowercase' parameter .* must be an instance of 'bool'"),
        ({"token_pattern": None}, r"'token_pattern' parameter .* instance of 'str'\. Got None"),
        ({"token_pattern": "(unclosed"}, r"token_pattern='\(unclosed' is not a valid regular"),
        ({"token_pattern": r"(a)(b)"}, r"More than 1 capturing group"),
    ],
)
def test_parameter_errors(params, match):
    with pytest.raises(ValueError, match=match):
        TextToSequences(**params).fit(TEXTS)


# ------------------------------------------------------------- scikit-learn's check suite
# parametrize_with_checks runs nothing but check_estimator_cloneable on an estimator whose
# input is 1-D text (it warns "Can't test estimator TextToSequences which requires input of
# type ..." and stops), since its checks generate numeric arrays. So the suite runs on a
# Pipeline whose first step writes each row of numbers as a text of words ("p4 n12 …"):
# every fit, transform, clone, pickle and set_output of the checks goes through
# TextToSequences unchanged. The checks that need no data run on it directly.


class NumbersAsWords:
    """Each row of numbers as one text: 1.0 -> "p4", -3.0 -> "n12" (counted in quarters).

    Numbers that round to 0 are left out, so texts have different lengths (some none at
    all). A class rather than a function so that the check ids (the estimator's repr) are
    the same in every process, as pytest-xdist needs.
    """

    def __call__(self, X) -> list[str]:
        quarters = np.rint(np.asarray(X) * 4).astype(int)
        return [
            " ".join(f"{'n' if value < 0 else 'p'}{abs(value)}" for value in row if value)
            for row in quarters
        ]

    def __repr__(self) -> str:
        return "NumbersAsWords()"


class OneTextColumn:
    """``feature_names_out`` of that step: its output is one column of texts."""

    def __call__(self, transformer, input_features) -> np.ndarray:
        return np.asarray(["text"], dtype=object)

    def __repr__(self) -> str:
        return "OneTextColumn()"


NUMBERS_AS_TEXT = FunctionTransformer(
    NumbersAsWords(), validate=True, feature_names_out=OneTextColumn()
)

PIPELINE_CHANGES_STEPS = (
    "Pipeline fits the estimators in its `steps` parameter in place, which these checks "
    "forbid; scikit-learn expects the same failures of its own Pipeline "
    "(PER_ESTIMATOR_XFAIL_CHECKS in sklearn/utils/_test_common/instance_generator.py)"
)


@parametrize_with_checks(
    [make_pipeline(NUMBERS_AS_TEXT, TextToSequences())],
    expected_failed_checks=lambda pipeline: {
        "check_estimators_overwrite_params": PIPELINE_CHANGES_STEPS,
        "check_dont_overwrite_parameters": PIPELINE_CHANGES_STEPS,
    },
)
def test_sklearn_checks_through_a_numbers_to_text_step(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_estimator_cloneable,
        estimator_checks.check_estimator_repr,
        estimator_checks.check_no_attributes_set_in_init,
        estimator_checks.check_get_params_invariance,
        estimator_checks.check_set_params,
        estimator_checks.check_parameters_default_constructible,
        estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
        estimator_checks.check_valid_tag_types,
        estimator_checks.check_estimator_tags_renamed,
        estimator_checks.check_mixin_order,
    ],
    ids=lambda check: check.__name__,
)
def test_sklearn_checks_without_data(check):
    check("TextToSequences", TextToSequences())


def test_feature_names_and_pandas_output():
    to_ids = TextToSequences(max_length=3).fit(TEXTS)
    assert list(to_ids.get_feature_names_out()) == ["token0", "token1", "token2"]
    frame = to_ids.set_output(transform="pandas").transform(["the cat", "dog"])
    assert list(frame.columns) == ["token0", "token1", "token2"]
    np.testing.assert_array_equal(frame.to_numpy(), [[2, 3, 0], [4, 0, 0]])
    with pytest.raises(NotFittedError):
        TextToSequences().get_feature_names_out()


def test_tags_say_no_input_dtype_is_preserved():
    assert TextToSequences().__sklearn_tags__().transformer_tags.preserves_dtype == []
