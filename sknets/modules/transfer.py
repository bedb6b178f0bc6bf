"""A trained network with a new head: transfer learning within sknets."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from .mlp import MLP


class NewHead(nn.Module):
    """A trained network's features under a new head, for another task.

    The network is copied (the one passed in never changes); its ``forward_features`` —
    a CNN's convolutional features and an RNN's pooled sequence without their dense head
    (Keras' ``include_top=False``), an MLP's last hidden layer — feed a new :class:`MLP`
    head with ``n_outputs`` outputs. Frozen,
    the copy's parameters do not train and its batch-norm and dropout layers stay in eval
    mode, so its features are exactly those of the trained network; only the head learns.

    Parameters
    ----------
    network : nn.Module or fitted sknets estimator
        The trained network: any module with ``forward_features(...)`` and
        ``num_features`` (every sknets network; timm models follow the same convention), or
        a fitted sknets estimator, whose ``module_`` is taken.
    n_outputs : int
        Outputs of the new head (classes or targets of the new task).
    trainable : bool, default=False
        False freezes the copied network (feature extraction); True fine-tunes it with the
        head.
    hidden_layer_sizes : sequence of int, default=()
        Hidden layers of the new head; ``()`` is a single linear layer.
    dropout : float, default=0.0
        Dropout after each hidden layer of the head.

    Examples
    --------
    >>> import torch
    >>> from sknets.modules import MLP, NewHead
    >>> trained = MLP(4, 3, hidden_layer_sizes=(8,))
    >>> NewHead(trained, n_outputs=5)(torch.zeros(2, 4)).shape
    torch.Size([2, 5])
    """

    def __init__(
        self,
        network,
        n_outputs: int,
        *,
        trainable: bool = False,
        hidden_layer_sizes: Sequence[int] = (),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        network = _trained_module(network)
        # Without the layers the new head replaces (unused weights would still count).
        self.backbone = (
            network.without_head() if hasattr(network, "without_head") else copy.deepcopy(network)
        )
        self.trainable = bool(trainable)
        self.backbone.requires_grad_(self.trainable)
        self.head = MLP(
            network.num_features,
            n_outputs,
            hidden_layer_sizes=tuple(hidden_layer_sizes),
            dropout=dropout,
        )
        self.train(self.training)

    def forward(self, *inputs, **named_inputs) -> torch.Tensor:
        """The new head's outputs for the inputs the trained network takes."""
        return self.head(self.backbone.forward_features(*inputs, **named_inputs))

    def train(self, mode: bool = True) -> NewHead:
        """Set the train mode; a frozen backbone stays in eval mode (batch statistics and
        dropout off), so training never changes its features."""
        super().train(mode)
        if not self.trainable:
            self.backbone.eval()
        return self


def _trained_module(network) -> nn.Module:
    if not isinstance(network, nn.Module) and hasattr(network, "get_params"):
        if not hasattr(network, "module_"):
            raise ValueError(
                f"network is an unfitted {type(network).__name__}; fit it first, and pass its "
                "module_ (scikit-learn's clone, as in GridSearchCV, unfits an estimator given "
                "as a parameter, never a module)"
            )
        network = network.module_
    if not isinstance(network, nn.Module):
        raise ValueError(f"network={network!r} is neither a torch module nor a fitted estimator")
    if not (hasattr(network, "forward_features") and hasattr(network, "num_features")):
        raise ValueError(
            f"network is a {type(network).__name__}, which has no forward_features and "
            "num_features to say what its output layer reads; every sknets network has them"
        )
    return network
