"""scikit-learn's full estimator check suite over every public sknets estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sknets import MLPClassifier

# Full-batch training (the check data sets have < 1024 rows) keeps sample weights exactly
# equivalent to repeated rows, as sklearn does by checking its MLP with solver="lbfgs".
FAST = {"max_epochs": 60, "lr": 0.03, "batch_size": 1024, "random_state": 0}

ESTIMATORS = [
    MLPClassifier(hidden_layer_sizes=(16,), **FAST),
]

# Training runs in float32, so weighting a row by 2 and repeating it agree to ~1e-6 relative
# (tests/test_base.py asserts that), not the 1e-7 this check demands of float64 solvers.
FLOAT32_SAMPLE_WEIGHT = (
    "float32 training: sample_weight equals repeated rows to ~1e-6 relative, the check "
    "asks 1e-7 (equivalence asserted at 1e-4 in tests/test_base.py)"
)
EXPECTED_FAILED_CHECKS: dict = {
    MLPClassifier: {"check_sample_weight_equivalence_on_dense_data": FLOAT32_SAMPLE_WEIGHT},
}


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est), {})
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
