"""``OptunaSearchCV``: hyperparameter search with Optuna, pruned epoch by epoch inside CV."""

from __future__ import annotations

import os
import time
import warnings
from copy import deepcopy
from numbers import Integral, Real

import numpy as np
import optuna
import torch
from joblib import effective_n_jobs
from optuna.pruners import BasePruner, MedianPruner
from optuna.samplers import BaseSampler, TPESampler
from optuna.storages import BaseStorage
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning, NotFittedError
from sklearn.metrics import get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state, get_tags, indexable
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import HasMethods, Interval, StrOptions, _fit_context
from . import plots
from .devices import assign_devices
from .objective import BEST_EPOCH, FAIL_REASON, EpochwiseCV
from .results import build_cv_results
from .scoring import resolve_scoring
from .spaces import SearchSpace, final_step
from .workers import FINISHED, optimize_study, optuna_verbosity, worker_samplers

#: The default pruner: stop a trial whose score is below the median of earlier trials at the
#: same epoch, once 5 trials have completed and from epoch 3 on (first epochs are noisy).
DEFAULT_PRUNER_STARTUP_TRIALS = 5
DEFAULT_PRUNER_WARMUP_EPOCHS = 3


def default_pruner() -> MedianPruner:
    """The pruner used when none is given (see ``DEFAULT_PRUNER_*``)."""
    return MedianPruner(
        n_startup_trials=DEFAULT_PRUNER_STARTUP_TRIALS,
        n_warmup_steps=DEFAULT_PRUNER_WARMUP_EPOCHS,
    )


def _best_estimator_has(attribute: str):
    def check(search) -> bool:
        if hasattr(search, "best_estimator_"):
            return hasattr(search.best_estimator_, attribute)
        return hasattr(search.estimator, attribute)

    return check


class OptunaSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Hyperparameter search with Optuna, pruning trials epoch by epoch inside cross-validation.

    Each trial draws parameters, then trains one copy of the final estimator per fold, all
    folds advancing one epoch at a time (``partial_fit``). After every epoch the mean
    validation score is reported to Optuna and the pruner may stop the trial. A trial scores
    its best epoch; the refit trains the best trial's parameters for that many epochs on all
    the data. For a Pipeline the transformers are fitted once per fold and trial.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A sknets estimator, or a Pipeline ending with one (any estimator whose
        ``partial_fit(X, y, classes=…)`` trains one epoch and that has ``max_epochs``).
    param_distributions : "auto", dict or callable, default="auto"
        ``"auto"`` uses the final estimator's own default space (``suggest_params``), its
        parameter names prefixed ``"<step>__"`` inside a Pipeline, in the study too; what it
        draws replaces the estimator's values in every trial, and ``fit`` warns
        (``UserWarning``) about each one you had set away from its default. A dict
        maps parameter names (``"<step>__<name>"`` for a Pipeline) to Optuna distributions.
        A callable ``f(trial) -> dict`` of ``set_params`` arguments samples define-by-run.
    n_trials : int or None, default=10
        Trials run by this fit (shared among the ``n_jobs`` workers). ``None`` runs until
        ``timeout``.
    timeout : float or None, default=None
        Seconds after which no trial starts and running trials stop at the end of their epoch
        (they keep the score of the epochs they reached).
    scoring : str, callable, list, dict or None, default=None
        Metric(s) as in scikit-learn; None is the estimator's ``score`` (accuracy).
    refit : bool or str, default=True
        Retrain the best parameters on all the data (``best_estimator_``). With several
        metrics, the name of the one that is optimised, pruned on and refit on; or False (then
        the first metric is optimised and there is no ``best_estimator_``).
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn; None is 5-fold stratified.
    sampler : optuna.samplers.BaseSampler, default=None
        None is ``TPESampler(seed=random_state)``.
    pruner : optuna.pruners.BasePruner, default=None
        None is ``MedianPruner(n_startup_trials=5, n_warmup_steps=3)`` (trials can be stopped
        from epoch 3 on, once 5 trials have completed). ``NopPruner()`` turns pruning off.
    storage : None, str, path or optuna storage, default=None
        None keeps the study in memory. A file path keeps it in an Optuna journal file,
        shared by processes on one machine; a database URL (``postgresql://…``,
        ``sqlite:///…``) is shared by machines. Trials whose worker died are run again.
    study_name : str or None, default=None
        Join (or create) this study in ``storage``; its earlier trials take part in the
        choice of the best. None creates a fresh study per fit.
    n_jobs : int or None, default=None
        Worker processes (not threads) running trials in parallel; -1 uses every core.
        With ``storage=None`` they share a temporary journal file.
    worker_devices : "auto", str, torch.device or list of them, default="auto"
        The device each worker trains on (chosen by
        ``sknets.tuning.devices.assign_devices``). ``"auto"`` spreads the workers over
        the visible GPUs, worker ``i`` on ``cuda:{i % n_gpus}`` (``n_jobs=8`` on 8 GPUs
        runs 8 trials at once, ``n_jobs=16`` two per GPU), or keeps them all on the CPU
        without a GPU. One device (``"cuda:1"``) is every worker's; a list
        (``["cuda:0", "cuda:0", "cuda:1"]``) gives worker ``i`` entry ``i``, repeated when
        shorter than the number of workers. It fills in the estimator's ``device="auto"``
        only: a device set on the estimator (or the Pipeline's final step) wins, and
        ``best_estimator_`` is refitted on the estimator's own device. Each trial records
        its device in the ``"device"`` user attribute.
    error_score : "raise" or float, default=np.nan
        ``"raise"`` stops the search on the first error of a fit and raises it. A number
        records the trial as failed (state FAIL, reason in its ``fail_reason`` user attribute
        and in ``cv_results_``) with that score, and goes on. If every trial fails, ``fit``
        raises a ValueError with the reasons.
    random_state : int, RandomState instance or None, default=None
        Seeds the default sampler (each worker gets its own seed).
    verbose : int, default=0
        1 shows a progress bar over trials (complete, pruned, failed, best so far); 2 adds
        Optuna's line per trial.

    Attributes
    ----------
    best_estimator_ : estimator
        The best parameters trained on all data for ``best_epoch_`` epochs (``refit`` only).
    best_params_ : dict
        ``set_params`` arguments of the best trial.
    best_score_ : float
        Its mean cross-validated score at its best epoch.
    best_epoch_ : int
        The epoch at which the best trial scored best.
    best_index_ : int
        Its row in ``cv_results_``.
    best_trial_ : optuna.trial.FrozenTrial
        The best trial itself.
    cv_results_ : dict of arrays
        One entry per finished trial, in scikit-learn's format (``params``,
        ``param_<name>``, ``split<k>_test_<metric>``, ``mean_test_<metric>``,
        ``std_test_<metric>``, ``rank_test_<metric>``, ``mean_fit_time``…) plus
        ``trial_number``, ``state``, ``n_epochs``, ``best_epoch`` and ``fail_reason``. Scores
        are those of each trial's best epoch. Pruned and failed trials rank after every
        complete one.
    study_ : optuna.Study
        The study (its trials, intermediate values per epoch, user attributes).
    n_trials_ : int
        Number of finished trials in the study.
    n_splits_ : int
        Number of cross-validation folds.
    scorer_ : scorer or dict of scorers
        The scorer(s) used.
    multimetric_ : bool
        Whether several metrics were scored.
    refit_time_ : float
        Seconds spent refitting the best parameters.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sknets import MLPClassifier
    >>> from sknets.tuning import OptunaSearchCV
    >>> X, y = load_digits(return_X_y=True)
    >>> pipeline = make_pipeline(StandardScaler(), MLPClassifier(max_epochs=3))
    >>> search = OptunaSearchCV(pipeline, "auto", n_trials=2, cv=2, random_state=0)
    >>> search.fit(X[:300], y[:300]).best_params_["mlpclassifier__lr"] > 0
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"])],
        "param_distributions": [StrOptions({"auto"}), dict, callable],
        "n_trials": [Interval(Integral, 1, None, closed="left"), None],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "scoring": [StrOptions(set(get_scorer_names())), callable, list, tuple, set, dict, None],
        "refit": ["boolean", str],
        "cv": ["cv_object"],
        "sampler": [BaseSampler, None],
        "pruner": [BasePruner, None],
        "storage": [str, os.PathLike, BaseStorage, None],
        "study_name": [str, None],
        "n_jobs": [Integral, None],
        "worker_devices": [str, torch.device, list, tuple],
        "error_score": [StrOptions({"raise"}), Real],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        param_distributions="auto",
        *,
        n_trials: int | None = 10,
        timeout: float | None = None,
        scoring=None,
        refit: bool | str = True,
        cv=None,
        sampler: BaseSampler | None = None,
        pruner: BasePruner | None = None,
        storage=None,
        study_name: str | None = None,
        n_jobs: int | None = None,
        worker_devices="auto",
        error_score=np.nan,
        random_state=None,
        verbose: int = 0,
    ) -> None:
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.n_trials = n_trials
        self.timeout = timeout
        self.scoring = scoring
        self.refit = refit
        self.cv = cv
        self.sampler = sampler
        self.pruner = pruner
        self.storage = storage
        self.study_name = study_name
        self.n_jobs = n_jobs
        self.worker_devices = worker_devices
        self.error_score = error_score
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = deepcopy(inner.classifier_tags)
        tags.regressor_tags = deepcopy(inner.regressor_tags)
        tags.target_tags = deepcopy(inner.target_tags)
        tags.input_tags = deepcopy(inner.input_tags)
        return tags

    # ------------------------------------------------------------------------ checks
    def _check_estimator(self) -> None:
        final, _ = final_step(self.estimator)
        if not hasattr(final, "partial_fit") or "max_epochs" not in final.get_params():
            raise ValueError(
                f"OptunaSearchCV trains epoch by epoch, so it needs an estimator (or a Pipeline "
                f"ending in one) with partial_fit and a max_epochs parameter, such as "
                f"sknets.MLPClassifier; got {type(final).__name__}"
            )

    # ----------------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, groups=None):
        """Run the trials, then refit the best parameters on all of ``X, y``.

        Parameters
        ----------
        X : array-like
            Training inputs, in the layout the estimator accepts.
        y : array-like of shape (n_samples,)
            Class labels.
        groups : array-like of shape (n_samples,), default=None
            Group labels for group-aware ``cv`` splitters.

        Returns
        -------
        self : OptunaSearchCV
            The fitted search.
        """
        if self.n_trials is None and self.timeout is None:
            raise ValueError(
                "n_trials=None and timeout=None would never stop; set n_trials, timeout or both"
            )
        self._check_estimator()
        space = SearchSpace(self.estimator, self.param_distributions)
        overridden = space.overridden_settings()
        if overridden:
            # A warning, not an error: the estimator is often one already in use (tried by
            # hand, cross-validated), and a search space replacing its values is what
            # scikit-learn's searches do. But with "auto" the user never wrote those names.
            settings = ", ".join(f"{name}={value!r}" for name, value in overridden.items())
            warnings.warn(
                f"param_distributions='auto' draws {list(overridden)} in every trial, so the "
                f"values set on the estimator ({settings}) are used neither by the trials nor "
                "by best_estimator_. To keep them fixed, pass a dict of optuna distributions "
                "or a function of the trial that leaves them out; to tune them, leave them "
                "at their defaults (which also silences this warning).",
                UserWarning,
                stacklevel=3,
            )
        X, y = indexable(X, y)
        y = np.asarray(y)
        classifier = is_classifier(final_step(self.estimator)[0])
        if classifier:
            check_classification_targets(y)
        # Stratified folds for classifiers, plain K folds for regressors, as sklearn's searches.
        cv = check_cv(self.cv, y, classifier=classifier)
        splits = list(cv.split(X, y, groups))
        self.n_splits_ = len(splits)
        scorers, objective_metric, self.multimetric_ = resolve_scoring(
            self.estimator, self.scoring, self.refit
        )
        self.scorer_ = scorers if self.multimetric_ else scorers["score"]
        start = time.time()
        objective = EpochwiseCV(
            self.estimator,
            space,
            X,
            y,
            splits=splits,
            scorers=scorers,
            objective_metric=objective_metric,
            error_score=self.error_score,
            deadline=None if self.timeout is None else start + self.timeout,
        )
        with optuna_verbosity(self.verbose):
            self.study_ = self._optimize(objective)
        self._summarize(space, list(scorers), objective_metric)
        if self.refit:
            self._refit_best(X, y)
        return self

    def _optimize(self, objective: EpochwiseCV) -> optuna.Study:
        n_workers = effective_n_jobs(self.n_jobs)
        if self.n_trials is not None:
            n_workers = min(n_workers, self.n_trials)
        if self.sampler is not None:
            samplers = worker_samplers(deepcopy(self.sampler), n_workers)
        else:
            seeds = [None] * n_workers
            if self.random_state is not None:
                random_state = check_random_state(self.random_state)
                seeds = random_state.randint(np.iinfo(np.int32).max, size=n_workers).tolist()
            samplers = [TPESampler(seed=seed) for seed in seeds]
        try:
            devices = assign_devices(n_workers, self.worker_devices)
        except ValueError as error:
            raise ValueError(f"worker_devices={self.worker_devices!r}: {error}") from error
        return optimize_study(
            objective,
            storage=self.storage,
            study_name=self.study_name,
            samplers=samplers,
            pruner=default_pruner() if self.pruner is None else deepcopy(self.pruner),
            n_trials=self.n_trials,
            catch=() if self.error_score == "raise" else (Exception,),
            devices=devices,
            verbose=self.verbose,
        )

    def _summarize(self, space: SearchSpace, metrics: list[str], objective_metric: str) -> None:
        trials = sorted(
            self.study_.get_trials(deepcopy=False, states=FINISHED), key=lambda t: t.number
        )
        self.cv_results_ = build_cv_results(
            trials, space, metrics, self.n_splits_, self.error_score
        )
        self.n_trials_ = len(trials)
        failed = [trial for trial in trials if trial.state.name == "FAIL"]
        complete = [trial for trial in trials if trial.state.name == "COMPLETE"]
        reasons = sorted({trial.user_attrs.get(FAIL_REASON, "worker died") for trial in failed})
        if not complete:
            raise ValueError(
                f"no trial completed out of {len(trials)} ({len(failed)} failed, "
                f"{len(trials) - len(failed)} pruned), so there is no best model; errors: "
                f"{reasons[:3] or 'none'}"
            )
        if failed:
            warnings.warn(
                f"{len(failed)} of {len(trials)} trials failed and scored "
                f"error_score={self.error_score!r}; errors: {reasons[:3]}",
                FitFailedWarning,
                stacklevel=3,
            )
        best = max(complete, key=lambda trial: (trial.value, -trial.number))
        self.best_trial_ = best
        self.best_index_ = int(np.flatnonzero(self.cv_results_["trial_number"] == best.number)[0])
        self.best_params_ = self.cv_results_["params"][self.best_index_]
        self.best_score_ = float(
            self.cv_results_[f"mean_test_{objective_metric}"][self.best_index_]
        )
        self.best_epoch_ = int(best.user_attrs[BEST_EPOCH])

    def _refit_best(self, X, y) -> None:
        estimator = clone(self.estimator).set_params(**self.best_params_)
        final, prefix = final_step(estimator)
        epochs = {f"{prefix}max_epochs": self.best_epoch_}
        if "early_stopping" in final.get_params():
            # The search chose the number of epochs; early stopping would second-guess it
            # on a hold-out the scored models never had.
            epochs[f"{prefix}early_stopping"] = False
        if "n_iter_no_change" in final.get_params():
            # Exactly the epochs the trials were scored after (partial_fit never stops early).
            epochs[f"{prefix}n_iter_no_change"] = np.inf
        estimator.set_params(**epochs)
        start = time.perf_counter()
        with warnings.catch_warnings():
            # Stopping at best_epoch_ is the point; "not converged yet" would only mislead.
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.best_estimator_ = estimator.fit(X, y)
        self.refit_time_ = time.perf_counter() - start

    # -------------------------------------------------------------------- prediction
    def _check_refitted(self, method: str) -> None:
        check_is_fitted(self, "study_")
        if not hasattr(self, "best_estimator_"):
            raise NotFittedError(
                f"{type(self).__name__} was created with refit=False, so it has no "
                f"best_estimator_ for {method}(); train one with "
                "clone(search.estimator).set_params(**search.best_params_).fit(X, y)"
            )

    @available_if(_best_estimator_has("predict"))
    def predict(self, X):
        """Labels predicted by ``best_estimator_``."""
        self._check_refitted("predict")
        return self.best_estimator_.predict(X)

    @available_if(_best_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from ``best_estimator_``."""
        self._check_refitted("predict_proba")
        return self.best_estimator_.predict_proba(X)

    @available_if(_best_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from ``best_estimator_``."""
        self._check_refitted("predict_log_proba")
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_best_estimator_has("predict"))
    def score(self, X, y):
        """Score of ``best_estimator_`` on ``X, y`` with the refit metric.

        Parameters
        ----------
        X : array-like
            Inputs.
        y : array-like of shape (n_samples,)
            True labels.

        Returns
        -------
        score : float
        """
        self._check_refitted("score")
        scorer = self.scorer_[self.refit] if self.multimetric_ else self.scorer_
        return scorer(self.best_estimator_, X, y)

    @property
    def classes_(self) -> np.ndarray:
        """Class labels of ``best_estimator_``."""
        self._check_refitted("classes_")
        return self.best_estimator_.classes_

    @property
    def n_features_in_(self) -> int:
        """Number of features ``best_estimator_`` was trained on."""
        self._check_refitted("n_features_in_")
        return self.best_estimator_.n_features_in_

    @property
    def feature_names_in_(self) -> np.ndarray:
        """Column names ``best_estimator_`` was trained on (a DataFrame's only)."""
        self._check_refitted("feature_names_in_")
        return self.best_estimator_.feature_names_in_

    # ------------------------------------------------------------------------- plots
    def plot_optimization_history(self):
        """Score per trial and best so far.

        See :func:`~sknets.tuning.plot_optimization_history`.
        """
        return plots.plot_optimization_history(self)

    def plot_param_importances(self):
        """Importance of each searched parameter.

        See :func:`~sknets.tuning.plot_param_importances`.
        """
        return plots.plot_param_importances(self)
