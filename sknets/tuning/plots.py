"""Plots of a search: optimisation history and parameter importances (matplotlib).

Thin wrappers over :mod:`optuna.visualization.matplotlib` that accept a fitted
:class:`~sknets.tuning.OptunaSearchCV` or an Optuna study and return the matplotlib Axes.
"""

from __future__ import annotations

import warnings

import optuna
from optuna.exceptions import ExperimentalWarning


def _study(search_or_study) -> optuna.Study:
    if isinstance(search_or_study, optuna.Study):
        return search_or_study
    study = getattr(search_or_study, "study_", None)
    if study is None:
        raise ValueError(
            f"{type(search_or_study).__name__} has no study_; fit the search first, or pass an "
            "optuna.Study"
        )
    return study


def plot_optimization_history(search_or_study):
    """Objective value of every trial and the best value so far, against the trial number.

    Parameters
    ----------
    search_or_study : OptunaSearchCV or optuna.Study
        A fitted search, or its study.

    Returns
    -------
    ax : matplotlib.axes.Axes
        Drawn on a new figure, with Optuna's layout.

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study(direction="maximize")
    >>> study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=3)
    >>> plot_optimization_history(study).get_title()
    'Optimization History Plot'
    """
    return _draw(optuna.visualization.matplotlib.plot_optimization_history, search_or_study)


def plot_param_importances(search_or_study):
    """How much each searched parameter mattered to the objective (fANOVA importances).

    Needs at least two complete trials; the parameters are the study's own (for
    ``param_distributions="auto"``, e.g. ``n_layers`` and ``width`` rather than
    ``hidden_layer_sizes``).

    Parameters
    ----------
    search_or_study : OptunaSearchCV or optuna.Study
        A fitted search, or its study.

    Returns
    -------
    ax : matplotlib.axes.Axes
        Drawn on a new figure, with Optuna's layout.

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study(direction="maximize")
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 9), 6)
    >>> ax = plot_param_importances(study)
    >>> sorted(label.get_text() for label in ax.get_yticklabels())
    ['x', 'y']
    """
    return _draw(optuna.visualization.matplotlib.plot_param_importances, search_or_study)


def _draw(plot, search_or_study):
    study = _study(search_or_study)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return plot(study)
