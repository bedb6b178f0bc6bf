"""The public sknets estimators, found once for every place that names them by class name."""

from __future__ import annotations


def public_estimator_classes() -> dict[str, type]:
    """sknets' public classifiers and regressors (``sknets.__all__``), by class name."""
    import sknets

    from .classifier import NeuralNetClassifierBase
    from .regressor import NeuralNetRegressorBase

    bases = (NeuralNetClassifierBase, NeuralNetRegressorBase)
    public = {name: getattr(sknets, name, None) for name in sknets.__all__}
    return {
        name: value
        for name, value in public.items()
        if isinstance(value, type) and issubclass(value, bases)
    }
