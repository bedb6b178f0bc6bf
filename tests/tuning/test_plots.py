"""Plots of a search: optimisation history and parameter importances return Axes."""

import matplotlib
import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution

from sknets.tuning import OptunaSearchCV, plot_optimization_history, plot_param_importances

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(scope="module")
def fitted_search(small_digits):
    X, y = small_digits
    from sknets import MLPClassifier

    space = {
        "lr": FloatDistribution(1e-3, 1e-1, log=True),
        "batch_size": IntDistribution(16, 128, log=True),
    }
    model = MLPClassifier((8,), max_epochs=2, random_state=0)
    return OptunaSearchCV(model, space, n_trials=4, cv=2, random_state=0).fit(X, y)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_optimization_history_shows_every_trial(fitted_search):
    ax = fitted_search.plot_optimization_history()
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_title() == "Optimization History Plot"
    points = sum(len(collection.get_offsets()) for collection in ax.collections)
    assert points == 4


def test_param_importances_name_the_searched_parameters(fitted_search):
    ax = plot_param_importances(fitted_search)
    assert isinstance(ax, matplotlib.axes.Axes)
    labels = {label.get_text() for label in ax.get_yticklabels()}
    assert labels == {"lr", "batch_size"}


def test_functions_accept_a_study():
    study = optuna.create_study(direction="maximize")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=3)
    assert isinstance(plot_optimization_history(study), matplotlib.axes.Axes)


def test_unfitted_search_cannot_be_plotted():
    with pytest.raises(ValueError, match="OptunaSearchCV has no study_; fit the search first"):
        plot_optimization_history(OptunaSearchCV(None))
