"""GRU training speed: sknets' RNNClassifier against a hand-written PyTorch loop.

Both train the same network (:class:`sknets.modules.RNN`, a GRU of 64 units on sequences of
30 steps x 8 features, linear head) with Adam (lr 1e-3) on 4 000 in-memory sequences for 3
epochs, drawing shuffled mini-batches as index slices of tensors built once. Contenders run
interleaved in one process; the script prints medians and the ratio to the hand-written loop.

Run ``python benchmarks/bench_rnn.py [--repeats N] [--batch-sizes 64 256]``.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import hand_written_loop, interleaved_medians, machine_description, print_table  # noqa: E402

from sknets.modules import RNN  # noqa: E402
from sknets.rnn import RNNClassifier  # noqa: E402

N_SEQUENCES, N_STEPS, N_FEATURES, HIDDEN_SIZE, N_CLASSES = 4_000, 30, 8, 64, 4
EPOCHS, LR = 3, 1e-3


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random sequences whose class depends on their first steps, so the loss falls."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_SEQUENCES, N_STEPS, N_FEATURES)).astype(np.float32)
    y = X[:, :3, :N_CLASSES].sum(axis=1).argmax(axis=1).astype(np.int64)
    return X, y


def hand_written(X: np.ndarray, y: np.ndarray, batch_size: int) -> None:
    torch.manual_seed(0)
    model = RNN(N_FEATURES, N_CLASSES, cell="gru", hidden_size=HIDDEN_SIZE)
    hand_written_loop(model, X, y, batch_size=batch_size, epochs=EPOCHS, lr=LR)


def contenders(X: np.ndarray, y: np.ndarray, batch_size: int) -> dict:
    def run_sknets():
        RNNClassifier(
            "gru", HIDDEN_SIZE, lr=LR, batch_size=batch_size, max_epochs=EPOCHS, random_state=0
        ).fit(X, y)

    def run_hand_written():
        hand_written(X, y, batch_size)

    return {"hand-written PyTorch loop": run_hand_written, "sknets RNNClassifier": run_sknets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    args = parser.parse_args()

    X, y = make_data()
    print(
        f"Machine: {machine_description()}. {N_SEQUENCES} sequences x {N_STEPS} steps x "
        f"{N_FEATURES} features, GRU {HIDDEN_SIZE}, Adam, {EPOCHS} epochs, median of "
        f"{args.repeats} interleaved runs."
    )
    for batch_size in args.batch_sizes:
        medians = interleaved_medians(contenders(X, y, batch_size), repeats=args.repeats)
        print_table(f"batch size {batch_size}", medians, reference="hand-written PyTorch loop")


if __name__ == "__main__":
    main()
