"""Plain :class:`torch.nn.Module` architectures, usable without the estimators."""

from ._layers import ACTIVATIONS
from .cnn import CNN
from .mlp import MLP
from .rnn import CELLS, RNN, SUMMARIES
from .transfer import NewHead

__all__ = ["ACTIVATIONS", "CELLS", "CNN", "MLP", "NewHead", "RNN", "SUMMARIES"]
