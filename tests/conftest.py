"""Shared fixtures: every test starts from the same random state."""

import numpy as np
import pytest
import torch

# One torch thread per test process: under `pytest -n 2` on two cores (or any other load),
# two OpenMP threads per process spin against each other and small fits run ~10x slower.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed_everything():
    np.random.seed(0)  # noqa: NPY002 - sklearn helpers still draw from the legacy global RNG
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def digits():
    """sklearn's 8x8 digits scaled to 0..1: ``X`` (1797, 64) float32 and ``y`` (1797,)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y
