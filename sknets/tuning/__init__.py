"""Hyperparameter tuning with Optuna: epoch-wise pruning inside cross-validation, shared
studies (journal files, databases) and worker processes."""

from .plots import plot_optimization_history, plot_param_importances
from .search import OptunaSearchCV
from .spaces import SearchSpace
from .storage import HeartbeatJournalStorage, resolve_storage

__all__ = [
    "HeartbeatJournalStorage",
    "OptunaSearchCV",
    "SearchSpace",
    "plot_optimization_history",
    "plot_param_importances",
    "resolve_storage",
]
