"""Plain :class:`torch.nn.Module` architectures, usable without the estimators."""

from ._layers import ACTIVATIONS
from .cnn import CNN
from .mlp import MLP
from .preprocessing import ImagePreprocessing
from .pretrained import PretrainedBackbone
from .rnn import CELLS, RNN, SUMMARIES
from .transfer import NewHead

__all__ = [
    "ACTIVATIONS",
    "CELLS",
    "CNN",
    "ImagePreprocessing",
    "MLP",
    "NewHead",
    "PretrainedBackbone",
    "RNN",
    "SUMMARIES",
]
