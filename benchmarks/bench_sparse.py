"""Sparse input: peak memory of a 100 000 x 50 000 CSR fit, and sparse against dense speed.

1. A fresh process fits ``MLPClassifier()`` (defaults: one hidden layer of 100, batch 128)
   on a 100 000 x 50 000 CSR matrix at 0.1 % density (50 values per row, a learnable
   label) for ``--epochs`` epochs, then predicts every row. It prints its peak resident
   memory (``ru_maxrss``: every allocation counts, numpy's and torch's), the size the dense
   matrix would take, and the time per epoch. A fresh process, so that nothing run before
   raises the high-water mark.
2. On a smaller TF-IDF-like matrix (rows of unit length), one epoch of ``fit`` and one
   ``predict_proba`` on the CSR matrix against the same on ``X.toarray()`` (converted
   beforehand), interleaved; medians.

Run ``python benchmarks/bench_sparse.py [--epochs N] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import scipy.sparse
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import normalize

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import interleaved_medians, machine_description, print_table  # noqa: E402

from sknets import MLPClassifier  # noqa: E402

LARGE = {"n_samples": 100_000, "n_features": 50_000, "values_per_row": 50}  # 0.1 % density
SMALL = {"n_samples": 20_000, "n_features": 5_000, "values_per_row": 25}  # 0.5 % density
MB = 2**20


def tfidf_like(n_samples: int, n_features: int, values_per_row: int, seed: int = 0):
    """CSR rows of unit length with ``values_per_row`` stored values, and a learnable label.

    The label says whether a row's mass lies more in the first or the second half of the
    columns: a linear rule, so the loss falls. Built directly (not with scipy.sparse.random,
    which is slow at this size).
    """
    rng = np.random.default_rng(seed)
    indptr = np.arange(0, n_samples * values_per_row + 1, values_per_row)
    indices = rng.integers(0, n_features, n_samples * values_per_row).astype(np.int32)
    data = rng.random(n_samples * values_per_row, dtype=np.float32)
    X = normalize(scipy.sparse.csr_matrix((data, indices, indptr), (n_samples, n_features)))
    half = n_features // 2
    y = (np.asarray(X[:, :half].sum(axis=1) > X[:, half:].sum(axis=1)).ravel()).astype(int)
    return X, y


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def large_fit(epochs: int) -> dict:
    """The 100 000 x 50 000 fit; run in a fresh process (see ``--large-fit-only``)."""
    torch.set_num_threads(2)
    X, y = tfidf_like(**LARGE)
    before_fit = peak_rss_mb()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier(max_epochs=epochs, device="cpu", random_state=0).fit(X, y)
    after_fit = peak_rss_mb()
    start = time.perf_counter()
    accuracy = float(np.mean(model.predict(X) == y))
    return {
        "sparse_mb": (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / MB,
        "dense_mb": X.shape[0] * X.shape[1] * 4 / MB,
        "before_fit_mb": before_fit,
        "after_fit_mb": after_fit,
        "peak_mb": peak_rss_mb(),
        "epoch_seconds": model.history_["duration"].tolist(),
        "train_losses": model.history_["train_loss"].tolist(),
        "predict_seconds": time.perf_counter() - start,
        "train_accuracy": accuracy,
    }


def report_large(epochs: int) -> None:
    command = [sys.executable, __file__, "--large-fit-only", "--epochs", str(epochs)]
    result = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    n_samples, n_features = LARGE["n_samples"], LARGE["n_features"]
    print(f"\n### {n_samples} x {n_features} CSR at 0.1 % density, MLPClassifier() defaults\n")
    print(
        f"- sparse storage: {result['sparse_mb']:.0f} MB; dense float32: "
        f"{result['dense_mb'] / 1024:.1f} GB"
    )
    print(
        f"- peak resident memory of the process: {result['peak_mb']:.0f} MB "
        f"({result['before_fit_mb']:.0f} MB before fit: Python, torch, the matrix), "
        f"{result['dense_mb'] / result['peak_mb']:.0f}x less than the dense matrix alone"
    )
    print(f"- fit raised the peak by {result['after_fit_mb'] - result['before_fit_mb']:.0f} MB")
    epochs_text = ", ".join(f"{seconds:.1f}" for seconds in result["epoch_seconds"])
    losses_text = ", ".join(f"{loss:.3f}" for loss in result["train_losses"])
    print(f"- seconds per epoch: {epochs_text} (train loss {losses_text})")
    print(
        f"- predict on all {n_samples} rows: {result['predict_seconds']:.1f} s, "
        f"training accuracy {result['train_accuracy']:.3f}"
    )


def report_small(repeats: int) -> None:
    X, y = tfidf_like(**SMALL)
    dense = X.toarray()
    n_samples, n_features = X.shape

    def fit(inputs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return MLPClassifier(max_epochs=1, device="cpu", random_state=0).fit(inputs, y)

    title = f"{n_samples} x {n_features} TF-IDF-like rows ({dense.nbytes / MB:.0f} MB dense)"
    fits = interleaved_medians(
        {"sparse CSR": lambda: fit(X), "dense X.toarray()": lambda: fit(dense)}, repeats
    )
    print_table(f"one epoch of fit, {title}", fits, "dense X.toarray()")
    model = fit(X)
    predictions = interleaved_medians(
        {
            "sparse CSR": lambda: model.predict_proba(X),
            "dense X.toarray()": lambda: model.predict_proba(dense),
        },
        repeats,
    )
    print_table(f"predict_proba, {title}", predictions, "dense X.toarray()")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--large-fit-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.large_fit_only:
        print(json.dumps(large_fit(args.epochs)))
        return
    torch.set_num_threads(2)
    print(machine_description())
    report_large(args.epochs)
    report_small(args.repeats)


if __name__ == "__main__":
    main()
