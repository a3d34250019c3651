"""How the platform recognises and runs SageMaker's Linear Learner (image ``linear-learner``).

Imported with the registry, so it stays light: no numpy-heavy modules here.
"""

from __future__ import annotations

from sagebox.algorithms.algorithm import AlgorithmSpec
from sagebox.algorithms.amazon.metrics import PROGRESS_DEFINITION, metric_definition
from sagebox.algorithms.linear_learner.hyperparameters import LINEAR_LEARNER_HYPERPARAMETERS

CHANNELS = ("train", "validation", "test")
FINAL_METRICS = (
    "objective_loss",
    "absolute_loss",
    "mse",
    "rmse",
    "binary_classification_accuracy",
    "binary_f_beta",
    "precision",
    "recall",
    "roc_auc_score",
    "multiclass_accuracy",
    "multiclass_top_k_accuracy",
    "dcg",
    "macro_precision",
    "macro_recall",
    "macro_f_beta",
)
"""Metrics reported for the validation and test channels once training ends."""
LOSS_METRICS = frozenset({"objective_loss", "absolute_loss", "mse", "rmse"})
"""Metrics where lower is better (printed as ``<loss>``); the others are ``<score>``."""


def _definitions() -> tuple[dict[str, str], ...]:
    definitions = [metric_definition("train:objective_loss", "loss"), dict(PROGRESS_DEFINITION)]
    for channel in ("validation", "test"):
        for metric in FINAL_METRICS:
            kind = "loss" if metric in LOSS_METRICS else "score"
            definitions.append(metric_definition(f"{channel}:{metric}", kind))
    return tuple(definitions)


METRIC_DEFINITIONS = _definitions()

LINEAR_LEARNER = AlgorithmSpec(
    name="linear-learner",
    image_repositories=("linear-learner",),
    entry_module="sagebox.algorithms.linear_learner",
    serving_module="sagebox.serving.handlers.linear_learner",
    hyperparameters=LINEAR_LEARNER_HYPERPARAMETERS,
    metric_definitions=METRIC_DEFINITIONS,
    channels=CHANNELS,
    required_channels=("train",),
    content_types=("application/x-recordio-protobuf", "text/csv"),
    default_content_type="application/x-recordio-protobuf",
)
