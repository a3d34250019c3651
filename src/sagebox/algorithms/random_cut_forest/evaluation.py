"""Scoring a labelled test channel the way SageMaker's Random Cut Forest does.

A row is predicted anomalous when its score exceeds the three-sigma threshold:
the mean plus three standard deviations of the training rows' scores. Labels are
1 for anomalies and 0 for normal rows. ``accuracy`` is the share of correct
predictions; ``precision_recall_fscore`` gives precision, recall and F1 of the
anomaly class (and of the normal class, as ``negative_*``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIGMAS = 3.0


@dataclass
class RunningMoments:
    """Count, mean and variance of a stream of values (Chan et al.'s parallel update)."""

    count: int = 0
    mean: float = 0.0
    squares: float = 0.0

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.size == 0:
            return
        batch_mean = float(values.mean())
        batch_squares = float(((values - batch_mean) ** 2).sum())
        total = self.count + values.size
        delta = batch_mean - self.mean
        self.squares += batch_squares + delta * delta * self.count * values.size / total
        self.mean += delta * values.size / total
        self.count = total

    @property
    def std(self) -> float:
        """The population standard deviation (0 for fewer than two values)."""
        return float(np.sqrt(self.squares / self.count)) if self.count > 1 else 0.0


def score_threshold(moments: RunningMoments) -> float:
    """Scores above this are anomalies: mean + 3 standard deviations of the training scores."""
    return moments.mean + SIGMAS * moments.std


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


def labelled_metrics(
    labels: np.ndarray, scores: np.ndarray, threshold: float, eval_metrics: tuple[str, ...]
) -> dict[str, float]:
    """The test metrics ``eval_metrics`` asks for, by their SageMaker names (``f1``, ...)."""
    actual = np.asarray(labels) == 1
    predicted = np.asarray(scores) > threshold
    true_positive = float(np.count_nonzero(actual & predicted))
    false_positive = float(np.count_nonzero(~actual & predicted))
    false_negative = float(np.count_nonzero(actual & ~predicted))
    true_negative = float(np.count_nonzero(~actual & ~predicted))
    metrics: dict[str, float] = {}
    if "accuracy" in eval_metrics:
        metrics["accuracy"] = _ratio(true_positive + true_negative, len(actual))
    if "precision_recall_fscore" in eval_metrics:
        precision = _ratio(true_positive, true_positive + false_positive)
        recall = _ratio(true_positive, true_positive + false_negative)
        negative_precision = _ratio(true_negative, true_negative + false_negative)
        negative_recall = _ratio(true_negative, true_negative + false_positive)
        metrics.update(
            precision=precision,
            recall=recall,
            f1=_f1(precision, recall),
            negative_precision=negative_precision,
            negative_recall=negative_recall,
            negative_f1=_f1(negative_precision, negative_recall),
        )
    return metrics
