"""Metrics of a search: single or several, and which one the study optimises."""

import pytest
from sklearn.metrics import accuracy_score, make_scorer

from sknets import MLPClassifier
from sknets.tuning.scoring import resolve_scoring


def test_single_metric_is_called_score():
    scorers, objective, multimetric = resolve_scoring(MLPClassifier(), "accuracy", True)
    assert list(scorers) == ["score"] and objective == "score" and not multimetric
    scorers, _, _ = resolve_scoring(MLPClassifier(), None, False)
    assert list(scorers) == ["score"]


def test_several_metrics_optimise_the_refit_one_or_the_first():
    names = ["accuracy", "neg_log_loss"]
    assert resolve_scoring(MLPClassifier(), names, "neg_log_loss")[1:] == ("neg_log_loss", True)
    assert resolve_scoring(MLPClassifier(), names, False)[1] == "accuracy"
    scorers, objective, _ = resolve_scoring(
        MLPClassifier(), {"acc": make_scorer(accuracy_score), "nll": "neg_log_loss"}, "acc"
    )
    assert set(scorers) == {"acc", "nll"} and objective == "acc"


@pytest.mark.parametrize(
    ("scoring", "refit", "message"),
    [
        (["accuracy", "neg_log_loss"], "f1", r"refit='f1' is not one of the scoring metrics"),
        (["accuracy", "neg_log_loss"], True, "refit=True is ambiguous with several metrics"),
        ("accuracy", "neg_log_loss", "refit='neg_log_loss' names a metric, but scoring="),
        (["accuracy", "accuracy"], False, "must list distinct metric names"),
        ([], False, r"scoring=\[\] is empty"),
        ({}, False, r"scoring=\{\} is empty"),
    ],
)
def test_errors(scoring, refit, message):
    with pytest.raises(ValueError, match=message):
        resolve_scoring(MLPClassifier(), scoring, refit)
