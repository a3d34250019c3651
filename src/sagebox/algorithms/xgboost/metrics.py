"""The metrics SageMaker's XGBoost algorithm reports, and how to find them in its logs.

Every round the algorithm prints xgboost's evaluation line, e.g.
``[12]\\ttrain-rmse:0.12345\\tvalidation-rmse:0.23456``. SageMaker's log capture shows
the tab as ``#011``, and the metric definitions it publishes for the algorithm
(``train:<metric>`` and ``validation:<metric>``) are regexes over that escaped text.

Most metrics are computed by xgboost itself; the classification and regression
scores in ``CONTAINER_METRICS`` are not xgboost metrics, SageMaker's container
computes them from the predictions (see ``custom_metrics``).
"""

from __future__ import annotations

WEIGHTED_METRICS_VARIABLE = "SAGEBOX_WEIGHTED_METRICS"
"""A job whose Environment sets this to 1 weighs its container-computed metrics by the
instance weights (``csv_weights``); SageMaker's container does not (see ``custom_metrics``)."""

MAXIMIZE: tuple[str, ...] = (
    "accuracy",
    "auc",
    "aucpr",
    "balanced_accuracy",
    "f1",
    "f1_binary",
    "f1_macro",
    # an accuracy, so larger is better (the survival interval hit rate)
    "interval-regression-accuracy",
    "map",
    "ndcg",
    "precision",
    "precision_macro",
    "precision_micro",
    "r2",
    "recall",
    "recall_macro",
    "recall_micro",
)
"""Metrics where larger is better."""

MINIMIZE: tuple[str, ...] = (
    "aft-nloglik",
    "cox-nloglik",
    "error",
    "gamma-deviance",
    "gamma-nloglik",
    "logloss",
    "mae",
    "mape",
    "merror",
    "mlogloss",
    "mphe",
    "mse",
    "poisson-nloglik",
    "rmse",
    "rmsle",
    "tweedie-nloglik",
)
"""Metrics where smaller is better."""

METRIC_NAMES: tuple[str, ...] = tuple(sorted(MAXIMIZE + MINIMIZE))
"""Every value ``eval_metric`` accepts by name (thresholded forms like ``error@0.7`` aside)."""

CONTAINER_METRICS: tuple[str, ...] = (
    "accuracy",
    "balanced_accuracy",
    "f1",
    "f1_binary",
    "f1_macro",
    "mse",
    "precision",
    "precision_macro",
    "precision_micro",
    "r2",
    "recall",
    "recall_macro",
    "recall_micro",
)
"""Metrics xgboost cannot compute, calculated by the algorithm from the predictions."""

PARAMETERISED_METRICS: tuple[str, ...] = (r"(?:error|ndcg|map)@[0-9]*\.?[0-9]+-?",)
"""Patterns for thresholded metrics: ``error@0.7``, ``ndcg@5``, ``map@3``."""

DATA_NAMES: tuple[str, ...] = ("train", "validation")

NUMBER_PATTERN = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


def metric_regex(data_name: str, metric: str) -> str:
    """The regex SageMaker publishes for ``<data_name>:<metric>`` (tab escaped as ``#011``)."""
    return rf".*\[[0-9]+\].*#011{data_name}-{metric}:{NUMBER_PATTERN}.*"


def is_maximized(metric: str) -> bool | None:
    """Whether larger is better for ``metric`` (``ndcg@5`` counts as ``ndcg``); None if unknown."""
    base = metric.split("@", 1)[0]
    if base in MAXIMIZE:
        return True
    if base in MINIMIZE:
        return False
    return None


METRIC_DEFINITIONS: tuple[dict[str, str], ...] = tuple(
    {"Name": f"{data_name}:{metric}", "Regex": metric_regex(data_name, metric)}
    for metric in METRIC_NAMES
    for data_name in DATA_NAMES
)
"""``MetricDefinitions`` for every metric on the train and validation data."""

TUNING_METRICS: tuple[str, ...] = tuple(f"validation:{metric}" for metric in METRIC_NAMES) + tuple(
    f"train:{metric}" for metric in METRIC_NAMES
)
"""Names a tuning job may use as its objective metric."""
