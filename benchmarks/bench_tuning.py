"""Tuning benchmark: 20 Optuna trials of the default search space on digits, with pruning.

``Pipeline(StandardScaler, MLPClassifier(max_epochs=30))`` on sklearn's digits split 75/25
(stratified, seed 42); :class:`sknets.tuning.OptunaSearchCV` with ``param_distributions="auto"``,
3-fold CV, the default TPE sampler and median pruner. Prints wall time, test accuracy of the
refit model and how many trials were pruned. The target: under 3 minutes on 2 cores and a test
accuracy of at least 0.97.

Run ``python benchmarks/bench_tuning.py [--n-jobs 2] [--n-trials 20] [--max-epochs 30]``.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import machine_description  # noqa: E402

from sknets import MLPClassifier  # noqa: E402
from sknets.tuning import OptunaSearchCV  # noqa: E402

SEED = 42
TIME_BUDGET_SECONDS = 180
ACCURACY_TARGET = 0.97
#: The settings behind the README's tuning figure (tests/test_docs.py holds them together).
N_TRIALS, MAX_EPOCHS, CV, N_JOBS = 20, 30, 3, 2


def run(n_jobs: int, n_trials: int, max_epochs: int) -> dict:
    """Tune, refit and score once; return the measured figures."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=SEED
    )
    pipeline = make_pipeline(
        StandardScaler(), MLPClassifier(max_epochs=max_epochs, random_state=SEED)
    )
    search = OptunaSearchCV(
        pipeline, "auto", n_trials=n_trials, cv=CV, n_jobs=n_jobs, random_state=SEED
    )
    start = time.perf_counter()
    search.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    states = list(search.cv_results_["state"])
    pruned_epochs = search.cv_results_["n_epochs"][search.cv_results_["state"] == "PRUNED"]
    return {
        "seconds": seconds,
        "test_accuracy": search.score(X_test, y_test),
        "cv_accuracy": search.best_score_,
        "complete": states.count("COMPLETE"),
        "pruned": states.count("PRUNED"),
        "failed": states.count("FAIL"),
        "median_pruned_epoch": float(np.median(pruned_epochs)) if len(pruned_epochs) else None,
        "best_epoch": search.best_epoch_,
        "best_params": search.best_params_,
        "refit_seconds": search.refit_time_,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n-jobs", type=int, default=N_JOBS, help=f"worker processes (default {N_JOBS})"
    )
    parser.add_argument("--n-trials", type=int, default=N_TRIALS)
    parser.add_argument("--max-epochs", type=int, default=MAX_EPOCHS)
    args = parser.parse_args(argv)
    print(machine_description())
    figures = run(args.n_jobs, args.n_trials, args.max_epochs)
    print(f"\n### Tuning {args.n_trials} trials, n_jobs={args.n_jobs}\n")
    print("| figure | value |")
    print("|---|---|")
    for name, value in figures.items():
        shown = f"{value:.3f}" if isinstance(value, float) else value
        print(f"| {name} | {shown} |")
    in_time = figures["seconds"] < TIME_BUDGET_SECONDS
    accurate = figures["test_accuracy"] >= ACCURACY_TARGET
    print(
        f"\nwithin {TIME_BUDGET_SECONDS} s: {'yes' if in_time else 'NO'}; "
        f"test accuracy >= {ACCURACY_TARGET}: {'yes' if accurate else 'NO'}"
    )
    return 0 if in_time and accurate else 1


if __name__ == "__main__":
    sys.exit(main())
