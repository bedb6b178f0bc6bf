"""CNN training speed: sknets' CNNClassifier against a hand-written PyTorch loop.

Both train the same network, sknets' defaults (conv 32 -> max-pool -> conv 64 -> max-pool ->
dense 128 -> 10, 3x3 kernels, batch normalisation, ReLU), with Adam (lr 1e-3), batches of
128 sliced from shuffled tensors, for 3 epochs, on random one-channel images of two sizes:
digits-sized 8x8 (where per-batch overhead shows most) and MNIST-sized 28x28. Contenders
run interleaved in one process; the script prints medians and the ratio.

Run ``python benchmarks/bench_cnn.py [--repeats N] [--threads N]``.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import hand_written_loop, interleaved_medians, machine_description  # noqa: E402

from sknets.cnn import CNNClassifier  # noqa: E402
from sknets.modules import CNN  # noqa: E402

N_CLASSES, EPOCHS, LR, BATCH_SIZE = 10, 3, 1e-3, 128

#: (rows, side) of each data set: digits-sized and MNIST-sized images.
SIZES = [(6_000, 8), (2_000, 28)]


def make_data(n_rows: int, side: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random images in [0, 1) and labels tied to them, so the loss actually falls."""
    rng = np.random.default_rng(seed)
    X = rng.random((n_rows, 1, side, side), dtype=np.float32)
    y = X[:, 0, 0, :N_CLASSES].argmax(axis=1).astype(np.int64)
    return X, y


def hand_written(X: np.ndarray, y: np.ndarray) -> None:
    torch.manual_seed(0)
    # As many outputs as classes, as CNNClassifier builds (8x8 images hold only 8).
    model = CNN(X.shape[1:], len(np.unique(y)), batch_norm=True)
    hand_written_loop(model, X, y, batch_size=BATCH_SIZE, epochs=EPOCHS, lr=LR)


def contenders(X: np.ndarray, y: np.ndarray) -> dict:
    def run_sknets():
        CNNClassifier(
            lr=LR, batch_size=BATCH_SIZE, max_epochs=EPOCHS, device="cpu", random_state=0
        ).fit(X, y)

    return {
        "hand-written PyTorch loop": lambda: hand_written(X, y),
        "sknets CNNClassifier": run_sknets,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    reference = "hand-written PyTorch loop"
    lines = [
        f"Machine: {machine_description()}. CNN 32-64 conv, dense 128, Adam, batch "
        f"{BATCH_SIZE}, {EPOCHS} epochs, median of {args.repeats} interleaved runs.",
        "",
        "| images | contender | median seconds | ratio to hand-written loop |",
        "|---|---|---:|---:|",
    ]
    for n_rows, side in SIZES:
        X, y = make_data(n_rows, side)
        medians = interleaved_medians(contenders(X, y), repeats=args.repeats)
        for name, seconds in medians.items():
            ratio = seconds / medians[reference]
            lines.append(f"| {n_rows} x 1x{side}x{side} | {name} | {seconds:.2f} | {ratio:.2f}x |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
