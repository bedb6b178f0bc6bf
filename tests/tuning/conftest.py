"""Fixtures of the tuning tests: small data and fast estimators."""

import numpy as np
import optuna
import pytest
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import MLPClassifier


@pytest.fixture(autouse=True)
def _quiet_optuna():
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(previous)


@pytest.fixture(scope="session")
def small_digits(digits):
    """240 rows of digits (24 per class): ``X`` float32 in 0..1, ``y`` int labels."""
    X, y = digits
    rows = np.concatenate([np.flatnonzero(y == label)[:24] for label in range(10)])
    return X[rows], y[rows]


def _fast_mlp(**params) -> MLPClassifier:
    defaults = {"hidden_layer_sizes": (8,), "max_epochs": 3, "batch_size": 64, "random_state": 0}
    return MLPClassifier(**{**defaults, **params})


@pytest.fixture
def fast_mlp():
    """Factory of MLPs that train an epoch on the small digits in a few milliseconds."""
    return _fast_mlp


@pytest.fixture
def fast_pipeline():
    """Factory of ``Pipeline(StandardScaler, fast MLP)``."""
    return lambda **params: make_pipeline(StandardScaler(), _fast_mlp(**params))


class PruneAtEpoch(optuna.pruners.BasePruner):
    """Prunes the trials numbered in ``trial_numbers`` when they report ``epoch``."""

    def __init__(self, epoch: int, trial_numbers) -> None:
        self.epoch = epoch
        self.trial_numbers = set(trial_numbers)

    def prune(self, study, trial) -> bool:
        return trial.number in self.trial_numbers and trial.last_step == self.epoch


@pytest.fixture
def prune_at_epoch():
    """Factory of a deterministic pruner: ``prune_at_epoch(epoch, trial_numbers)``."""
    return PruneAtEpoch


@pytest.fixture
def gpus(monkeypatch):
    """``gpus(n)`` makes torch report ``n`` CUDA devices (0: CUDA unavailable)."""

    def fake(n_gpus: int) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: n_gpus > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n_gpus)

    return fake
