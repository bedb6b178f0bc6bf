"""What classification adds to the shared engine: labels, class weights, probabilities.

Labels of any type are encoded as indices into ``classes_`` and trained with cross-entropy
over a softmax; a 2-D 0/1 indicator ``y`` trains independent sigmoid outputs (multi-label).
The task objects themselves (loss, probabilities, decisions) are in :mod:`sknets._tasks`.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from ._docstrings import CLASSIFIER_ATTRIBUTES, CLASSIFIER_PARAMETERS, WEIGHT_DECAY
from ._sklearn_compat import StrOptions, _fit_context
from ._tasks import MultiLabel, SingleLabel
from .base import NeuralNetBase


class NeuralNetClassifierBase(ClassifierMixin, NeuralNetBase):
    """Base class of the sknets classifiers; not meant to be used directly.

    Adds ``class_weight``, label encoding (``classes_``), multi-label targets,
    ``partial_fit(..., classes=)`` and the probability methods to
    :class:`~sknets.base.NeuralNetBase`.
    """

    _parameter_constraints: dict = {
        **NeuralNetBase._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }
    _docs = {
        "task_parameters": CLASSIFIER_PARAMETERS,
        "task_attributes": CLASSIFIER_ATTRIBUTES,
        "weight_decay": WEIGHT_DECAY,
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train exactly one epoch on ``X, y``, keeping the current weights.

        Parameters
        ----------
        X : array-like
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels; all must be among ``classes`` (first call) or ``classes_``. A 0/1
            indicator matrix trains a multi-label model (its columns are the labels).
        classes : array-like, default=None
            Every label the model will ever see. Required on the first call, except for
            multi-label ``y``, whose labels are its columns.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.

        Returns
        -------
        self : object
            The estimator, trained one epoch more.
        """
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, which sees one "
                "chunk of data at a time; pass a dict of weights per class instead"
            )
        return self._partial_fit(X, y, sample_weight, classes=classes, classes_required=True)

    def _encode_targets(
        self,
        y,
        *,
        reset: bool,
        sample_weight=None,
        classes=None,
        classes_required=False,
        name: str = "y",
    ) -> torch.Tensor:
        """Class indices (int64) of 1-D labels, or the float32 matrix of multi-label ``y``.

        With ``reset``, learns ``classes_`` and the task; otherwise checks ``y`` against them.
        ``classes_required``: the first ``partial_fit`` of single-label ``y`` needs ``classes``.
        """
        if getattr(y, "ndim", 1) == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # a column vector is one label per row
        check_classification_targets(y)
        kind = type_of_target(y, input_name=name)
        if kind == "multiclass-multioutput":
            raise ValueError(
                f"{name} has several columns of classes (multiclass-multioutput), which sknets "
                "does not support; a 2-D y must be a 0/1 indicator matrix (multi-label)"
            )
        if kind == "multilabel-indicator":
            return self._encode_indicators(y, reset=reset, classes=classes, name=name)
        if reset:
            if classes is None and classes_required:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self.classes_ = self._learn_classes(y, classes)
            self._task = SingleLabel(len(self.classes_))
        elif self._task.multilabel:
            raise ValueError(
                f"{name} holds one label per row, but the model was fitted on a multi-label "
                f"indicator matrix of {len(self.classes_)} columns"
            )
        else:
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if unseen.size:
                raise ValueError(
                    f"{name} contains labels {unseen.tolist()} not seen in the first fit; "
                    f"the model knows only classes_={self.classes_.tolist()}"
                )
        return torch.from_numpy(np.searchsorted(self.classes_, y).astype(np.int64))

    def _encode_indicators(self, y, *, reset: bool, classes, name: str) -> torch.Tensor:
        indicators = y.toarray() if hasattr(y, "toarray") else np.asarray(y)
        if not np.isin(indicators, (0, 1)).all():
            raise ValueError(
                f"{name} is a multi-label indicator matrix but holds values other than 0 and "
                f"1: {np.unique(indicators)[:5].tolist()}"
            )
        n_labels = indicators.shape[1]
        if self.class_weight is not None:
            raise ValueError(
                f"class_weight={self.class_weight!r} is not supported with multi-label y; use "
                "sample_weight to weight rows"
            )
        if classes is not None and len(classes) != n_labels:
            raise ValueError(
                f"classes has {len(classes)} entries but the multi-label {name} has {n_labels} "
                "columns (one per label)"
            )
        if reset:
            self.classes_ = np.arange(n_labels)
            self._task = MultiLabel(n_labels)
        elif not self._task.multilabel or n_labels != len(self.classes_):
            fitted = (
                f"{len(self.classes_)} labels"
                if self._task.multilabel
                else "one label per row (not multi-label)"
            )
            raise ValueError(
                f"{name} is a multi-label matrix of {n_labels} columns, but the model was "
                f"fitted on {fitted}"
            )
        return torch.from_numpy(indicators.astype(np.float32))

    @staticmethod
    def _learn_classes(y, classes) -> np.ndarray:
        labels = np.unique(y if classes is None else classes)
        if classes is not None:
            unknown = np.setdiff1d(np.unique(y), labels)
            if unknown.size:
                raise ValueError(
                    f"y contains labels {unknown.tolist()} that are not in "
                    f"classes={labels.tolist()}"
                )
        if len(labels) < 2:
            raise ValueError(
                f"y contains {len(labels)} class ({labels.tolist()}); a classifier needs "
                "samples of at least 2 classes"
            )
        return labels

    def _learn_target_weights(self, targets: torch.Tensor) -> None:
        """Weight of each class in ``classes_`` from ``class_weight`` and the training labels."""
        self._class_weight_of = None
        if self.class_weight is not None:
            labels = self.classes_[targets.numpy()]
            self._class_weight_of = compute_class_weight(
                self.class_weight, classes=self.classes_, y=labels
            )

    def _target_weights(self, targets: torch.Tensor) -> np.ndarray | None:
        if self._class_weight_of is None:
            return None
        return self._class_weight_of[targets.numpy()]

    # -------------------------------------------------------------------- prediction
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, one column per entry of ``classes_``.

        Parameters
        ----------
        X : array-like
            Inputs in the layout used for ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Softmax of the network's outputs (rows sum to 1); for a multi-label model, the
            independent probability of each label (sigmoid).
        """
        outputs = self._outputs(X)
        return self._task.proba(outputs).numpy()

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed stably."""
        outputs = self._outputs(X)
        return self._task.log_proba(outputs).numpy()

    def predict(self, X) -> np.ndarray:
        """Most probable label for each row, as an entry of ``classes_``.

        For a multi-label model, the 0/1 indicator matrix of the labels whose probability
        exceeds 0.5.
        """
        outputs = self._outputs(X)
        decisions = self._task.decide(outputs).numpy()
        return decisions if self._task.multilabel else self.classes_[decisions]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
