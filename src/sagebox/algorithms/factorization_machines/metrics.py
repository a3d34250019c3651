"""The quality metrics SageMaker's Factorization Machines report, accumulated over batches.

Regressors: ``rmse``. Binary classifiers: ``binary_classification_accuracy`` and
``binary_f_beta`` (F1) at the 0.5 threshold, and ``binary_classification_cross_entropy``
(mean log loss, probabilities clipped to [1e-15, 1 - 1e-15]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sagebox.algorithms.factorization_machines.model import BINARY, THRESHOLD

PROBABILITY_CLIP = 1e-15
F_BETA = 1.0


@dataclass
class QualityAccumulator:
    """Sums the metrics' ingredients batch by batch; ``results`` gives the metrics."""

    predictor_type: str
    rows: int = 0
    squared_error: float = 0.0
    log_loss: float = 0.0
    correct: int = 0
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    def add(self, labels: np.ndarray, scores: np.ndarray) -> None:
        """Add a batch: labels and the model's scores (probabilities for classifiers)."""
        labels = np.asarray(labels, dtype=np.float64)
        scores = np.asarray(scores, dtype=np.float64)
        self.rows += len(labels)
        if self.predictor_type != BINARY:
            self.squared_error += float(np.square(scores - labels).sum())
            return
        clipped = np.clip(scores, PROBABILITY_CLIP, 1.0 - PROBABILITY_CLIP)
        self.log_loss -= float(
            (labels * np.log(clipped) + (1.0 - labels) * np.log1p(-clipped)).sum()
        )
        predicted = scores >= THRESHOLD
        actual = labels == 1
        self.correct += int(np.count_nonzero(predicted == actual))
        self.true_positive += int(np.count_nonzero(predicted & actual))
        self.false_positive += int(np.count_nonzero(predicted & ~actual))
        self.false_negative += int(np.count_nonzero(~predicted & actual))

    def results(self) -> dict[str, float]:
        """``{metric: value}`` with SageMaker's metric names (empty before any rows)."""
        if self.rows == 0:
            return {}
        if self.predictor_type != BINARY:
            return {"rmse": math.sqrt(self.squared_error / self.rows)}
        beta2 = F_BETA * F_BETA
        denominator = (1 + beta2) * self.true_positive + beta2 * self.false_negative
        denominator += self.false_positive
        f_beta = (1 + beta2) * self.true_positive / denominator if denominator else 0.0
        return {
            "binary_classification_accuracy": self.correct / self.rows,
            "binary_classification_cross_entropy": self.log_loss / self.rows,
            "binary_f_beta": f_beta,
        }


LOSS_METRICS = frozenset({"rmse", "binary_classification_cross_entropy"})
"""Metrics where lower is better; the others are scores."""
