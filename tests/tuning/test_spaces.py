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


def test_searched_names_of_each_kind_of_space():
    pipeline = make_pipeline(StandardScaler(), MLPClassifier())
    auto = SearchSpace(pipeline, "auto").searched_names()
    assert {"mlpclassifier__lr", "mlpclassifier__hidden_layer_sizes"} <= auto
    # What the space sets, not the scalar draws it builds them from.
    assert "mlpclassifier__width" not in auto and "mlpclassifier__n_layers" not in auto
    explicit = SearchSpace(pipeline, {"mlpclassifier__lr": FloatDistribution(1e-4, 1e-1)})
    assert explicit.searched_names() == {"mlpclassifier__lr"}
    assert SearchSpace(pipeline, lambda trial: {}).searched_names() is None


def test_overridden_settings_are_the_changed_values_auto_draws():
    mlp = MLPClassifier((32,), lr=0.01, batch_size=128, max_epochs=5)  # 128 is the default
    space = SearchSpace(make_pipeline(StandardScaler(), mlp), "auto")
    assert space.overridden_settings() == {
        "mlpclassifier__hidden_layer_sizes": (32,),
        "mlpclassifier__lr": 0.01,
    }
    assert SearchSpace(MLPClassifier(max_epochs=5), "auto").overridden_settings() == {}
    # An explicit space names its parameters itself: replacing them is what it asks for.
    lr_space = {"lr": FloatDistribution(1e-4, 1e-1)}
    assert SearchSpace(MLPClassifier(lr=0.01), lr_space).overridden_settings() == {}
