"""sknets: scikit-learn neural-network classifiers and regressors backed by PyTorch and skorch."""

from .cnn import CNNClassifier, CNNRegressor
from .mlp import MLPClassifier, MLPRegressor
from .network import NeuralNetClassifier, NeuralNetRegressor
from .persistence import load, save
from .rnn import RNNClassifier, RNNRegressor

__version__ = "0.1.0"

__all__ = [
    "CNNClassifier",
    "CNNRegressor",
    "MLPClassifier",
    "MLPRegressor",
    "NeuralNetClassifier",
    "NeuralNetRegressor",
    "RNNClassifier",
    "RNNRegressor",
    "load",
    "save",
    "__version__",
]
