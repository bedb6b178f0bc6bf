"""MLP training speed: sknets against a hand-written PyTorch loop, sklearn and plain skorch.

The same 784 -> 128 -> 10 network, Adam (lr 1e-3), 30 000 rows, 3 epochs, at batch sizes 128
and 1024. Contenders run interleaved in one process; the script prints medians and ratios.

Run ``python benchmarks/bench_mlp.py [--repeats N] [--write-docs]``; ``--write-docs`` also
writes the table to ``docs/benchmark_results.rst``.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLP
from skorch import NeuralNetClassifier
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import interleaved_medians, machine_description  # noqa: E402

from sknets import MLPClassifier  # noqa: E402

N_ROWS, N_FEATURES, N_HIDDEN, N_CLASSES, EPOCHS, LR = 30_000, 784, 128, 10, 3, 1e-3


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs in [0, 1) and labels tied to them, so the loss actually falls."""
    rng = np.random.default_rng(seed)
    X = rng.random((N_ROWS, N_FEATURES), dtype=np.float32)
    y = (X[:, :N_CLASSES].argmax(axis=1)).astype(np.int64)
    return X, y


def network() -> nn.Module:
    return nn.Sequential(nn.Linear(N_FEATURES, N_HIDDEN), nn.ReLU(), nn.Linear(N_HIDDEN, N_CLASSES))


def hand_written_loop(X: np.ndarray, y: np.ndarray, batch_size: int) -> None:
    """What a careful PyTorch user writes: tensors once, shuffled index slices per batch."""
    torch.manual_seed(0)
    model = network()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_function = nn.CrossEntropyLoss()
    inputs, targets = torch.from_numpy(X), torch.from_numpy(y)
    model.train()
    for _ in range(EPOCHS):
        order = torch.randperm(len(inputs))
        epoch_loss = 0.0
        for start in range(0, len(inputs), batch_size):
            index = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_function(model(inputs[index]), targets[index])
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item() * len(index)


def contenders(X: np.ndarray, y: np.ndarray, batch_size: int) -> dict:
    def run_sknets():
        MLPClassifier(
            (N_HIDDEN,), lr=LR, batch_size=batch_size, max_epochs=EPOCHS, random_state=0
        ).fit(X, y)

    def run_hand_written():
        hand_written_loop(X, y, batch_size)

    def run_sklearn():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            SklearnMLP(
                (N_HIDDEN,),
                solver="adam",
                learning_rate_init=LR,
                batch_size=batch_size,
                max_iter=EPOCHS,
                tol=0.0,
                n_iter_no_change=EPOCHS + 1,
                random_state=0,
            ).fit(X, y)

    def run_skorch():
        NeuralNetClassifier(
            network,
            criterion=nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            lr=LR,
            batch_size=batch_size,
            max_epochs=EPOCHS,
            train_split=None,
            iterator_train__shuffle=True,
            verbose=0,
        ).fit(X, y)

    return {
        "hand-written PyTorch loop": run_hand_written,
        "sknets MLPClassifier": run_sknets,
        "sklearn MLPClassifier": run_sklearn,
        "plain skorch": run_skorch,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 1024])
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    X, y = make_data()
    reference = "hand-written PyTorch loop"
    lines = [
        f"Machine: {machine_description()}. {N_ROWS} rows x {N_FEATURES} features, "
        f"{N_FEATURES}-{N_HIDDEN}-{N_CLASSES} MLP, Adam, {EPOCHS} epochs, median of "
        f"{args.repeats} interleaved runs.",
        "",
        "| batch size | contender | median seconds | ratio to hand-written loop |",
        "|---:|---|---:|---:|",
    ]
    for batch_size in args.batch_sizes:
        medians = interleaved_medians(contenders(X, y, batch_size), repeats=args.repeats)
        for name, seconds in medians.items():
            ratio = seconds / medians[reference]
            lines.append(f"| {batch_size} | {name} | {seconds:.2f} | {ratio:.2f}x |")
    print("\n".join(lines))
    if args.write_docs:
        write_rst(lines)


def write_rst(lines: list[str]) -> None:
    """Write the table as an RST list-table for the docs."""
    header, rows = lines[0], [line for line in lines[4:]]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    out = [
        ".. Generated by benchmarks/bench_mlp.py --write-docs; do not edit by hand.",
        "",
        header,
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - batch size",
        "     - contender",
        "     - median seconds",
        "     - ratio to hand-written loop",
    ]
    for row in cells:
        out.append(f"   * - {row[0]}")
        out.extend(f"     - {cell}" for cell in row[1:])
    path = pathlib.Path(__file__).resolve().parent.parent / "docs" / "benchmark_results.rst"
    path.write_text("\n".join(out) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
