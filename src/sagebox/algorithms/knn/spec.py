"""How the platform recognises, validates and runs SageMaker's k-NN algorithm."""

from __future__ import annotations

from sagebox.algorithms.algorithm import AlgorithmSpec
from sagebox.algorithms.amazon.metrics import metric_definition
from sagebox.algorithms.knn.hyperparameters import KNN_HYPERPARAMETERS

METRIC_DEFINITIONS = (
    metric_definition("test:accuracy", "score"),
    metric_definition("test:mse", "loss"),
)
"""``test:accuracy`` (classifier, maximize) and ``test:mse`` (regressor, minimize)."""

KNN = AlgorithmSpec(
    name="knn",
    image_repositories=("knn",),
    entry_module="sagebox.algorithms.knn",
    serving_module="sagebox.serving.handlers.knn",
    hyperparameters=KNN_HYPERPARAMETERS,
    metric_definitions=METRIC_DEFINITIONS,
    channels=("train", "test"),
    required_channels=("train",),
    content_types=("application/x-recordio-protobuf", "text/csv"),
    default_content_type="application/x-recordio-protobuf",
)
