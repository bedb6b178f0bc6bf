"""A multi-layer perceptron as a plain :class:`torch.nn.Module`."""

import copy
from collections.abc import Sequence

import torch
from torch import nn

from ._layers import make_activation


class MLP(nn.Module):
    """Fully connected network: ``Linear -> [BatchNorm] -> activation -> [Dropout]`` blocks.

    Parameters
    ----------
    n_inputs : int
        Number of input features.
    n_outputs : int
        Number of output units (logits; no softmax is applied).
    hidden_layer_sizes : sequence of int, default=(100,)
        Width of each hidden layer. An empty sequence gives a single linear layer
        (a perceptron / multinomial logistic regression).
    activation : str, default="relu"
        Name of the activation after each hidden layer (see ``ACTIVATIONS``).
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    batch_norm : bool, default=False
        Whether to normalise each hidden layer's pre-activations over the batch.

    Examples
    --------
    >>> import torch
    >>> from sknets.modules import MLP
    >>> MLP(4, 3, hidden_layer_sizes=(8,))(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_inputs
        for hidden_width in hidden_layer_sizes:
            layers.append(nn.Linear(width, hidden_width))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden_width))
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden_width
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a ``(batch, n_inputs)`` tensor to ``(batch, n_outputs)`` logits."""
        return self.layers(x.flatten(1))

    @property
    def num_features(self) -> int:
        """Width of :meth:`forward_features`: what the output layer reads."""
        return self.layers[-1].in_features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Everything but the output layer: ``(batch, num_features)``, the last hidden layer
        (the inputs themselves for a perceptron); what a new head reads in transfer."""
        return self.layers[:-1](x.flatten(1))

    def without_head(self) -> nn.Module:
        """A copy without its output layer: its ``forward`` returns :meth:`forward_features`."""
        trunk = copy.deepcopy(self)
        trunk.layers[-1] = nn.Identity()
        return trunk
