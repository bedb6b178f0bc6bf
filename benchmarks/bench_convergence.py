"""Default fits: how long they train and how well they do, with convergence stopping.

Each estimator is fitted with its default parameters (only ``random_state`` and the input
layout set) on sklearn's digits (75/25 stratified split, seed 42) and on a larger sequence
task: 4 000 noisy sine waves of 40 steps whose frequency band is the class (3 classes, test
set of 1 000), and the same with ``early_stopping=True``. The script prints epochs trained,
fit time, test accuracy and whether the fit converged (no ConvergenceWarning).

Run ``python benchmarks/bench_convergence.py [--only NAME]``.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import machine_description  # noqa: E402

from sknets import CNNClassifier, MLPClassifier, RNNClassifier  # noqa: E402


def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, stratify=y, random_state=42)


def sine_waves(n_sequences: int = 5_000, n_steps: int = 40, seed: int = 0):
    """Noisy sines; the class is the frequency band, the phase and amplitude are random."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n_sequences)
    frequency = (0.04 + 0.03 * y + rng.uniform(-0.012, 0.012, n_sequences))[:, None]
    phase = rng.uniform(0, 2 * np.pi, (n_sequences, 1))
    amplitude = rng.uniform(0.5, 1.5, (n_sequences, 1))
    steps = np.arange(n_steps)[None, :]
    signal = amplitude * np.sin(2 * np.pi * frequency * steps + phase)
    X = signal + rng.normal(0, 0.6, signal.shape)
    return train_test_split(
        X[:, :, None].astype(np.float32), y, test_size=1_000, stratify=y, random_state=0
    )


TASKS = {
    "digits MLP": (digits, lambda: MLPClassifier(random_state=0)),
    "digits CNN": (digits, lambda: CNNClassifier(input_shape=(1, 8, 8), random_state=0)),
    "digits LSTM": (digits, lambda: RNNClassifier(input_shape=(8, 8), random_state=0)),
    "sines GRU": (sine_waves, lambda: RNNClassifier("gru", random_state=0)),
    "digits MLP, early_stopping": (
        digits,
        lambda: MLPClassifier(early_stopping=True, random_state=0),
    ),
    "sines GRU, early_stopping": (
        sine_waves,
        lambda: RNNClassifier("gru", early_stopping=True, random_state=0),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(TASKS), default=None)
    args = parser.parse_args()
    torch.set_num_threads(2)
    print(machine_description())
    print("\n| task | epochs | fit seconds | test accuracy | converged |")
    print("|---|---:|---:|---:|---|")
    for name, (data, make) in TASKS.items():
        if args.only and name != args.only:
            continue
        X_train, X_test, y_train, y_test = data()
        model = make()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(X_train, y_train)
            seconds = time.perf_counter() - start
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        accuracy = model.score(X_test, y_test)
        print(f"| {name} | {model.n_epochs_} | {seconds:.1f} | {accuracy:.3f} | {converged} |")


if __name__ == "__main__":
    main()
