"""Search spaces: Optuna distributions, an estimator's own default space, or a function.

A :class:`SearchSpace` turns an Optuna trial into keyword arguments for ``set_params`` and,
replayed on a finished trial's values, gives the same arguments back (``best_params_``).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from sklearn.pipeline import Pipeline


def final_step(estimator) -> tuple[object, str]:
    """The estimator that is trained epoch by epoch, and the prefix of its parameter names.

    For a :class:`~sklearn.pipeline.Pipeline` that is its last step and ``"<name>__"``;
    for anything else, the estimator itself and ``""``.
    """
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        return last, f"{name}__"
    return estimator, ""


class PrefixedTrial:
    """A trial whose parameter names all get ``prefix``, for an estimator inside a Pipeline.

    ``suggest_params`` of an estimator names its parameters ``"lr"``, ``"n_layers"``…; inside
    a pipeline the study records ``"mlpclassifier__lr"``, so a study of the bare estimator
    and one of the pipeline never mix up their parameters.
    """

    def __init__(self, trial, prefix: str) -> None:
        self._trial = trial
        self._prefix = prefix

    def suggest_float(self, name: str, *args, **kwargs) -> float:
        return self._trial.suggest_float(self._prefix + name, *args, **kwargs)

    def suggest_int(self, name: str, *args, **kwargs) -> int:
        return self._trial.suggest_int(self._prefix + name, *args, **kwargs)

    def suggest_categorical(self, name: str, *args, **kwargs):
        return self._trial.suggest_categorical(self._prefix + name, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._trial, name)


class _LowestValueTrial:
    """Answers every suggestion with its lowest value or first choice.

    Enough to run an estimator's ``suggest_params`` once and learn which parameters it sets,
    without a study.
    """

    def suggest_float(self, name: str, low: float, high: float, **kwargs) -> float:
        return low

    def suggest_int(self, name: str, low: int, high: int, **kwargs) -> int:
        return low

    def suggest_categorical(self, name: str, choices):
        return choices[0]


def _is_default(estimator, name: str) -> bool:
    """Whether ``estimator``'s parameter ``name`` still has its constructor default."""
    default = inspect.signature(type(estimator).__init__).parameters[name].default
    # As sklearn's repr of changed parameters: repr compares tuples, arrays and numpy.inf.
    return default is not inspect.Parameter.empty and repr(
        estimator.get_params(deep=False)[name]
    ) == repr(default)


def _suggest(trial, name: str, distribution: BaseDistribution):
    if isinstance(distribution, FloatDistribution):
        return trial.suggest_float(
            name, distribution.low, distribution.high, log=distribution.log, step=distribution.step
        )
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(
            name, distribution.low, distribution.high, log=distribution.log, step=distribution.step
        )
    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    raise ValueError(
        f"param_distributions[{name!r}]={distribution!r} is not supported; use "
        "optuna.distributions.FloatDistribution, IntDistribution or CategoricalDistribution"
    )


class SearchSpace:
    """The parameters a search draws for each trial.

    Parameters
    ----------
    estimator : estimator or Pipeline
        What is tuned; for a Pipeline, parameter names carry the step prefix.
    param_distributions : "auto", dict or callable
        ``"auto"``: the final estimator's ``suggest_params(trial)``, its names prefixed with
        ``"<step>__"`` inside a Pipeline. A dict maps ``set_params`` names to Optuna
        distributions. A callable ``f(trial) -> dict`` samples define-by-run.

    Examples
    --------
    >>> from optuna.distributions import FloatDistribution
    >>> from optuna.trial import FixedTrial
    >>> from sknets import MLPClassifier
    >>> space = SearchSpace(MLPClassifier(), {"lr": FloatDistribution(1e-4, 1e-1, log=True)})
    >>> space.sample(FixedTrial({"lr": 0.01}))
    {'lr': 0.01}
    """

    def __init__(self, estimator, param_distributions) -> None:
        self.estimator = estimator
        self.param_distributions = param_distributions
        self._check()

    def _check(self) -> None:
        distributions = self.param_distributions
        if isinstance(distributions, str):
            if distributions != "auto":
                raise ValueError(
                    f"param_distributions={distributions!r} is not supported; use 'auto', a "
                    "dict of optuna distributions or a function of the trial"
                )
            final, _ = final_step(self.estimator)
            if not callable(getattr(final, "suggest_params", None)):
                raise ValueError(
                    f"param_distributions='auto' needs an estimator with suggest_params(trial) "
                    f"(every sknets estimator has one); {type(final).__name__} has none, so "
                    "pass a dict of optuna distributions"
                )
            return
        if callable(distributions):
            return
        if not isinstance(distributions, Mapping) or not distributions:
            raise ValueError(
                f"param_distributions={distributions!r} must be 'auto', a non-empty dict of "
                "optuna distributions or a function of the trial"
            )
        valid_names = set(self.estimator.get_params(deep=True))
        for name, distribution in distributions.items():
            if name not in valid_names and not _sets_a_network_parameter(self.estimator, name):
                prefixed = sorted(valid for valid in valid_names if valid.endswith(f"__{name}"))
                hint = (
                    f"did you mean {prefixed[0]!r}?"
                    if prefixed
                    else f"valid names include {sorted(valid_names)[:12]}"
                )
                raise ValueError(
                    f"param_distributions has {name!r}, which is not a parameter of "
                    f"{type(self.estimator).__name__}; {hint}"
                )
            if not isinstance(distribution, BaseDistribution):
                raise ValueError(
                    f"param_distributions[{name!r}]={distribution!r} is not an optuna "
                    "distribution; use e.g. optuna.distributions.FloatDistribution(1e-4, 1e-1, "
                    "log=True)"
                )

    def sample(self, trial) -> dict:
        """Draw the parameters of ``trial``: keyword arguments for ``set_params``."""
        distributions = self.param_distributions
        if isinstance(distributions, str):
            final, prefix = final_step(self.estimator)
            drawn = final.suggest_params(PrefixedTrial(trial, prefix) if prefix else trial)
            return {prefix + name: value for name, value in drawn.items()}
        if callable(distributions):
            return dict(distributions(trial))
        return {name: _suggest(trial, name, dist) for name, dist in distributions.items()}

    def searched_names(self) -> set[str] | None:
        """The ``set_params`` names every trial draws; None for a function of the trial.

        For ``"auto"``, the names the final estimator's ``suggest_params`` returns (with the
        ``"<step>__"`` prefix inside a Pipeline).
        """
        if callable(self.param_distributions):
            return None
        return set(self.sample(_LowestValueTrial()))

    def overridden_settings(self) -> dict:
        """Values set away from their defaults that the ``"auto"`` space replaces.

        ``{name: value}`` for every parameter of the final estimator that the user set (it
        differs from the constructor's default) and that ``suggest_params`` draws anew in
        every trial, so the set value is never trained with. Empty for an explicit space,
        whose names the user wrote.
        """
        if self.param_distributions != "auto":
            return {}
        final, prefix = final_step(self.estimator)
        params = final.get_params(deep=False)
        return {
            prefix + name: params[name]
            for name in sorted(final.suggest_params(_LowestValueTrial()))
            if name in params and not _is_default(final, name)
        }

    def replay(self, trial_params: dict) -> dict:
        """The ``set_params`` arguments a trial with ``trial_params`` was trained with."""
        return self.sample(optuna.trial.FixedTrial(trial_params))


def _sets_a_network_parameter(estimator, name: str) -> bool:
    """Whether ``name`` is a ``module__<x>`` parameter of an own-network estimator in
    ``estimator`` (itself or a step): those accept any network parameter, set or not."""
    from ..network import ModuleArchitecture

    head, marker, tail = name.partition("module__")
    if not marker or not tail or (head and not head.endswith("__")):
        return False
    owner = estimator if not head else estimator.get_params(deep=True).get(head[:-2])
    return isinstance(owner, ModuleArchitecture)
