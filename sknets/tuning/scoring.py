"""Metrics of a search: one or several scorers, and the one the study optimises."""

from __future__ import annotations

from sklearn.metrics import check_scoring


def resolve_scoring(estimator, scoring, refit) -> tuple[dict, str, bool]:
    """Scorers by metric name, the metric the study optimises, and whether there are several."""
    if scoring is None or isinstance(scoring, str) or callable(scoring):
        if isinstance(refit, str) and refit != scoring:
            raise ValueError(
                f"refit={refit!r} names a metric, but scoring={scoring!r} is a single metric; "
                "use refit=True or False, or pass scoring as a list or dict of metrics"
            )
        return {"score": check_scoring(estimator, scoring)}, "score", False
    if isinstance(scoring, dict):
        specs = dict(scoring)
    else:
        names = list(scoring)
        if len(set(names)) != len(names) or not all(isinstance(name, str) for name in names):
            raise ValueError(
                f"scoring={scoring!r} must list distinct metric names (strings), e.g. "
                "['accuracy', 'neg_log_loss']"
            )
        specs = {name: name for name in names}
    if not specs:
        raise ValueError(f"scoring={scoring!r} is empty; name at least one metric")
    scorers = {name: check_scoring(estimator, spec) for name, spec in specs.items()}
    if refit is True:
        raise ValueError(
            f"refit=True is ambiguous with several metrics {list(scorers)}; pass refit='<metric>' "
            "naming the one to optimise and refit on, or refit=False"
        )
    if refit is False:
        return scorers, next(iter(scorers)), True
    if refit not in scorers:
        raise ValueError(f"refit={refit!r} is not one of the scoring metrics {list(scorers)}")
    return scorers, refit, True
