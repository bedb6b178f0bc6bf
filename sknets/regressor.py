"""What regression adds to the shared engine: numeric targets, their loss, predictions.

Targets in any unit (prices, counts, the diabetes progression 25-346) are standardised
inside the estimator, trained with the chosen loss, and predictions come back in the
original units: no ``TransformedTargetRegressor`` needed for a good default fit. The task
object (loss, standardisation, outputs to predictions) is in :mod:`sknets._tasks`.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_array, column_or_1d

from ._docstrings import REGRESSOR_ATTRIBUTES, REGRESSOR_PARAMETERS, REGRESSOR_WEIGHT_DECAY
from ._rows import check_float32_range
from ._sklearn_compat import Interval, StrOptions, _check_sample_weight, _fit_context
from ._tasks import REGRESSION_LOSSES, Regression
from .base import NeuralNetBase


class NeuralNetRegressorBase(RegressorMixin, NeuralNetBase):
    """Base class of the sknets regressors; not meant to be used directly.

    Adds ``loss``, ``huber_delta``, ``scale_targets``, numeric (multi-output) targets,
    ``n_outputs_`` and ``predict`` in the targets' units to :class:`~sknets.base.NeuralNetBase`;
    ``score`` is R², from :class:`~sklearn.base.RegressorMixin`.
    """

    _parameter_constraints: dict = {
        **NeuralNetBase._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "scale_targets": ["boolean"],
    }
    _docs = {
        "task_parameters": REGRESSOR_PARAMETERS,
        "task_attributes": REGRESSOR_ATTRIBUTES,
        "weight_decay": REGRESSOR_WEIGHT_DECAY,
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train exactly one epoch on ``X, y``, keeping the current weights.

        Parameters
        ----------
        X : array-like
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Numeric targets, with as many outputs as in the first call (whose values also
            fix the standardisation of ``scale_targets``).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.

        Returns
        -------
        self : object
            The estimator, trained one epoch more.
        """
        return self._partial_fit(X, y, sample_weight)

    def _encode_targets(
        self, y, *, reset: bool, sample_weight=None, name: str = "y"
    ) -> torch.Tensor:
        """Standardised float32 targets of shape ``(n, n_outputs)``; NaN or inf raise.

        The mean and standard deviation are weighted by ``sample_weight``: a row of weight
        2 counts as the row twice, in the standardisation as in the loss.
        """
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name=name)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # a column vector is one target, as in sklearn
        if y.ndim > 2:
            raise ValueError(
                f"{name} has shape {y.shape}; use (n_samples,) or (n_samples, n_outputs)"
            )
        values = y.reshape(len(y), -1)
        if reset:
            self.n_outputs_ = values.shape[1]
            self._target_ndim = y.ndim
            mean, scale = np.zeros(self.n_outputs_), np.ones(self.n_outputs_)
            if self.scale_targets:
                weights = _check_sample_weight(sample_weight, values, ensure_non_negative=True)
                mean = np.average(values, axis=0, weights=weights)
                scale = np.sqrt(np.average((values - mean) ** 2, axis=0, weights=weights))
                scale[scale == 0] = 1.0  # a constant target: predict it, do not divide by 0
            self._task = Regression(self.n_outputs_, self.loss, self.huber_delta, mean, scale)
        elif values.shape[1] != self.n_outputs_:
            raise ValueError(
                f"{name} has {values.shape[1]} outputs but the model was fitted on "
                f"n_outputs_={self.n_outputs_}"
            )
        standardised = (values - self._task.mean.numpy()) / self._task.scale.numpy()
        check_float32_range(standardised, name)
        return torch.from_numpy(standardised.astype(np.float32))

    def predict(self, X) -> np.ndarray:
        """Predicted targets, in their original units.

        Parameters
        ----------
        X : array-like
            Inputs in the layout used for ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            float64 predictions, in the shape of the ``y`` used for ``fit``.
        """
        outputs = self._outputs(X)
        predictions = self._task.decide(outputs).numpy()
        return predictions.ravel() if self._target_ndim == 1 else predictions

    def score(self, X, y, sample_weight=None) -> float:
        """R² of ``predict(X)`` against ``y``, as every scikit-learn regressor scores.

        1 is a perfect fit, 0 the score of always predicting the mean of ``y``, and it is
        negative for worse. Several outputs are averaged uniformly
        (:func:`~sklearn.metrics.r2_score`).

        Parameters
        ----------
        X : array-like
            Inputs in the layout used for ``fit``.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.

        Returns
        -------
        score : float
            R² of the predictions.
        """
        # Written out so that the documentation needs no math rendering (MathJax is remote).
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
