"""Plain :class:`torch.nn.Module` architectures, usable without the estimators."""

from ._layers import ACTIVATIONS
from .cnn import CNN
from .mlp import MLP

__all__ = ["ACTIVATIONS", "CNN", "MLP"]
