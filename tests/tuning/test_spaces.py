"""SearchSpace: distributions, the estimator's own space (prefixed in pipelines), replay."""

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FixedTrial
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import MLPClassifier
from sknets.tuning.spaces import PrefixedTrial, SearchSpace, final_step


def test_final_step_of_pipeline_and_bare_estimator():
    mlp = MLPClassifier()
    assert final_step(mlp) == (mlp, "")
    assert final_step(make_pipeline(StandardScaler(), mlp)) == (mlp, "mlpclassifier__")


def test_distributions_are_sampled_under_their_own_names():
    space = SearchSpace(
        MLPClassifier(),
        {
            "lr": FloatDistribution(1e-4, 1e-1, log=True),
            "batch_size": IntDistribution(16, 64, step=16),
            "activation": CategoricalDistribution(["relu", "tanh"]),
        },
    )
    study = optuna.create_study()
    trial = study.ask()
    params = space.sample(trial)
    assert set(params) == set(trial.params) == {"lr", "batch_size", "activation"}
    assert params["batch_size"] in (16, 32, 48, 64)
    assert study.trials[0].distributions["batch_size"] == IntDistribution(16, 64, step=16)


def test_auto_space_inside_a_pipeline_is_prefixed_and_replays_exactly():
    pipeline = make_pipeline(StandardScaler(), MLPClassifier())
    space = SearchSpace(pipeline, "auto")
    trial = optuna.create_study().ask()
    params = space.sample(trial)
    assert all(name.startswith("mlpclassifier__") for name in trial.params)
    assert all(name.startswith("mlpclassifier__") for name in params)
    assert space.replay(trial.params) == params
    pipeline.set_params(**params)  # every name is a real parameter


def test_prefixed_trial_forwards_other_attributes():
    trial = optuna.create_study().ask()
    prefixed = PrefixedTrial(trial, "step__")
    assert prefixed.suggest_int("units", 1, 4) == trial.params["step__units"]
    assert prefixed.number == trial.number


def test_a_callable_space_samples_define_by_run():
    def space_function(trial):
        return {"hidden_layer_sizes": (trial.suggest_int("width", 4, 8),)}

    space = SearchSpace(MLPClassifier(), space_function)
    assert space.replay({"width": 6}) == {"hidden_layer_sizes": (6,)}


@pytest.mark.parametrize(
    ("estimator", "distributions", "message"),
    [
        (MLPClassifier(), "everything", "param_distributions='everything' is not supported"),
        (SGDClassifier(), "auto", "SGDClassifier has none, so pass a dict"),
        (MLPClassifier(), {}, r"param_distributions=\{\} must be 'auto', a non-empty dict"),
        (MLPClassifier(), {"learning_rate": FloatDistribution(0, 1)}, "'learning_rate', which"),
        (
            make_pipeline(StandardScaler(), MLPClassifier()),
            {"lr": FloatDistribution(0, 1)},
            "did you mean 'mlpclassifier__lr'",
        ),
        (MLPClassifier(), {"lr": (0.1, 0.2)}, r"\['lr'\]=\(0.1, 0.2\) is not an optuna"),
    ],
)
def test_invalid_spaces(estimator, distributions, message):
    with pytest.raises(ValueError, match=message):
        SearchSpace(estimator, distributions)


def test_unsupported_distribution_type_is_named():
    class Odd(optuna.distributions.BaseDistribution):
        def to_external_repr(self, value):
            return value

        def to_internal_repr(self, value):
            return value

        def single(self):
            return False

        def _contains(self, value):
            return True

    space = SearchSpace(MLPClassifier(), {"lr": Odd()})
    with pytest.raises(ValueError, match=r"param_distributions\['lr'\]=.* is not supported"):
        space.sample(FixedTrial({"lr": 0.1}))
