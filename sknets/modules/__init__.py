"""Plain :class:`torch.nn.Module` architectures, usable without the estimators."""

from ._layers import ACTIVATIONS
from .cnn import CNN
from .mlp import MLP
from .rnn import CELLS, RNN, SUMMARIES

__all__ = ["ACTIVATIONS", "CELLS", "CNN", "MLP", "RNN", "SUMMARIES"]
