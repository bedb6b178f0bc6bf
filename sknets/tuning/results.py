"""``cv_results_`` in scikit-learn's format, read back from a study's finished trials."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from .objective import BEST_EPOCH, FAIL_REASON, FIT_TIMES, N_EPOCHS, SCORE_TIMES, SPLIT_SCORES
from .spaces import SearchSpace


def _trial_params(space: SearchSpace, trial) -> dict:
    try:
        return space.replay(trial.params)
    except Exception:
        # A trial that failed while drawing its parameters cannot be replayed; its raw
        # Optuna parameters are all there is to show.
        return dict(trial.params)


def _rank(means: np.ndarray, complete: np.ndarray) -> np.ndarray:
    """sklearn's ranking (1 is best, ties share the lower rank) among complete trials;
    pruned and failed trials come after all of them."""
    ranks = np.ones(len(means), dtype=np.int32)
    valid = complete & ~np.isnan(means)
    if valid.any():
        ranks[valid] = rankdata(-means[valid], method="min").astype(np.int32)
        ranks[~valid] = ranks[valid].max() + 1
    return ranks


def build_cv_results(
    trials: list, space: SearchSpace, metrics: list[str], n_splits: int, error_score
) -> dict:
    """One entry per finished trial, in trial order.

    Besides sklearn's keys (``params``, ``param_<name>``, ``split<k>_test_<metric>``,
    ``mean_test_<metric>``, ``std_test_<metric>``, ``rank_test_<metric>``, ``mean_fit_time``…)
    there are ``trial_number``, ``state`` (``"COMPLETE"``, ``"PRUNED"`` or ``"FAIL"``),
    ``n_epochs``, ``best_epoch`` (the scores are those of this epoch) and ``fail_reason``.
    A failed trial scores ``error_score``.
    """
    n_rows = len(trials)
    params = [_trial_params(space, trial) for trial in trials]
    results: dict = {
        "trial_number": np.array([trial.number for trial in trials], dtype=np.int64),
        "state": np.array([trial.state.name for trial in trials], dtype=object),
        "params": params,
    }
    for name in sorted({name for row in params for name in row}):
        column = np.ma.MaskedArray(np.empty(n_rows, dtype=object), mask=True)
        for index, row in enumerate(params):
            if name in row:
                column[index] = row[name]
        results[f"param_{name}"] = column

    for key, attr in (("fit_time", FIT_TIMES), ("score_time", SCORE_TIMES)):
        times = [trial.user_attrs.get(attr) for trial in trials]
        results[f"mean_{key}"] = np.array([np.mean(t) if t else np.nan for t in times])
        results[f"std_{key}"] = np.array([np.std(t) if t else np.nan for t in times])

    complete = results["state"] == "COMPLETE"
    failed_score = np.nan if error_score == "raise" else float(error_score)
    for metric in metrics:
        splits = np.full((n_rows, n_splits), failed_score)
        for index, trial in enumerate(trials):
            recorded = trial.user_attrs.get(SPLIT_SCORES, {}).get(metric)
            if recorded is not None and len(recorded) == n_splits:
                splits[index] = recorded
            elif trial.state.name != "FAIL":
                splits[index] = np.nan
        for split in range(n_splits):
            results[f"split{split}_test_{metric}"] = splits[:, split]
        results[f"mean_test_{metric}"] = splits.mean(axis=1)
        results[f"std_test_{metric}"] = splits.std(axis=1)
        results[f"rank_test_{metric}"] = _rank(results[f"mean_test_{metric}"], complete)

    results["n_epochs"] = np.array([trial.user_attrs.get(N_EPOCHS, 0) for trial in trials])
    results["best_epoch"] = np.array([trial.user_attrs.get(BEST_EPOCH, 0) for trial in trials])
    results["fail_reason"] = np.array(
        [trial.user_attrs.get(FAIL_REASON) for trial in trials], dtype=object
    )
    return results
