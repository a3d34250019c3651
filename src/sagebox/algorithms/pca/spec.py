"""SageMaker PCA as a registered built-in algorithm (image repository ``pca``)."""

from __future__ import annotations

from sagebox.algorithms.algorithm import AlgorithmSpec
from sagebox.algorithms.amazon.metrics import PROGRESS_DEFINITION
from sagebox.algorithms.pca.hyperparameters import PCA_HYPERPARAMETERS

METRIC_DEFINITIONS: tuple[dict[str, str], ...] = (dict(PROGRESS_DEFINITION),)
"""SageMaker documents no quality metric for PCA (it is not tunable); progress only."""

PCA = AlgorithmSpec(
    name="pca",
    image_repositories=("pca",),
    entry_module="sagebox.algorithms.pca",
    serving_module="sagebox.serving.handlers.pca",
    hyperparameters=PCA_HYPERPARAMETERS,
    metric_definitions=METRIC_DEFINITIONS,
    channels=("train", "test"),
    required_channels=("train",),
    content_types=("application/x-recordio-protobuf", "text/csv"),
    default_content_type="application/x-recordio-protobuf",
)
