"""cv_results_ built from trials: ranks, failed and pruned rows, masked parameter columns."""

import numpy as np
import optuna
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from sknets import MLPClassifier
from sknets.tuning.results import _rank, build_cv_results
from sknets.tuning.spaces import SearchSpace

SPACE = SearchSpace(MLPClassifier(), {"lr": FloatDistribution(1e-4, 1e-1, log=True)})
LR = {"lr": FloatDistribution(1e-4, 1e-1, log=True)}


def finished(state, lr, scores=None, **attrs):
    user_attrs = dict(attrs)
    if scores is not None:
        user_attrs.update(split_scores={"score": scores}, n_epochs=3, best_epoch=2)
    return create_trial(
        state=state,
        value=float(np.mean(scores)) if state == TrialState.COMPLETE else None,
        params={} if lr is None else {"lr": lr},
        distributions={} if lr is None else LR,
        user_attrs=user_attrs,
        intermediate_values={1: 0.1} if state == TrialState.PRUNED else None,
    )


def test_rank_puts_unfinished_and_nan_last_and_shares_ties():
    means = np.array([0.5, 0.9, np.nan, 0.9, 0.95])
    complete = np.array([True, True, True, True, False])
    np.testing.assert_array_equal(_rank(means, complete), [3, 1, 4, 1, 4])
    np.testing.assert_array_equal(_rank(np.array([0.2]), np.array([False])), [1])


def test_rows_of_every_state():
    trials = [
        finished(TrialState.COMPLETE, 0.01, [0.8, 0.6]),
        finished(TrialState.PRUNED, 0.001, [0.9, 0.9]),
        finished(TrialState.FAIL, 0.1, None, fail_reason="ValueError: boom"),
        finished(TrialState.FAIL, None, None, fail_reason="ValueError: no params"),
    ]
    for number, trial in enumerate(trials):
        trial.number = number
    results = build_cv_results(trials, SPACE, ["score"], 2, error_score=-1.0)
    np.testing.assert_allclose(results["mean_test_score"], [0.7, 0.9, -1, -1])
    np.testing.assert_allclose(results["split0_test_score"], [0.8, 0.9, -1, -1])
    np.testing.assert_array_equal(results["rank_test_score"], [1, 2, 2, 2])
    assert list(results["state"]) == ["COMPLETE", "PRUNED", "FAIL", "FAIL"]
    assert list(results["fail_reason"]) == [None, None, "ValueError: boom", "ValueError: no params"]
    assert results["params"][3] == {}
    assert results["param_lr"].mask.tolist() == [False, False, False, True]
    assert list(results["best_epoch"]) == [2, 2, 0, 0]


def test_error_score_raise_leaves_missing_scores_nan():
    trial = finished(TrialState.FAIL, 0.1, None)
    results = build_cv_results([trial], SPACE, ["score"], 2, error_score="raise")
    assert np.isnan(results["mean_test_score"][0])


def test_results_from_a_real_study():
    study = optuna.create_study(direction="maximize")

    def objective(trial):
        trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        trial.set_user_attr("split_scores", {"score": [0.5, 0.7]})
        trial.set_user_attr("fit_times", [1.0, 3.0])
        return 0.6

    study.optimize(objective, n_trials=2)
    results = build_cv_results(study.trials, SPACE, ["score"], 2, error_score=np.nan)
    np.testing.assert_allclose(results["mean_fit_time"], [2.0, 2.0])
    np.testing.assert_allclose(results["std_test_score"], [0.1, 0.1])
    assert np.isnan(results["mean_score_time"]).all()
