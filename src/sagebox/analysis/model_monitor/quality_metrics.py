"""Model quality metrics, by problem type, in Model Monitor's schema.

Each metric is ``{"value": v, "standard_deviation": s}``; as Model Monitor does, the
standard deviation is given only from 200 samples on (the metric's spread over five random
80% samples), ``"NaN"`` below. Confusion matrices are ``{actual: {predicted: count}}``.
The "best constant classifier" metrics are those of always answering the positive label
(binary) or the most frequent label (multiclass), the figures to beat.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

MIN_SAMPLES_FOR_DEVIATION = 200
SUBSAMPLES = 5
SUBSAMPLE_SHARE = 0.8
HIGHER_IS_BETTER = {
    "accuracy", "recall", "precision", "true_positive_rate", "true_negative_rate", "auc", "f0_5", "f1", "f2", "r2",
    "weighted_recall", "weighted_precision", "weighted_f0_5", "weighted_f1", "weighted_f2",
}
LOWER_IS_BETTER = {"mae", "mse", "rmse", "false_positive_rate", "false_negative_rate"}
METRICS_KEY = {"Regression": "regression_metrics", "BinaryClassification": "binary_classification_metrics",
               "MulticlassClassification": "multiclass_classification_metrics"}
CONSTRAINTS_KEY = {"Regression": "regression_constraints", "BinaryClassification": "binary_classification_constraints",
                   "MulticlassClassification": "multiclass_classification_constraints"}


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def _f_beta(precision: float, recall: float, beta: float) -> float:
    weight = beta * beta
    return _ratio((1 + weight) * precision * recall, weight * precision + recall)


def regression_values(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    error = y_true - y_pred
    mse = float(np.mean(error**2))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    residual = float(np.sum(error**2))
    r2 = (1.0 - residual / total) if total else (1.0 if residual == 0 else 0.0)
    return {"mae": float(np.mean(np.abs(error))), "mse": mse, "rmse": math.sqrt(mse), "r2": r2}


def auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: the chance a positive scores above a negative (ties count half)."""
    positives, negatives = int(y_true.sum()), int(len(y_true) - y_true.sum())
    if positives == 0 or negatives == 0:
        return 0.0
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(scores)]
    for begin, end in zip(starts, ends, strict=True):
        ranks[order[begin:end]] = (begin + end + 1) / 2.0
    return float((ranks[y_true == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def binary_values(y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None) -> dict[str, float]:
    tp = float(np.sum((y_true == 1) & (y_pred == 1)))
    fp = float(np.sum((y_true == 0) & (y_pred == 1)))
    fn = float(np.sum((y_true == 1) & (y_pred == 0)))
    tn = float(np.sum((y_true == 0) & (y_pred == 0)))
    count = len(y_true)
    recall, precision = _ratio(tp, tp + fn), _ratio(tp, tp + fp)
    prevalence = _ratio(tp + fn, count)
    constant_recall = 1.0 if tp + fn else 0.0
    return {
        "recall": recall, "precision": precision, "accuracy": _ratio(tp + tn, count),
        "recall_best_constant_classifier": constant_recall, "precision_best_constant_classifier": prevalence,
        "accuracy_best_constant_classifier": prevalence,
        "true_positive_rate": recall, "true_negative_rate": _ratio(tn, tn + fp),
        "false_positive_rate": _ratio(fp, fp + tn), "false_negative_rate": _ratio(fn, fn + tp),
        "auc": auc(y_true, scores if scores is not None else y_pred.astype(np.float64)),
        "f0_5": _f_beta(precision, recall, 0.5), "f1": _f_beta(precision, recall, 1.0), "f2": _f_beta(precision, recall, 2.0),
        "f0_5_best_constant_classifier": _f_beta(prevalence, constant_recall, 0.5),
        "f1_best_constant_classifier": _f_beta(prevalence, constant_recall, 1.0),
        "f2_best_constant_classifier": _f_beta(prevalence, constant_recall, 2.0),
    }


def multiclass_values(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    labels, support = np.unique(y_true, return_counts=True)
    count = len(y_true)
    weights = support / count
    values: dict[str, float] = {"accuracy": _ratio(float(np.sum(y_true == y_pred)), count)}
    recalls, precisions = [], []
    for label in labels:
        tp = float(np.sum((y_true == label) & (y_pred == label)))
        recalls.append(_ratio(tp, float(np.sum(y_true == label))))
        precisions.append(_ratio(tp, float(np.sum(y_pred == label))))
    values["weighted_recall"] = float(np.dot(weights, recalls))
    values["weighted_precision"] = float(np.dot(weights, precisions))
    for beta, name in ((0.5, "f0_5"), (1.0, "f1"), (2.0, "f2")):
        values[f"weighted_{name}"] = float(np.dot(weights, [_f_beta(p, r, beta) for p, r in zip(precisions, recalls, strict=True)]))
    share = float(weights.max())  # always answering the most frequent label
    values["accuracy_best_constant_classifier"] = share
    values["weighted_recall_best_constant_classifier"] = share
    values["weighted_precision_best_constant_classifier"] = share * share
    for beta, name in ((0.5, "f0_5"), (1.0, "f1"), (2.0, "f2")):
        values[f"weighted_{name}_best_constant_classifier"] = share * _f_beta(share, 1.0, beta)
    return values


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, dict[str, int]]:
    labels = sorted({str(v) for v in np.concatenate([y_true, y_pred])})
    true_text, pred_text = y_true.astype(str), y_pred.astype(str)
    return {a: {p: int(np.sum((true_text == a) & (pred_text == p))) for p in labels} for a in labels}


def _with_deviation(compute: Callable[[np.ndarray], dict[str, float]], count: int, seed: int = 0) -> dict[str, Any]:
    values = compute(np.arange(count))
    if count < MIN_SAMPLES_FOR_DEVIATION:
        return {name: {"value": value, "standard_deviation": "NaN"} for name, value in values.items()}
    rng = np.random.default_rng(seed)
    size = int(count * SUBSAMPLE_SHARE)
    samples = [compute(rng.choice(count, size=size, replace=False)) for _ in range(SUBSAMPLES)]
    return {name: {"value": value, "standard_deviation": float(np.std([s[name] for s in samples]))} for name, value in values.items()}


def metrics(problem_type: str, y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None = None) -> dict[str, Any]:
    """The ``<problem>_metrics`` section of statistics.json."""
    count = len(y_true)
    if problem_type == "Regression":
        return _with_deviation(lambda i: regression_values(y_true[i], y_pred[i]), count)
    if problem_type == "BinaryClassification":
        found = _with_deviation(lambda i: binary_values(y_true[i], y_pred[i], None if scores is None else scores[i]), count)
        ordered = {"confusion_matrix": confusion_matrix(y_true, y_pred), **found}
        ordered.update(_curves(y_true, scores if scores is not None else y_pred.astype(np.float64)))
        return ordered
    return {"confusion_matrix": confusion_matrix(y_true, y_pred),
            **_with_deviation(lambda i: multiclass_values(y_true[i], y_pred[i]), count)}


def _curves(y_true: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    thresholds = np.unique(scores)[::-1]
    positives, negatives = max(int(y_true.sum()), 1), max(int(len(y_true) - y_true.sum()), 1)
    fprs, tprs, precisions, recalls = [0.0], [0.0], [], []
    for threshold in thresholds:
        predicted = scores >= threshold
        tp = float(np.sum(predicted & (y_true == 1)))
        fp = float(np.sum(predicted & (y_true == 0)))
        tprs.append(tp / positives)
        fprs.append(fp / negatives)
        precisions.append(_ratio(tp, tp + fp))
        recalls.append(tp / positives)
    return {
        "receiver_operating_characteristic_curve": {"false_positive_rates": fprs, "true_positive_rates": tprs},
        "precision_recall_curve": {"precisions": precisions, "recalls": recalls},
    }


def suggested_constraints(problem_type: str, found: dict[str, Any]) -> dict[str, Any]:
    """The ``<problem>_constraints`` section: each scalar metric's baseline value as its bound."""
    constraints = {}
    for name, metric in found.items():
        if not isinstance(metric, dict) or "value" not in metric:
            continue
        if name in HIGHER_IS_BETTER:
            constraints[name] = {"threshold": metric["value"], "comparison_operator": "LessThanThreshold"}
        elif name in LOWER_IS_BETTER:
            constraints[name] = {"threshold": metric["value"], "comparison_operator": "GreaterThanThreshold"}
    return {CONSTRAINTS_KEY[problem_type]: constraints}


def violations(problem_type: str, found: dict[str, Any], constraints: dict[str, Any]) -> list[dict[str, str]]:
    """A violation for every metric beyond its bound in the baseline's constraints."""
    problems = []
    for name, bound in (constraints.get(CONSTRAINTS_KEY[problem_type]) or {}).items():
        metric = found.get(name)
        if not isinstance(metric, dict) or not isinstance(bound, dict) or "threshold" not in bound:
            continue
        value, threshold = float(metric["value"]), float(bound["threshold"])
        operator = bound.get("comparison_operator", "LessThanThreshold")
        broken = value < threshold if operator == "LessThanThreshold" else value > threshold
        if operator == "LessThanOrEqualToThreshold":
            broken = value <= threshold
        elif operator == "GreaterThanOrEqualToThreshold":
            broken = value >= threshold
        if broken:
            spread = metric.get("standard_deviation", "NaN")
            problems.append({
                "constraint_check_type": operator,
                "description": f"Metric {name} with {value} +/- {spread} was {operator} '{threshold}'",
                "metric_name": name,
            })
    return problems
