"""What a learning task adds to the shared engine: its loss, outputs and decisions.

The engine trains any network on encoded targets; a task says how outputs and targets meet.
Single-label classification puts a softmax over one output per class (cross-entropy) and
decides by the largest output; multi-label classification gives each label an independent
sigmoid output (binary cross-entropy) and decides each label by the sign of its output, as
scikit-learn's ``MLPClassifier`` does for a 2-D indicator ``y``. Regression trains one
output per target on standardised targets and maps outputs back to the original units.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils import ClassifierTags, RegressorTags, Tags
from torch import nn
from torch.nn import functional


class SingleLabel:
    """One label per row among ``n_outputs`` classes: softmax outputs, cross-entropy loss.

    Targets are the class indices (int64).
    """

    criterion = nn.CrossEntropyLoss
    criterion_options: dict = {}
    multilabel = False

    def __init__(self, n_outputs: int) -> None:
        self.n_outputs = n_outputs

    def epoch_callbacks(self) -> list:
        """skorch callbacks that score each epoch for this task: ``valid_accuracy``."""
        from ._engine import ValidAccuracy

        return [("valid_accuracy", ValidAccuracy())]

    @staticmethod
    def decode_targets(targets: torch.Tensor) -> torch.Tensor:
        """Targets as scorers should see them: class indices, like :meth:`decide`."""
        return targets

    @staticmethod
    def per_sample_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Loss of each row, shape ``(n_rows,)``."""
        return functional.cross_entropy(outputs, targets, reduction="none")

    @staticmethod
    def proba(outputs: torch.Tensor) -> torch.Tensor:
        """Class probabilities; each row sums to 1."""
        return torch.softmax(outputs, dim=1)

    @staticmethod
    def log_proba(outputs: torch.Tensor) -> torch.Tensor:
        """Logarithm of :meth:`proba`, computed stably."""
        return torch.log_softmax(outputs, dim=1)

    @staticmethod
    def decide(outputs: torch.Tensor) -> torch.Tensor:
        """Index of the most probable class of each row."""
        return outputs.argmax(dim=1)

    def n_correct(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Rows whose decision equals their target (a tensor, counted on the device)."""
        return (self.decide(outputs) == targets).sum()

    def tags(self, tags: Tags) -> Tags:
        """``tags`` of an estimator that does this task (what sklearn's scorers look up)."""
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags(multi_label=self.multilabel)
        return tags


class MultiLabel(SingleLabel):
    """Any number of ``n_outputs`` labels per row: sigmoid outputs, binary cross-entropy.

    Targets are the 0/1 indicator matrix (float32); a row is correct when all its labels
    are (subset accuracy, scikit-learn's ``accuracy_score`` for multi-label data).
    """

    criterion = nn.BCEWithLogitsLoss
    multilabel = True

    @staticmethod
    def per_sample_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean binary cross-entropy over the labels of each row, shape ``(n_rows,)``."""
        losses = functional.binary_cross_entropy_with_logits(outputs, targets, reduction="none")
        return losses.mean(dim=1)

    @staticmethod
    def proba(outputs: torch.Tensor) -> torch.Tensor:
        """Probability of each label, independently of the others."""
        return torch.sigmoid(outputs)

    @staticmethod
    def log_proba(outputs: torch.Tensor) -> torch.Tensor:
        """Logarithm of :meth:`proba`, computed stably."""
        return functional.logsigmoid(outputs)

    @staticmethod
    def decide(outputs: torch.Tensor) -> torch.Tensor:
        """Indicator matrix: 1 where a label's probability exceeds 0.5."""
        return (outputs > 0).to(torch.int64)

    def n_correct(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (self.decide(outputs) == targets).all(dim=1).sum()


#: ``loss`` of the regressors: torch's element-wise loss and its default class.
REGRESSION_LOSSES = {
    "squared_error": (functional.mse_loss, nn.MSELoss),
    "absolute_error": (functional.l1_loss, nn.L1Loss),
    "huber": (functional.huber_loss, nn.HuberLoss),
}


class Regression:
    """``n_outputs`` numeric targets, standardised for training.

    Targets are trained as ``(y - mean) / scale`` (float32, shape ``(n, n_outputs)``), so
    prices, counts or any other unit train with the default learning rate and ``tol``; the
    outputs are mapped back with ``outputs * scale + mean``. With ``mean=0, scale=1`` the
    targets are trained as given.

    Parameters
    ----------
    n_outputs : int
        Number of target columns.
    loss : {"squared_error", "absolute_error", "huber"}
        Element-wise loss on the standardised targets, averaged over the outputs.
    huber_delta : float
        Where the Huber loss turns from quadratic to linear, in standardised units.
    mean, scale : ndarray of shape (n_outputs,)
        The standardisation of the targets.
    """

    multilabel = False

    def __init__(
        self, n_outputs: int, loss: str, huber_delta: float, mean: np.ndarray, scale: np.ndarray
    ) -> None:
        self.n_outputs = n_outputs
        self.loss = loss
        self.huber_delta = huber_delta
        self.mean = torch.as_tensor(mean, dtype=torch.float64)
        self.scale = torch.as_tensor(scale, dtype=torch.float64)
        self.criterion = REGRESSION_LOSSES[loss][1]
        self.criterion_options = {"delta": huber_delta} if loss == "huber" else {}

    @staticmethod
    def epoch_callbacks() -> list:
        """No score beyond the losses (``valid_loss`` is in standardised units)."""
        return []

    def per_sample_loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Loss of each row, averaged over its outputs: shape ``(n_rows,)``."""
        elementwise, _ = REGRESSION_LOSSES[self.loss]
        losses = elementwise(outputs, targets, reduction="none", **self.criterion_options)
        return losses.mean(dim=1)

    def decide(self, outputs: torch.Tensor) -> torch.Tensor:
        """Predictions in the targets' original units (float64)."""
        return outputs.to(torch.float64) * self.scale.to(outputs.device) + self.mean.to(
            outputs.device
        )

    def decode_targets(self, targets: torch.Tensor) -> torch.Tensor:
        """Training targets back in their original units, like :meth:`decide`.

        On the host in float64, which every device's targets can take (MPS has no float64).
        """
        return self.decide(targets.to("cpu"))

    @staticmethod
    def tags(tags: Tags) -> Tags:
        """``tags`` of an estimator that does this task (what sklearn's scorers look up)."""
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        return tags
