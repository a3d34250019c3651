"""The final model's quality on a labelled channel, under SageMaker's metric names."""

from __future__ import annotations

import numpy as np

from sagebox.algorithms.linear_learner.config import TrainingConfig
from sagebox.algorithms.linear_learner.losses import LossParameters, loss_values
from sagebox.algorithms.linear_learner.metrics import (
    binary_metrics,
    multiclass_metrics,
    regression_metrics,
)
from sagebox.algorithms.linear_learner.model import LinearModel
from sagebox.algorithms.linear_learner.trainer import Dataset


def evaluate(model: LinearModel, data: Dataset, config: TrainingConfig) -> dict[str, float]:
    """``objective_loss`` (the training loss, unweighted) and the predictor's metrics."""
    raw = model.raw_scores(data.features)
    labels = np.asarray(data.labels, dtype=np.float64)
    params = LossParameters(
        config.margin, config.loss_insensitivity, config.quantile, config.huber_delta
    )
    scores = raw[:, :, None] if raw.ndim == 2 else raw[:, None]
    metrics = {"objective_loss": float(np.mean(loss_values(model.loss, scores, labels, params)))}
    outputs = model.predict(data.features)
    if config.is_binary:
        metrics.update(binary_metrics(outputs["score"], labels, model.threshold, config.f_beta))
    elif config.is_multiclass:
        metrics.update(
            multiclass_metrics(outputs["score"], labels, config.accuracy_top_k, config.f_beta)
        )
    else:
        metrics.update(regression_metrics(outputs["score"], labels))
    return metrics
