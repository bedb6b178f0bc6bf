"""OptunaSearchCV: results format, pruning, refit epochs, metrics, errors, storages, workers."""

import threading
import time
import warnings

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.samplers import BaseSampler
from optuna.storages import InMemoryStorage
from sklearn.base import clone, is_classifier
from sklearn.datasets import make_classification
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, make_scorer
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import MLPClassifier
from sknets.tuning import OptunaSearchCV, resolve_storage

LR = {"lr": FloatDistribution(1e-3, 1e-1, log=True)}
PIPELINE_LR = {"mlpclassifier__lr": FloatDistribution(1e-3, 1e-1, log=True)}


def peaked_at_epoch_3(estimator, X, y):
    """A scorer whose best epoch is known: 0 at epoch 3, lower before and after."""
    return -abs(estimator.n_epochs_ - 3)


def epochs_trained(estimator, X, y):
    """A scorer that grows with every epoch, so a trial's best epoch is its last one."""
    return estimator.n_epochs_


def predicted_as_one(estimator, X, y):
    """The fraction of rows predicted as class 1."""
    return float(np.mean(estimator.predict(X) == 1))


def share_of_ones(estimator, X, y):
    """The fraction of class 1 among the rows scored: what the splitter put in the fold."""
    return float(np.mean(y == 1))


class ConstantSampler(BaseSampler):
    """Suggests ``value`` for every parameter, and counts the suggestions in ``calls``, a class
    attribute since the search samples with a copy of its sampler."""

    calls = 0

    def __init__(self, value: float) -> None:
        self.value = value

    def infer_relative_search_space(self, study, trial):
        return {}

    def sample_relative(self, study, trial, search_space):
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution):
        ConstantSampler.calls += 1
        return self.value


def test_results_follow_sklearns_format(small_digits, fast_mlp):
    X, y = small_digits
    search = OptunaSearchCV(fast_mlp(), LR, n_trials=3, cv=2, random_state=0).fit(X, y)
    results = search.cv_results_
    assert search.n_trials_ == 3 and len(results["params"]) == 3
    for key in (
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
        "split0_test_score",
        "split1_test_score",
        "mean_fit_time",
        "param_lr",
        "state",
        "best_epoch",
    ):
        assert len(results[key]) == 3, key
    assert "split2_test_score" not in results
    np.testing.assert_allclose(
        results["mean_test_score"],
        (results["split0_test_score"] + results["split1_test_score"]) / 2,
    )
    assert set(search.best_params_) == {"lr"}
    assert results["rank_test_score"][search.best_index_] == 1
    assert search.best_score_ == pytest.approx(results["mean_test_score"].max())
    assert search.best_score_ == pytest.approx(search.study_.best_value)
    assert [trial.params["lr"] for trial in search.study_.trials] == list(results["param_lr"])
    assert set(search.predict(X)) <= set(y)
    assert search.predict_proba(X).shape == (len(X), 10)
    np.testing.assert_array_equal(search.classes_, np.arange(10))
    assert search.score(X, y) == pytest.approx(np.mean(search.predict(X) == y))
    assert is_classifier(search)


# The fast fixtures fix width and batch size for speed; "auto" draws both anyway.
AUTO_OVERRIDES_FAST_SETTINGS = "ignore:param_distributions='auto' draws:UserWarning"


@pytest.mark.filterwarnings(AUTO_OVERRIDES_FAST_SETTINGS)
def test_auto_space_prefixes_pipeline_names_in_study_and_params(small_digits, fast_pipeline):
    X, y = small_digits
    search = OptunaSearchCV(fast_pipeline(), "auto", n_trials=2, cv=2, random_state=0)
    search.fit(X, y)
    for trial in search.study_.trials:
        assert trial.params and all(name.startswith("mlpclassifier__") for name in trial.params)
    width = search.study_.best_trial.params["mlpclassifier__width"]
    n_layers = search.study_.best_trial.params["mlpclassifier__n_layers"]
    assert search.best_params_["mlpclassifier__hidden_layer_sizes"] == (width,) * n_layers
    assert isinstance(search.best_estimator_, Pipeline)
    assert search.best_estimator_[-1].hidden_layer_sizes == (width,) * n_layers


@pytest.mark.filterwarnings(AUTO_OVERRIDES_FAST_SETTINGS)
def test_auto_space_of_bare_estimator_is_unprefixed(small_digits, fast_mlp):
    X, y = small_digits
    search = OptunaSearchCV(fast_mlp(), "auto", n_trials=1, cv=2, random_state=0).fit(X, y)
    assert {"lr", "n_layers", "width"} <= set(search.study_.trials[0].params)
    assert "hidden_layer_sizes" in search.best_params_


def test_auto_space_warns_about_the_set_values_it_replaces(small_digits, fast_pipeline):
    X, y = small_digits
    search = OptunaSearchCV(fast_pipeline(), "auto", n_trials=1, cv=2, random_state=0)
    with pytest.warns(UserWarning, match="param_distributions='auto' draws") as record:
        search.fit(X, y)
    [warning] = [w for w in record if "param_distributions='auto'" in str(w.message)]
    message = str(warning.message)
    # fast_pipeline sets hidden_layer_sizes=(8,) and batch_size=64; "auto" draws both.
    assert "mlpclassifier__hidden_layer_sizes=(8,)" in message
    assert "mlpclassifier__batch_size=64" in message
    assert "max_epochs" not in message and "random_state" not in message  # not drawn
    assert "pass a dict of optuna distributions" in message
    assert warning.filename == __file__  # points at the user's fit call
    # The drawn values won: the refit model does not carry the ignored width.
    assert search.best_estimator_[-1].hidden_layer_sizes != (8,)


@pytest.mark.parametrize(
    "space",
    ["auto", PIPELINE_LR],
    ids=["auto-over-defaults", "explicit-over-set-values"],
)
def test_no_warning_when_nothing_set_is_replaced_unasked(small_digits, space):
    X, y = small_digits
    mlp = MLPClassifier(max_epochs=2, random_state=0)
    if space is PIPELINE_LR:
        mlp.set_params(lr=0.05, hidden_layer_sizes=(8,))  # lr is named by the space itself
    pipeline = make_pipeline(StandardScaler(), mlp)
    search = OptunaSearchCV(pipeline, space, n_trials=1, cv=2, random_state=0)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="param_distributions='auto'")
        search.fit(X, y)


def test_pruner_stops_trials_at_the_epoch_it_prunes(small_digits, fast_pipeline, prune_at_epoch):
    X, y = small_digits
    search = OptunaSearchCV(
        fast_pipeline(max_epochs=5),
        PIPELINE_LR,
        n_trials=4,
        cv=2,
        pruner=prune_at_epoch(2, {1, 2}),
        random_state=0,
    ).fit(X, y)
    assert list(search.cv_results_["state"]) == ["COMPLETE", "PRUNED", "PRUNED", "COMPLETE"]
    assert list(search.cv_results_["n_epochs"]) == [5, 2, 2, 5]
    steps = [sorted(trial.intermediate_values) for trial in search.study_.trials]
    assert steps == [[1, 2, 3, 4, 5], [1, 2], [1, 2], [1, 2, 3, 4, 5]]
    ranks = search.cv_results_["rank_test_score"]
    assert max(ranks[[0, 3]]) < min(ranks[[1, 2]])
    assert search.best_trial_.number in (0, 3)


def test_default_pruner_prunes_bad_trials(small_digits, fast_mlp):
    X, y = small_digits
    # lr from 1e-5 (learns nothing in 6 epochs) to 0.05: the median pruner must stop some.
    space = {"lr": FloatDistribution(1e-5, 5e-2, log=True)}
    search = OptunaSearchCV(fast_mlp(max_epochs=6), space, n_trials=12, cv=2, random_state=0)
    search.fit(X, y)
    pruned = search.cv_results_["state"] == "PRUNED"
    assert pruned.sum() >= 1
    assert (search.cv_results_["n_epochs"][pruned] < 6).all()


def test_refit_trains_the_epochs_that_scored_best(small_digits, fast_pipeline):
    X, y = small_digits
    search = OptunaSearchCV(
        fast_pipeline(max_epochs=6, early_stopping=True),
        PIPELINE_LR,
        n_trials=2,
        cv=2,
        scoring=peaked_at_epoch_3,
        pruner=optuna.pruners.NopPruner(),
        random_state=0,
    ).fit(X, y)
    assert list(search.cv_results_["best_epoch"]) == [3, 3]
    assert list(search.cv_results_["n_epochs"]) == [6, 6]
    assert search.best_epoch_ == 3
    final = search.best_estimator_[-1]
    assert final.max_epochs == 3 and final.n_epochs_ == 3
    assert final.early_stopping is False


def test_several_metrics_with_a_named_refit_metric(small_digits, fast_mlp):
    X, y = small_digits
    search = OptunaSearchCV(
        fast_mlp(),
        LR,
        n_trials=3,
        cv=2,
        scoring=["accuracy", "neg_log_loss"],
        refit="neg_log_loss",
        random_state=0,
    ).fit(X, y)
    results = search.cv_results_
    for metric in ("accuracy", "neg_log_loss"):
        for key in ("mean_test", "std_test", "rank_test", "split0_test", "split1_test"):
            assert len(results[f"{key}_{metric}"]) == 3
    assert "mean_test_score" not in results
    # The study optimised the refit metric: its values are log losses (negative), not accuracies.
    values = [trial.value for trial in search.study_.trials]
    np.testing.assert_allclose(values, results["mean_test_neg_log_loss"])
    assert all(value < 0 for value in values)
    assert search.best_score_ == pytest.approx(results["mean_test_neg_log_loss"].max())
    assert results["rank_test_neg_log_loss"][search.best_index_] == 1
    assert search.score(X, y) < 0
    assert search.multimetric_ and set(search.scorer_) == {"accuracy", "neg_log_loss"}


def test_dict_scoring_refits_on_the_named_metric(small_digits, fast_mlp):
    X, y = small_digits
    scoring = {"acc": "accuracy", "balanced": make_scorer(balanced_accuracy_score)}
    search = OptunaSearchCV(
        fast_mlp(), LR, n_trials=2, cv=2, scoring=scoring, refit="balanced", random_state=0
    ).fit(X, y)
    assert search.best_score_ == pytest.approx(search.cv_results_["mean_test_balanced"].max())
    assert "split1_test_acc" in search.cv_results_


def test_refit_false_has_no_best_estimator(small_digits, fast_mlp):
    X, y = small_digits
    search = OptunaSearchCV(
        fast_mlp(), LR, n_trials=2, cv=2, scoring=["accuracy", "neg_log_loss"], refit=False
    ).fit(X, y)
    assert not hasattr(search, "best_estimator_")
    with pytest.raises(NotFittedError, match=r"refit=False, so it has no best_estimator_ for pr"):
        search.predict(X)
    with pytest.raises(ValueError, match=r"refit=False, so it has no best_estimator_ for score"):
        search.score(X, y)
    # Without a refit metric, the first one listed is optimised.
    np.testing.assert_allclose(
        [trial.value for trial in search.study_.trials], search.cv_results_["mean_test_accuracy"]
    )
    assert "lr" in search.best_params_


def test_feature_counts_and_names_come_from_the_refitted_estimator(small_digits, fast_pipeline):
    X, y = small_digits
    frame = pd.DataFrame(X, columns=[f"pixel{index}" for index in range(X.shape[1])])
    search = OptunaSearchCV(fast_pipeline(), PIPELINE_LR, n_trials=1, cv=2).fit(frame, y)
    assert search.n_features_in_ == 64
    np.testing.assert_array_equal(search.feature_names_in_, frame.columns)
    assert not hasattr(OptunaSearchCV(fast_pipeline(), PIPELINE_LR), "n_features_in_")
    no_refit = OptunaSearchCV(fast_pipeline(), PIPELINE_LR, n_trials=1, cv=2, refit=False)
    with pytest.raises(AttributeError, match="refit=False, so it has no best_estimator_ for n_f"):
        no_refit.fit(X, y).n_features_in_


def test_scoring_errors_surface_from_fit(small_digits, fast_mlp):
    X, y = small_digits
    search = OptunaSearchCV(fast_mlp(), LR, n_trials=1, cv=2, scoring=["accuracy"], refit=True)
    with pytest.raises(ValueError, match="refit=True is ambiguous with several metrics"):
        search.fit(X, y)


def test_single_metric_may_name_itself_as_refit(small_digits, fast_mlp):
    X, y = small_digits
    search = OptunaSearchCV(fast_mlp(), LR, n_trials=1, cv=2, scoring="accuracy", refit="accuracy")
    assert search.fit(X, y).best_estimator_ is not None


def test_error_score_raise_raises_the_fit_error(small_digits, fast_mlp):
    X, y = small_digits
    space = {"activation": CategoricalDistribution(["bogus"])}
    search = OptunaSearchCV(fast_mlp(), space, n_trials=2, cv=2, error_score="raise")
    with pytest.raises(ValueError, match="'activation' parameter of MLPClassifier"):
        search.fit(X, y)


def test_failed_trials_are_recorded_with_their_reason(small_digits, fast_mlp):
    X, y = small_digits
    space = {"activation": CategoricalDistribution(["relu", "bogus"])}
    search = OptunaSearchCV(fast_mlp(), space, n_trials=6, cv=2, random_state=1)
    with pytest.warns(FitFailedWarning, match=r"trials failed and scored error_score=nan"):
        search.fit(X, y)
    results = search.cv_results_
    failed = results["state"] == "FAIL"
    assert 0 < failed.sum() < 6
    assert all("activation" in reason for reason in results["fail_reason"][failed])
    assert all(reason is None for reason in results["fail_reason"][~failed])
    assert np.isnan(results["mean_test_score"][failed]).all()
    assert min(results["rank_test_score"][failed]) > max(results["rank_test_score"][~failed])
    study_failures = [t for t in search.study_.trials if t.state == optuna.trial.TrialState.FAIL]
    assert len(study_failures) == failed.sum()
    assert all("activation" in t.user_attrs["fail_reason"] for t in study_failures)
    assert search.best_params_ == {"activation": "relu"}


def test_numeric_error_score_is_the_failed_trials_score(small_digits, fast_mlp):
    X, y = small_digits
    space = {"activation": CategoricalDistribution(["relu", "bogus"])}
    search = OptunaSearchCV(fast_mlp(), space, n_trials=6, cv=2, random_state=1, error_score=-1)
    with pytest.warns(FitFailedWarning):
        search.fit(X, y)
    failed = search.cv_results_["state"] == "FAIL"
    assert (search.cv_results_["mean_test_score"][failed] == -1).all()


def test_a_run_whose_trials_all_failed_raises(small_digits, fast_mlp):
    X, y = small_digits
    space = {"activation": CategoricalDistribution(["bogus"])}
    search = OptunaSearchCV(fast_mlp(), space, n_trials=3, cv=2)
    with pytest.raises(ValueError, match=r"no trial completed out of 3 \(3 failed.*activation"):
        search.fit(X, y)
    assert not hasattr(search, "best_estimator_")


def test_timeout_stops_a_trial_at_an_epoch_boundary(small_digits, fast_mlp):
    X, y = small_digits
    search = OptunaSearchCV(fast_mlp(max_epochs=100_000), LR, n_trials=5, cv=2, timeout=1.5)
    start = time.perf_counter()
    search.fit(X, y)
    assert time.perf_counter() - start < 60
    assert search.n_trials_ == 1
    trial = search.study_.trials[0]
    assert trial.state == optuna.trial.TrialState.COMPLETE
    assert trial.user_attrs["stopped_by_timeout"] is True
    assert 1 <= trial.user_attrs["n_epochs"] < 100_000
    assert search.best_estimator_.max_epochs == trial.user_attrs["best_epoch"]


def test_no_trial_count_runs_until_the_timeout(small_digits, fast_mlp):
    X, y = small_digits
    timeout = 2.0
    search = OptunaSearchCV(fast_mlp(), LR, n_trials=None, cv=2, timeout=timeout, random_state=0)
    errors = []

    def fit() -> None:
        try:
            search.fit(X, y)
        except Exception as error:  # re-raised below, in the test's thread
            errors.append(error)

    start = time.time()
    # In a thread, so a search that ignored its timeout fails this test instead of hanging it.
    runner = threading.Thread(target=fit, daemon=True)
    runner.start()
    runner.join(timeout=60)
    assert not runner.is_alive(), "n_trials=None with a timeout did not stop"
    if errors:
        raise errors[0]
    # No trial count stopped it (Optuna ends a run without one only once the time is up).
    assert time.time() - start >= timeout
    assert search.n_trials_ >= 1


def test_journal_storage_with_a_study_name_accumulates_trials(tmp_path, small_digits, fast_mlp):
    X, y = small_digits
    journal = tmp_path / "study.journal"
    search = OptunaSearchCV(fast_mlp(), LR, n_trials=2, cv=2, storage=str(journal), study_name="s")
    search.fit(X, y)
    search.fit(X, y)
    assert search.n_trials_ == 4 and len(search.cv_results_["params"]) == 4
    fresh = OptunaSearchCV(fast_mlp(), LR, n_trials=2, cv=2, storage=str(journal))
    fresh.fit(X, y)
    fresh.fit(X, y)
    assert fresh.n_trials_ == 2
    assert len(optuna.get_all_study_names(resolve_storage(str(journal)))) == 3


def test_clones_do_not_share_a_study(small_digits, fast_mlp):
    X, y = small_digits
    search = OptunaSearchCV(
        fast_mlp(),
        LR,
        n_trials=1,
        cv=2,
        storage=InMemoryStorage(),
        sampler=optuna.samplers.TPESampler(seed=0),
    )
    copy = clone(search).fit(X, y)
    assert copy.storage is not search.storage and copy.sampler is not search.sampler
    assert optuna.get_all_study_names(search.storage) == []
    assert len(optuna.get_all_study_names(copy.storage)) == 1
    assert not hasattr(search, "study_")


def test_random_state_makes_the_search_reproducible(small_digits, fast_mlp):
    X, y = small_digits

    def drawn(seed):
        search = OptunaSearchCV(fast_mlp(), LR, n_trials=3, cv=2, random_state=seed).fit(X, y)
        return [trial.params["lr"] for trial in search.study_.trials]

    assert drawn(0) == drawn(0)
    assert drawn(0) != drawn(1)


def test_verbose_shows_a_progress_bar(small_digits, fast_mlp, capsys):
    X, y = small_digits
    OptunaSearchCV(fast_mlp(), LR, n_trials=2, cv=2).fit(X, y)
    assert capsys.readouterr().err == ""
    OptunaSearchCV(fast_mlp(), LR, n_trials=2, cv=2, verbose=1).fit(X, y)
    err = capsys.readouterr().err
    assert "tuning" in err and "2/2" in err and "complete=2" in err


def test_groups_reach_the_splitter(small_digits, fast_mlp):
    X, y = small_digits
    groups = np.arange(len(y)) % 3
    search = OptunaSearchCV(fast_mlp(), LR, n_trials=1, cv=GroupKFold(3)).fit(X, y, groups=groups)
    assert search.n_splits_ == 3 and "split2_test_score" in search.cv_results_


def test_balanced_class_weight_is_tuned_without_error(small_digits, fast_mlp):
    X, y = small_digits
    search = OptunaSearchCV(fast_mlp(class_weight="balanced"), LR, n_trials=1, cv=2)
    assert search.fit(X, y).cv_results_["state"][0] == "COMPLETE"


def test_balanced_class_weight_makes_the_scored_models_predict_the_minority():
    # 10 % of ones, classes overlapping: unweighted, the fold models (scored after their
    # 10th and last epoch) predict a one for 0 % of the rows (measured, 4 seeds); balanced,
    # for 23-36 %. The thresholds sit far from both.
    X, y = make_classification(
        n_samples=300,
        n_features=8,
        n_informative=3,
        weights=[0.9, 0.1],
        class_sep=0.5,
        random_state=0,
    )
    X = X.astype(np.float32)

    def ones_predicted(class_weight) -> float:
        mlp = MLPClassifier(
            (8,), max_epochs=10, batch_size=64, class_weight=class_weight, random_state=0
        )
        search = OptunaSearchCV(
            mlp,
            {"lr": FloatDistribution(3e-2, 3e-2)},
            n_trials=1,
            cv=2,
            scoring={"epochs": epochs_trained, "ones": predicted_as_one},
            refit="epochs",
        ).fit(X, y)
        assert search.best_epoch_ == 10
        return float(search.cv_results_["mean_test_ones"][0])

    unweighted, balanced = ones_predicted(None), ones_predicted("balanced")
    assert unweighted < 0.1 and balanced > 0.15


def test_the_sampler_given_draws_the_parameters(small_digits, fast_mlp):
    X, y = small_digits
    ConstantSampler.calls = 0
    search = OptunaSearchCV(fast_mlp(), LR, n_trials=3, cv=2, sampler=ConstantSampler(0.0123))
    search.fit(X, y)
    assert [trial.params["lr"] for trial in search.study_.trials] == [0.0123] * 3
    assert ConstantSampler.calls == 3
    assert search.best_params_ == {"lr": 0.0123}


def test_default_cv_is_five_stratified_folds():
    # Labels sorted by class: unshuffled KFold would score folds of only zeros or only ones;
    # stratified folds each hold the classes in the proportions of y (half ones).
    X = np.random.default_rng(0).normal(size=(100, 4)).astype(np.float32)
    y = np.repeat([0, 1], 50)
    search = OptunaSearchCV(
        MLPClassifier((4,), max_epochs=1, random_state=0),
        LR,
        n_trials=1,
        scoring=share_of_ones,
        random_state=0,
    ).fit(X, y)
    assert search.n_splits_ == 5
    folds = [search.cv_results_[f"split{k}_test_score"][0] for k in range(5)]
    assert folds == [0.5] * 5
    assert "split5_test_score" not in search.cv_results_
    trial = search.study_.trials[0]
    assert len(trial.user_attrs["split_scores"]["score"]) == len(trial.user_attrs["fit_times"]) == 5


def test_the_search_is_itself_cross_validatable(small_digits, fast_mlp):
    X, y = small_digits
    search = OptunaSearchCV(fast_mlp(), LR, n_trials=1, cv=2, random_state=0)
    assert cross_val_score(search, X, y, cv=2).shape == (2,)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_trials": None}, "n_trials=None and timeout=None would never stop"),
        ({"n_trials": 0}, "'n_trials' parameter of OptunaSearchCV must be an int"),
        ({"param_distributions": {"nope": FloatDistribution(0, 1)}}, "'nope', which is not a "),
        ({"param_distributions": {"lr": [0.1, 0.01]}}, r"\['lr'\]=\[0.1, 0.01\] is not an optuna"),
        ({"param_distributions": "all"}, "'param_distributions' parameter of OptunaSearchCV"),
        ({"storage": 3}, "'storage' parameter of OptunaSearchCV"),
    ],
)
def test_parameter_errors(small_digits, fast_mlp, params, message):
    X, y = small_digits
    search = OptunaSearchCV(fast_mlp(), **{"param_distributions": LR, **params})
    with pytest.raises(ValueError, match=message):
        search.fit(X, y)


def test_estimator_must_train_epoch_by_epoch(small_digits):
    X, y = small_digits
    search = OptunaSearchCV(LogisticRegression(), {"C": FloatDistribution(0.1, 1)})
    with pytest.raises(ValueError, match="partial_fit and a max_epochs parameter.*LogisticReg"):
        search.fit(X, y)


def test_existing_minimising_study_is_refused(tmp_path, small_digits, fast_mlp):
    X, y = small_digits
    journal = str(tmp_path / "study.journal")
    search = OptunaSearchCV(fast_mlp(), LR, n_trials=1, storage=journal, study_name="minimal")
    optuna.create_study(storage=resolve_storage(journal), study_name="minimal")
    with pytest.raises(ValueError, match="study_name='minimal' exists in storage and minimises"):
        search.fit(X, y)


def test_dataframes_and_string_labels(small_digits, fast_pipeline):
    X, y = small_digits
    frame = pd.DataFrame(X, columns=[f"pixel{index}" for index in range(X.shape[1])])
    labels = np.array([f"digit {label}" for label in y])
    search = OptunaSearchCV(fast_pipeline(), PIPELINE_LR, n_trials=1, cv=2).fit(frame, labels)
    assert set(search.predict(frame.iloc[:5])) <= set(labels)
    assert list(search.classes_) == sorted(set(labels))
