"""The ``sknets demo`` walkthrough: each section trains on data shipped with scikit-learn."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from sklearn.datasets import load_diabetes, load_digits
from sklearn.linear_model import LinearRegression
from sklearn.metrics import classification_report
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .cnn import CNNClassifier
from .mlp import MLPClassifier, MLPRegressor
from .rnn import RNNClassifier

SEED = 42


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """sklearn's 8x8 digits, split 75/25 with stratification and seed 42."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=SEED)


def demo_mlp() -> float:
    """``Pipeline(StandardScaler, MLPClassifier)`` with 5-fold CV and a test report."""
    X_train, X_test, y_train, y_test = digits_split()
    model = make_pipeline(StandardScaler(), MLPClassifier(random_state=SEED))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    scores = cross_val_score(model, X_train, y_train, cv=folds)
    print(f"5-fold CV accuracy on the training part: {scores.mean():.3f} +/- {scores.std():.3f}")
    print("  folds: " + "  ".join(f"{score:.3f}" for score in scores))
    model.fit(X_train, y_train)
    y_pred = model.predict(X_test)
    print(classification_report(y_test, y_pred, digits=3))
    accuracy = float(np.mean(y_pred == y_test))
    print(f"Test accuracy: {accuracy:.3f}")
    return accuracy


def demo_cnn() -> float:
    """``CNNClassifier`` on the digits read as 1x8x8 images."""
    X_train, X_test, y_train, y_test = digits_split()
    model = CNNClassifier(input_shape=(1, 8, 8), random_state=SEED)
    accuracy = model.fit(X_train / 16, y_train).score(X_test / 16, y_test)
    print(f"Test accuracy (CNN on 1x8x8 images, {model.n_epochs_} epochs): {accuracy:.3f}")
    return accuracy


def demo_rnn() -> float:
    """An LSTM reading each digit row by row: 8 time steps of 8 pixels."""
    X_train, X_test, y_train, y_test = digits_split()
    model = RNNClassifier("lstm", input_shape=(8, 8), lr=5e-3, max_epochs=30, random_state=SEED)
    accuracy = model.fit(X_train / 16, y_train).score(X_test / 16, y_test)
    print(f"Test accuracy (LSTM over 8 rows of 8 pixels): {accuracy:.3f}")
    return accuracy


def demo_regression() -> float:
    """``Pipeline(StandardScaler, MLPRegressor)`` on diabetes progression, beside a linear fit."""
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=SEED)
    folds = KFold(n_splits=5, shuffle=True, random_state=SEED)
    models = {
        "MLPRegressor()": make_pipeline(StandardScaler(), MLPRegressor(random_state=SEED)),
        "LinearRegression()": make_pipeline(StandardScaler(), LinearRegression()),
    }
    print(f"Targets from {y.min():.0f} to {y.max():.0f}, standardised inside the regressor.")
    for name, model in models.items():
        scores = cross_val_score(model, X_train, y_train, cv=folds)
        print(f"  {name:<20} 5-fold CV R2 {scores.mean():.3f} +/- {scores.std():.3f}")
    model = models["MLPRegressor()"].fit(X_train, y_train)
    r2 = float(model.score(X_test, y_test))
    error = float(np.mean(np.abs(model.predict(X_test) - y_test)))
    print(f"Test R2 of the MLPRegressor pipeline: {r2:.3f} (mean absolute error {error:.1f})")
    return r2


def demo_tuning() -> float:
    """OptunaSearchCV on Pipeline(StandardScaler, MLPClassifier): 10 trials, pruned ones shown."""
    from .tuning import OptunaSearchCV

    X_train, X_test, y_train, y_test = digits_split()
    pipeline = make_pipeline(StandardScaler(), MLPClassifier(max_epochs=15, random_state=SEED))
    search = OptunaSearchCV(pipeline, "auto", n_trials=10, cv=3, random_state=SEED)
    search.fit(X_train, y_train)
    results = search.cv_results_
    for number, state, epochs, score in zip(
        results["trial_number"], results["state"], results["n_epochs"], results["mean_test_score"]
    ):
        print(f"  trial {number:2d}  {state:8s}  {epochs:2d} epochs  CV accuracy {score:.3f}")
    for name, value in search.best_params_.items():
        print(f"  best {name} = {value!r}")
    accuracy = float(search.score(X_test, y_test))
    print(f"Test accuracy of the refit model ({search.best_epoch_} epochs): {accuracy:.3f}")
    return accuracy


SECTIONS: dict[str, tuple[str, Callable[[], float]]] = {
    "mlp": ("MLPClassifier in a Pipeline on digits", demo_mlp),
    "cnn": ("CNNClassifier on digits as 8x8 images", demo_cnn),
    "rnn": ("RNNClassifier (LSTM) reading digits row by row", demo_rnn),
    "regression": ("MLPRegressor in a Pipeline on the diabetes progression", demo_regression),
    "tuning": ("Optuna tuning with epoch pruning (Pipeline + MLP) on digits", demo_tuning),
}


def run_demo(sections: list[str] | None = None) -> dict[str, float]:
    """Run the named demo sections (all by default) and return each one's test score.

    The score is the test accuracy of the classifiers, the test R² of the regression.
    """
    results = {}
    for name in sections or list(SECTIONS):
        title, run = SECTIONS[name]
        print(f"\n=== {title} ===")
        start = time.perf_counter()
        results[name] = run()
        print(f"({name}: {time.perf_counter() - start:.1f} s)")
    return results
