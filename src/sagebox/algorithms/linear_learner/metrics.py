"""The quality metrics Linear Learner reports, and its binary decision-threshold tuning.

Names are SageMaker's (``binary_classification_accuracy``, ``binary_f_beta``,
``precision``, ``recall``, ``roc_auc_score``, ``multiclass_accuracy``,
``multiclass_top_k_accuracy``, ``dcg``, ``macro_precision``, ``macro_recall``,
``macro_f_beta``, ``mse``, ``rmse``, ``absolute_loss``; ``objective_loss`` comes from
the loss itself). Threshold tuning is vectorised over models: each row of a
``[models, rows]`` score matrix gets the threshold that maximises the criterion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata


@dataclass(frozen=True)
class ThresholdCriterion:
    """What a binary threshold is tuned for (``binary_classifier_model_selection_criteria``)."""

    name: str
    beta: float = 1.0
    target_precision: float = 0.8
    target_recall: float = 0.8


def tune_thresholds(
    scores: np.ndarray, labels: np.ndarray, criterion: ThresholdCriterion
) -> tuple[np.ndarray, np.ndarray]:
    """(threshold, criterion value) per model; a row is positive when its score > threshold.

    ``scores`` is ``[models, rows]``, ``labels`` 0/1 of ``[rows]``. Every cut between
    distinct sorted scores is tried (and the cuts predicting all or none positive);
    the threshold is the midpoint between the scores either side of the best cut.
    """
    scores = np.atleast_2d(scores)
    models, rows = scores.shape
    if rows == 0:
        return np.full(models, 0.5), np.zeros(models)
    order = np.argsort(scores, axis=1)[:, ::-1]
    ordered = np.take_along_axis(scores, order, axis=1)
    true_pos = np.cumsum(labels[order] == 1, axis=1, dtype=np.float64)
    positives = float(true_pos[0, -1])
    predicted = np.arange(1, rows + 1, dtype=np.float64)
    value = _criterion_values(criterion, true_pos, predicted, positives, rows)
    value[:, :-1][ordered[:, :-1] <= ordered[:, 1:]] = -np.inf
    best = np.argmax(value, axis=1)
    best_value = value[np.arange(models), best]
    none_value = _criterion_values(criterion, np.zeros((1, 1)), np.zeros(1), positives, rows)[0, 0]
    cut = np.where(none_value > best_value, 0, best + 1)
    return _cut_thresholds(ordered, cut), np.maximum(best_value, none_value)


def _criterion_values(
    criterion: ThresholdCriterion,
    true_pos: np.ndarray,
    predicted: np.ndarray,
    positives: float,
    rows: int,
) -> np.ndarray:
    """The criterion when the top ``predicted`` rows (holding ``true_pos`` positives) are
    predicted positive: ``[models, cuts]``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if criterion.name == "accuracy":
            value = 2.0 * true_pos
            value += rows - positives - predicted
            value /= rows
            return value
        if criterion.name == "f_beta":
            weight = criterion.beta**2
            denominator = weight * positives + predicted
            return np.where(denominator > 0, (1.0 + weight) * true_pos / denominator, 0.0)
        precision = np.where(predicted > 0, true_pos / np.maximum(predicted, 1.0), 1.0)
        recall = true_pos / positives if positives else np.zeros_like(true_pos)
        if criterion.name == "precision_at_target_recall":
            return np.where(recall >= criterion.target_recall, precision, -1.0)
        if criterion.name == "recall_at_target_precision":
            return np.where(precision >= criterion.target_precision, recall, -1.0)
    raise ValueError(f"no threshold tuning for criterion '{criterion.name}'")


def _cut_thresholds(ordered: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """Thresholds that put the first ``cut`` sorted scores of each row above them."""
    models, rows = ordered.shape
    index = np.arange(models)
    above = ordered[index, np.clip(cut - 1, 0, rows - 1)]
    below = ordered[index, np.clip(cut, 0, rows - 1)]
    middle = (above + below) / 2.0
    bottom = np.nextafter(ordered[:, -1], -np.inf)
    return np.where(cut == 0, ordered[:, 0], np.where(cut == rows, bottom, middle))


def _f_beta(
    true_pos: np.ndarray, false_pos: np.ndarray, false_neg: np.ndarray, beta: float
) -> np.ndarray:
    weight = beta * beta
    numerator = (1.0 + weight) * true_pos
    denominator = numerator + weight * false_neg + false_pos
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), 0.0
        )


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (ties count one half); NaN without both classes."""
    positives = labels == 1
    count_pos = int(np.count_nonzero(positives))
    count_neg = len(labels) - count_pos
    if count_pos == 0 or count_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float(
        (ranks[positives].sum() - count_pos * (count_pos + 1) / 2) / (count_pos * count_neg)
    )


def binary_metrics(
    scores: np.ndarray, labels: np.ndarray, threshold: float, beta: float
) -> dict[str, float]:
    """Accuracy, F-beta, precision, recall and ROC AUC of one binary model."""
    predicted = scores > threshold
    actual = labels == 1
    true_pos = float(np.count_nonzero(predicted & actual))
    false_pos = float(np.count_nonzero(predicted & ~actual))
    false_neg = float(np.count_nonzero(~predicted & actual))
    rows = max(len(labels), 1)
    return {
        "binary_classification_accuracy": float(np.count_nonzero(predicted == actual)) / rows,
        "binary_f_beta": float(
            _f_beta(np.array(true_pos), np.array(false_pos), np.array(false_neg), beta)
        ),
        "precision": true_pos / (true_pos + false_pos) if true_pos + false_pos else 0.0,
        "recall": true_pos / (true_pos + false_neg) if true_pos + false_neg else 0.0,
        "roc_auc_score": roc_auc(scores, labels),
    }


def multiclass_metrics(
    probabilities: np.ndarray, labels: np.ndarray, top_k: int, beta: float
) -> dict[str, float]:
    """Accuracy, top-k accuracy, DCG and macro precision / recall / F-beta of one model."""
    rows, classes = probabilities.shape
    truth = labels.astype(np.intp)
    true_score = probabilities[np.arange(rows), truth]
    rank = 1 + np.count_nonzero(probabilities > true_score[:, None], axis=1)
    predicted = np.argmax(probabilities, axis=1)
    confusion = np.zeros((classes, classes))
    np.add.at(confusion, (truth, predicted), 1.0)
    true_pos = np.diag(confusion)
    predicted_count = confusion.sum(axis=0)
    actual_count = confusion.sum(axis=1)
    precision = np.divide(
        true_pos, predicted_count, out=np.zeros(classes), where=predicted_count > 0
    )
    recall = np.divide(true_pos, actual_count, out=np.zeros(classes), where=actual_count > 0)
    f_beta = _f_beta(true_pos, predicted_count - true_pos, actual_count - true_pos, beta)
    return {
        "multiclass_accuracy": float(np.mean(predicted == truth)),
        "multiclass_top_k_accuracy": float(np.mean(rank <= top_k)),
        "dcg": float(np.mean(1.0 / np.log2(rank + 1.0))),
        "macro_precision": float(np.mean(precision)),
        "macro_recall": float(np.mean(recall)),
        "macro_f_beta": float(np.mean(f_beta)),
    }


def regression_metrics(predictions: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Mean squared error, its root and mean absolute error of one model."""
    residual = predictions - labels
    mse = float(np.mean(residual**2))
    return {
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "absolute_loss": float(np.mean(np.abs(residual))),
    }
