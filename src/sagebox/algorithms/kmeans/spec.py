"""SageMaker K-Means as a registered built-in algorithm (image repository ``kmeans``)."""

from __future__ import annotations

from sagebox.algorithms.algorithm import AlgorithmSpec
from sagebox.algorithms.amazon.metrics import PROGRESS_DEFINITION, metric_definition
from sagebox.algorithms.kmeans.hyperparameters import KMEANS_HYPERPARAMETERS

METRIC_DEFINITIONS: tuple[dict[str, str], ...] = (
    metric_definition("test:msd", "loss"),
    metric_definition("test:ssd", "loss"),
    dict(PROGRESS_DEFINITION),
)
"""SageMaker's documented K-Means metrics (both minimised), and the epoch progress."""

KMEANS = AlgorithmSpec(
    name="kmeans",
    image_repositories=("kmeans",),
    entry_module="sagebox.algorithms.kmeans",
    serving_module="sagebox.serving.handlers.kmeans",
    hyperparameters=KMEANS_HYPERPARAMETERS,
    metric_definitions=METRIC_DEFINITIONS,
    channels=("train", "test"),
    required_channels=("train",),
    content_types=("application/x-recordio-protobuf", "text/csv"),
    default_content_type="application/x-recordio-protobuf",
)
