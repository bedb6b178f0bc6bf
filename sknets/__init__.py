"""sknets: scikit-learn neural-network classifiers backed by PyTorch and skorch."""

from .cnn import CNNClassifier
from .mlp import MLPClassifier
from .rnn import RNNClassifier

__version__ = "0.1.0"

__all__ = ["CNNClassifier", "MLPClassifier", "RNNClassifier", "__version__"]
