"""sknets: scikit-learn neural-network classifiers backed by PyTorch and skorch."""

from .mlp import MLPClassifier

__version__ = "0.1.0"

__all__ = ["MLPClassifier", "__version__"]
