"""Inference speed of a 784-128-10 MLP: sknets' batch-invariant predict_proba against a raw
float32 ``no_grad`` forward of its own module and sklearn's MLPClassifier.

Two workloads: 10 000 rows in one call, and one row (the latency of a single prediction).
sknets runs the network in float64 on the CPU so that a row's probabilities do not depend on
the rest of the call (see ``sknets/_inference.py``); the raw forward is float32 and is not
batch-invariant. The script also prints how far apart a row's probabilities come out when
predicted alone and among all rows, for sknets and for the raw float32 forward.

Run ``python benchmarks/bench_inference.py [--repeats N]`` (medians of interleaved runs).
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

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import interleaved_medians, machine_description, print_table  # noqa: E402

from sknets import MLPClassifier  # noqa: E402

N_ROWS, N_FEATURES, N_HIDDEN, N_CLASSES = 10_000, 784, 128, 10


def fitted_models(X: np.ndarray, y: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier((N_HIDDEN,), max_epochs=1, device="cpu", random_state=0)
        ours.fit(X[:2000], y[:2000])
        theirs = SklearnMLP((N_HIDDEN,), max_iter=1, random_state=0).fit(X[:2000], y[:2000])
    return ours, theirs


def raw_forward(module: torch.nn.Module, inputs: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(module(inputs), dim=1).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    X = rng.random((N_ROWS, N_FEATURES), dtype=np.float32)
    y = X[:, :N_CLASSES].argmax(axis=1)
    ours, theirs = fitted_models(X, y)
    module = ours.module_.eval()
    inputs, one_row, one_input = torch.from_numpy(X), X[:1], torch.from_numpy(X[:1])
    print(machine_description())

    many = interleaved_medians(
        {
            "raw float32 forward": lambda: raw_forward(module, inputs),
            "sknets predict_proba": lambda: ours.predict_proba(X),
            "sklearn predict_proba": lambda: theirs.predict_proba(X),
        },
        repeats=args.repeats,
    )
    print_table(f"{N_ROWS} rows in one call", many, "raw float32 forward", unit="ms")
    single = interleaved_medians(
        {
            "raw float32 forward": lambda: raw_forward(module, one_input),
            "sknets predict_proba": lambda: ours.predict_proba(one_row),
            "sklearn predict_proba": lambda: theirs.predict_proba(one_row),
        },
        repeats=max(args.repeats, 7) * 50,
        warmup=20,
    )
    print_table("one row", single, "sklearn predict_proba", unit="us")

    rows = np.arange(0, N_ROWS, 101)
    ours_alone = np.vstack([ours.predict_proba(X[i : i + 1]) for i in rows])
    raw_alone = np.vstack([raw_forward(module, inputs[i : i + 1]) for i in rows])
    print("\n### a row alone against the same row among all 10 000 (max abs difference)\n")
    ours_gap = np.abs(ours_alone - ours.predict_proba(X)[rows]).max()
    raw_gap = np.abs(raw_alone - raw_forward(module, inputs)[rows]).max()
    print(f"- sknets predict_proba: {ours_gap:.1e}")
    print(f"- raw float32 forward: {raw_gap:.1e}")


if __name__ == "__main__":
    main()
