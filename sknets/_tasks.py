"""What a learning task adds to the shared engine: its loss, outputs and decisions.

The engine trains any network on encoded targets; a task says how outputs and targets meet.
Single-label classification puts a softmax over one output per class (cross-entropy) and
decides by the largest output; multi-label classification gives each label an independent
sigmoid output (binary cross-entropy) and decides each label by the sign of its output, as
scikit-learn's ``MLPClassifier`` does for a 2-D indicator ``y``.
"""

from __future__ import annotations

import torch
from sklearn.utils import ClassifierTags, Tags
from torch import nn
from torch.nn import functional


class SingleLabel:
    """One label per row among ``n_outputs`` classes: softmax outputs, cross-entropy loss.

    Targets are the class indices (int64).
    """

    criterion = nn.CrossEntropyLoss
    multilabel = False

    def __init__(self, n_outputs: int) -> None:
        self.n_outputs = n_outputs

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
