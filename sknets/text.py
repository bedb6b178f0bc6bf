"""Raw text to padded token-id sequences, the input of a recurrent network."""

import re
from collections import Counter
from collections.abc import Callable, Iterable
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils.validation import check_is_fitted

from ._sklearn_compat import Interval, _fit_context

#: Token id written after the end of each shorter text.
PADDING_ID = 0
#: Token id of every token not in the vocabulary.
OUT_OF_VOCABULARY_ID = 1


class TextToSequences(TransformerMixin, BaseEstimator):
    """Turn raw strings into padded sequences of integer token ids.

    Texts are split into tokens with scikit-learn's word analyzer (the one
    :class:`~sklearn.feature_extraction.text.CountVectorizer` uses), each token becomes its
    id in a vocabulary learned in :meth:`fit`, and the rows are padded with ``0`` at the end
    to a common length. Id ``0`` is padding, id ``1`` stands for any token outside the
    vocabulary, and known tokens get ids from ``2`` on, most frequent first.

    Parameters
    ----------
    lowercase : bool, default=True
        Convert texts to lower case before tokenising.
    token_pattern : str, default=r"(?u)\\b\\w\\w+\\b"
        Regular expression of a token, as in ``CountVectorizer``. The default keeps words of
        two or more alphanumeric characters.
    max_vocabulary : int or None, default=None
        Keep only this many of the most frequent tokens; the rest map to the
        out-of-vocabulary id. ``None`` keeps them all.
    min_frequency : int, default=1
        Drop tokens seen fewer times than this in the training texts.
    max_length : int or None, default=None
        Length of the output rows; longer texts keep their first ``max_length`` tokens.
        ``None`` uses the token count of the longest training text.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Id of each known token, from 2 to ``vocab_size_ - 1``.
    vocab_size_ : int
        Number of distinct ids including padding and out-of-vocabulary,
        ``len(vocabulary_) + 2``; pass it as ``vocab_size`` to a recurrent network.
    max_length_ : int
        Length of the rows :meth:`transform` returns (at least 1).

    Examples
    --------
    >>> from sknets.text import TextToSequences
    >>> texts = ["the cat sat", "the dog sat down", "the cat"]
    >>> to_ids = TextToSequences().fit(texts)
    >>> to_ids.vocabulary_
    {'the': 2, 'cat': 3, 'sat': 4, 'dog': 5, 'down': 6}
    >>> to_ids.transform(["The bird sat", "?!"])
    array([[2, 1, 4, 0],
           [1, 0, 0, 0]])
    """

    _parameter_constraints: dict = {
        "lowercase": ["boolean"],
        "token_pattern": [str],
        "max_vocabulary": [Interval(Integral, 1, None, closed="left"), None],
        "min_frequency": [Interval(Integral, 1, None, closed="left")],
        "max_length": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        *,
        lowercase: bool = True,
        token_pattern: str = r"(?u)\b\w\w+\b",
        max_vocabulary: int | None = None,
        min_frequency: int = 1,
        max_length: int | None = None,
    ) -> None:
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.max_vocabulary = max_vocabulary
        self.min_frequency = min_frequency
        self.max_length = max_length

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Iterable[str], y: Any = None) -> "TextToSequences":
        """Learn the vocabulary and the output length from training texts.

        Parameters
        ----------
        X : list, 1-D array or pandas Series of str
            Training texts.
        y : None
            Ignored.

        Returns
        -------
        self : TextToSequences
            The fitted transformer.
        """
        self._check_token_pattern()
        texts = _check_texts(X)
        if not texts:
            raise ValueError("X is empty; fit needs at least one text")
        analyze = self._build_analyzer()
        token_lists = [analyze(text) for text in texts]
        counts = Counter(token for tokens in token_lists for token in tokens)
        # Ties broken by the token itself so the ids never depend on the order of X.
        kept = sorted(
            (token for token, count in counts.items() if count >= self.min_frequency),
            key=lambda token: (-counts[token], token),
        )[: self.max_vocabulary]
        first_id = OUT_OF_VOCABULARY_ID + 1
        self.vocabulary_ = {token: first_id + rank for rank, token in enumerate(kept)}
        self.vocab_size_ = len(self.vocabulary_) + first_id
        longest = max(len(tokens) for tokens in token_lists)
        self.max_length_ = self.max_length if self.max_length is not None else max(longest, 1)
        return self

    def fit_transform(self, X: Iterable[str], y: Any = None) -> np.ndarray:
        """Fit to ``X`` and encode it; ``X`` may be a one-shot iterator of str.

        Parameters
        ----------
        X : iterable of str
            Training texts.
        y : None
            Ignored.

        Returns
        -------
        ndarray of shape (n_texts, ``max_length_``), dtype int64
            Token ids of ``X``, as :meth:`transform` gives them.
        """
        texts = _check_texts(X)
        return self.fit(texts).transform(texts)

    def transform(self, X: Iterable[str]) -> np.ndarray:
        """Map texts to rows of token ids padded with 0 at the end.

        A text without any token still gets one step, the out-of-vocabulary id, because a
        recurrent network needs at least one step per sequence to produce an output.

        Parameters
        ----------
        X : list, 1-D array or pandas Series of str
            Texts to encode.

        Returns
        -------
        ndarray of shape (n_texts, ``max_length_``), dtype int64
            Token ids; unknown tokens are 1 and padding is 0.
        """
        check_is_fitted(self)
        texts = _check_texts(X)
        analyze = self._build_analyzer()
        ids = np.full((len(texts), self.max_length_), PADDING_ID, dtype=np.int64)
        for row, text in enumerate(texts):
            tokens = analyze(text)[: self.max_length_]
            row_ids = [self.vocabulary_.get(token, OUT_OF_VOCABULARY_ID) for token in tokens]
            row_ids = row_ids or [OUT_OF_VOCABULARY_ID]
            ids[row, : len(row_ids)] = row_ids
        return ids

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the columns :meth:`transform` returns: the token positions.

        Parameters
        ----------
        input_features : None
            Ignored; the input is a single column of texts (as in ``CountVectorizer``).

        Returns
        -------
        ndarray of str objects, of shape (``max_length_``,)
            ``"token0"``, ``"token1"``, … for the first, second, … token of each text.
        """
        check_is_fitted(self)
        return np.asarray([f"token{position}" for position in range(self.max_length_)], object)

    def __sklearn_tags__(self):
        # The same input tags as sklearn's text vectorizers: a 1-D list of strings.
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        # Token ids are int64 whatever the input; no input dtype is kept.
        tags.transformer_tags.preserves_dtype = []
        return tags

    def _build_analyzer(self) -> Callable[[str], list[str]]:
        return CountVectorizer(
            lowercase=self.lowercase, token_pattern=self.token_pattern
        ).build_analyzer()

    def _check_token_pattern(self) -> None:
        # The parameter constraints only check the type; a broken regex would otherwise
        # surface as re.error, which is not a ValueError.
        try:
            re.compile(self.token_pattern)
        except re.error as error:
            raise ValueError(
                f"token_pattern={self.token_pattern!r} is not a valid regular expression: {error}"
            ) from None


def _check_texts(X: Any) -> list[str]:
    if isinstance(X, (str, bytes)):
        raise ValueError(
            "X must be a list of texts, got a single string; wrap it in a list: [text]"
        )
    if getattr(X, "ndim", 1) != 1:
        raise ValueError(f"X must be a 1-D list, array or Series of texts, got shape {np.shape(X)}")
    texts = list(X)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(
                f"X[{index}] is {type(text).__name__} {text!r}; every item of X must be a str"
            )
    return texts
