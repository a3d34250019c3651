"""Evaluation metrics SageMaker's XGBoost offers that xgboost itself does not compute.

They are passed to ``xgboost.train`` as one ``custom_metric`` and are printed in
the evaluation line like any native metric (``validation-accuracy:0.95000``).
With a built-in objective xgboost hands the metric transformed predictions
(probabilities, or class ids for ``multi:softmax``); classification metrics turn
them into class labels first. Instance weights are not applied, as in SageMaker's
container, unless the job's environment sets WEIGHTED_METRICS_VARIABLE to 1: an AutoML
job with SampleWeightAttributeName sets it on its candidates, whose objective Autopilot
weighs by the rows' sample weights (as ENSEMBLING's candidates' metrics are weighed,
`analysis.automl.ensembles.metrics`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
import xgboost as xgb
from sklearn import metrics as skm

from sagebox.algorithms.xgboost.metrics import WEIGHTED_METRICS_VARIABLE

Score = Callable[..., float]
"""score(labels, predicted, weights) -> value; weights None: every row counts once."""


def weighted_metrics() -> bool:
    """Whether this job's custom metrics weigh the rows (its Environment asks for it)."""
    return os.environ.get(WEIGHTED_METRICS_VARIABLE, "") == "1"


def _classification(score: Callable[..., float], **options: object) -> Score:
    def compute(
        labels: np.ndarray, predicted: np.ndarray, weights: np.ndarray | None = None
    ) -> float:
        return float(score(labels, predicted, sample_weight=weights, **options))

    return compute


def _macro(score: Callable[..., float], average: str) -> Score:
    return _classification(score, average=average, zero_division=0)


CLASSIFICATION_SCORES: dict[str, Score] = {
    "accuracy": _classification(skm.accuracy_score),
    "balanced_accuracy": _classification(skm.balanced_accuracy_score),
    "f1": _macro(skm.f1_score, "macro"),
    "f1_binary": _macro(skm.f1_score, "binary"),
    "f1_macro": _macro(skm.f1_score, "macro"),
    "precision": _macro(skm.precision_score, "binary"),
    "precision_macro": _macro(skm.precision_score, "macro"),
    "precision_micro": _macro(skm.precision_score, "micro"),
    "recall": _macro(skm.recall_score, "binary"),
    "recall_macro": _macro(skm.recall_score, "macro"),
    "recall_micro": _macro(skm.recall_score, "micro"),
}

REGRESSION_SCORES: dict[str, Score] = {
    "mse": lambda labels, predictions, weights=None: float(
        skm.mean_squared_error(labels, predictions, sample_weight=weights)
    ),
    "r2": lambda labels, predictions, weights=None: float(
        skm.r2_score(labels, predictions, sample_weight=weights)
    ),
}


def class_labels(predictions: np.ndarray, objective: str) -> np.ndarray:
    """Predicted class ids from what xgboost predicts for ``objective``."""
    if predictions.ndim == 2:
        return np.asarray(np.argmax(predictions, axis=1), dtype=np.int64)
    if objective in ("multi:softmax", "binary:hinge"):
        return predictions.astype(np.int64)
    if objective == "binary:logitraw":
        return (predictions > 0.0).astype(np.int64)
    if objective in ("binary:logistic", "reg:logistic"):
        return (predictions > 0.5).astype(np.int64)
    return np.asarray(np.rint(predictions), dtype=np.int64)


CustomMetric = Callable[[np.ndarray, xgb.DMatrix], list[tuple[str, float]]]


def custom_metric(names: Sequence[str], objective: str, weighted: bool = False) -> CustomMetric:
    """One ``custom_metric`` for ``xgboost.train`` computing every metric in ``names``;
    `weighted`: weighed by the matrix's instance weights (when it has any)."""
    unknown = [name for name in names if name not in CLASSIFICATION_SCORES | REGRESSION_SCORES]
    if unknown:
        raise ValueError(f"not a container-computed metric: {', '.join(unknown)}")

    def evaluate(predictions: np.ndarray, data: xgb.DMatrix) -> list[tuple[str, float]]:
        labels = data.get_label()
        weights = data.get_weight() if weighted else None
        if weights is not None and len(weights) != len(labels):
            weights = None  # a matrix without instance weights: every row counts once
        results = []
        for name in names:
            if len(labels) == 0:
                results.append((name, 0.0))
            elif name in REGRESSION_SCORES:
                flat = predictions if predictions.ndim == 1 else predictions[:, 0]
                results.append((name, REGRESSION_SCORES[name](labels, flat, weights)))
            else:
                predicted = class_labels(predictions, objective)
                score = CLASSIFICATION_SCORES[name](labels.astype(np.int64), predicted, weights)
                results.append((name, score))
        return results

    return evaluate
