"""The study summary printed by ``sknets study``."""

import optuna

from sknets.tuning.report import format_study_summary, summarize_study


def objective(trial):
    x = trial.suggest_float("x", 0, 1)
    if trial.number == 2:
        trial.set_user_attr("fail_reason", "ValueError: bad x")
        raise ValueError("bad x")
    trial.set_user_attr("best_epoch", 4)
    return x


def test_summary_counts_states_and_names_the_best():
    study = optuna.create_study(study_name="demo", direction="maximize")
    study.optimize(objective, n_trials=3, catch=(ValueError,))
    summary = summarize_study(study)
    assert summary["trials"] == {"COMPLETE": 2, "FAIL": 1} and summary["n_trials"] == 3
    assert summary["best_value"] == study.best_value and summary["best_epoch"] == 4
    assert summary["fail_reasons"] == ["ValueError: bad x"]
    text = format_study_summary(study)
    assert text.startswith("study 'demo' (maximize): 3 trials: 2 complete, 1 fail")
    best = study.best_trial
    assert f"best value {best.value:.4f} (trial {best.number}, best epoch 4)" in text
    assert "  x = " in text and "failure: ValueError: bad x" in text


def test_summary_of_an_empty_study():
    study = optuna.create_study(study_name="empty")
    assert summarize_study(study)["best_trial"] is None
    assert format_study_summary(study).endswith("none yet\nno complete trial yet")
