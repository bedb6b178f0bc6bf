"""MLPRegressor training speed: sknets against a hand-written PyTorch loop, sklearn and skorch.

The same 100 -> 100 (ReLU) -> 1 network, Adam (lr 1e-3, no weight decay), the mean squared
error on standardised targets, 30 000 rows of ``make_regression``, 5 epochs, at batch sizes
128 and 1024. Every contender runs all epochs (sknets with ``n_iter_no_change=np.inf``,
sklearn with ``tol=0`` and ``n_iter_no_change`` above the epochs). Contenders run interleaved
in one process; the script prints medians and ratios to the hand-written loop, which uses
``torch.optim.Adam``'s default step. sknets uses torch's fused Adam step; the same loop with
``fused=True`` is shown too, so what sknets adds beyond it can be read off.

Run ``python benchmarks/bench_regressor.py [--repeats N] [--batch-sizes 128 1024]``.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import warnings

import numpy as np
import torch
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from skorch import NeuralNetRegressor
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import hand_written_loop, interleaved_medians, machine_description  # noqa: E402

from sknets import MLPRegressor  # noqa: E402

N_ROWS, N_FEATURES, N_HIDDEN, EPOCHS, LR = 30_000, 100, 100, 5, 1e-3
REFERENCE = "hand-written PyTorch loop"
FUSED = "the same loop, fused Adam step"


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """float32 inputs and a noisy linear target in its own units (sknets standardises it)."""
    X, y = make_regression(N_ROWS, N_FEATURES, n_informative=20, noise=10.0, random_state=seed)
    return X.astype(np.float32), y


def standardised(y: np.ndarray) -> np.ndarray:
    """The target as the hand-written loop, sklearn and skorch get it: mean 0, std 1."""
    return ((y - y.mean()) / y.std()).astype(np.float32)


def network() -> nn.Module:
    return nn.Sequential(nn.Linear(N_FEATURES, N_HIDDEN), nn.ReLU(), nn.Linear(N_HIDDEN, 1))


def hand_written(
    X: np.ndarray, y_standardised: np.ndarray, batch_size: int, fused: bool = False
) -> None:
    """What a careful PyTorch user writes: tensors once, Adam, shuffled index slices per batch.

    The epoch loss is accumulated (one ``loss.item()`` per batch), as any loop that reports
    its progress does; sknets records the same per-batch loss.
    """
    torch.manual_seed(0)
    targets = y_standardised.reshape(-1, 1)
    hand_written_loop(
        network(),
        X,
        targets,
        batch_size=batch_size,
        epochs=EPOCHS,
        lr=LR,
        loss_function=nn.MSELoss(),
        fused=fused,
    )


def contenders(X: np.ndarray, y: np.ndarray, batch_size: int) -> dict:
    y_standardised = standardised(y)

    def run_hand_written():
        hand_written(X, y_standardised, batch_size)

    def run_hand_written_fused():
        hand_written(X, y_standardised, batch_size, fused=True)

    def run_sknets():
        # The targets in their own units: standardising them is part of sknets' work.
        MLPRegressor(
            (N_HIDDEN,),
            lr=LR,
            weight_decay=0.0,  # the regressors' default 0.01; no contender has a penalty
            batch_size=batch_size,
            max_epochs=EPOCHS,
            n_iter_no_change=np.inf,
            random_state=0,
        ).fit(X, y)

    def run_sklearn():
        SklearnMLPRegressor(
            hidden_layer_sizes=(N_HIDDEN,),
            solver="adam",
            learning_rate_init=LR,
            batch_size=batch_size,
            max_iter=EPOCHS,
            tol=0.0,
            n_iter_no_change=EPOCHS + 1,
            random_state=0,
        ).fit(X, y_standardised)

    def run_skorch():
        NeuralNetRegressor(
            network,
            criterion=nn.MSELoss,
            optimizer=torch.optim.Adam,
            lr=LR,
            batch_size=batch_size,
            max_epochs=EPOCHS,
            train_split=None,
            iterator_train__shuffle=True,
            verbose=0,
        ).fit(X, y_standardised.reshape(-1, 1))

    return {
        REFERENCE: run_hand_written,
        FUSED: run_hand_written_fused,
        "sknets MLPRegressor": run_sknets,
        "sklearn MLPRegressor": run_sklearn,
        "plain skorch NeuralNetRegressor": run_skorch,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 1024])
    args = parser.parse_args()

    X, y = make_data()
    lines = [
        f"Machine: {machine_description()}. {N_ROWS} rows x {N_FEATURES} features, "
        f"{N_FEATURES}-{N_HIDDEN}-1 MLP (ReLU), Adam, MSE on standardised targets, "
        f"{EPOCHS} epochs, median of {args.repeats} interleaved runs.",
        "",
        "| batch size | contender | median seconds | ratio to hand-written loop |",
        "|---:|---|---:|---:|",
    ]
    # Every contender trains all its epochs on purpose; sknets and sklearn say so.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for batch_size in args.batch_sizes:
            medians = interleaved_medians(contenders(X, y, batch_size), repeats=args.repeats)
            for name, seconds in medians.items():
                ratio = seconds / medians[REFERENCE]
                lines.append(f"| {batch_size} | {name} | {seconds:.2f} | {ratio:.2f}x |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
