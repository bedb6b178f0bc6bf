"""A study at a glance: trials by state, the best value, parameters and epoch."""

from __future__ import annotations

import contextlib

import optuna

from .objective import BEST_EPOCH, FAIL_REASON
from .storage import count_states


def summarize_study(study: optuna.Study) -> dict:
    """The facts ``sknets study`` prints, as a JSON-serialisable dict.

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study(study_name="demo", direction="maximize")
    >>> study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    >>> summarize_study(study)["trials"]["COMPLETE"]
    2
    """
    counts = {name: count for name, count in count_states(study).items() if count}
    summary = {
        "study_name": study.study_name,
        "direction": study.direction.name.lower(),
        "n_trials": sum(counts.values()),
        "trials": counts,
        "best_value": None,
        "best_trial": None,
        "best_params": None,
        "best_epoch": None,
        "fail_reasons": sorted(
            {
                trial.user_attrs[FAIL_REASON]
                for trial in study.get_trials(deepcopy=False)
                if FAIL_REASON in trial.user_attrs
            }
        ),
        "user_attrs": study.user_attrs,
    }
    with contextlib.suppress(ValueError):  # no complete trial yet
        best = study.best_trial
        summary.update(
            best_value=best.value,
            best_trial=best.number,
            best_params=best.params,
            best_epoch=best.user_attrs.get(BEST_EPOCH),
        )
    return summary


def format_study_summary(study: optuna.Study) -> str:
    """:func:`summarize_study` as a few lines of text."""
    summary = summarize_study(study)
    states = ", ".join(f"{count} {name.lower()}" for name, count in summary["trials"].items())
    lines = [
        f"study {summary['study_name']!r} ({summary['direction']}): "
        f"{summary['n_trials']} trials: {states or 'none yet'}"
    ]
    if summary["best_trial"] is None:
        lines.append("no complete trial yet")
    else:
        lines.append(
            f"best value {summary['best_value']:.4f} (trial {summary['best_trial']}, "
            f"best epoch {summary['best_epoch']})"
        )
        lines.extend(f"  {name} = {value!r}" for name, value in summary["best_params"].items())
    lines.extend(f"failure: {reason}" for reason in summary["fail_reasons"][:5])
    return "\n".join(lines)
