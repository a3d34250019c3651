"""How the platform recognises and runs SageMaker's Random Cut Forest."""

from __future__ import annotations

from sagebox.algorithms.algorithm import AlgorithmSpec
from sagebox.algorithms.amazon.metrics import metric_definition
from sagebox.algorithms.random_cut_forest.hyperparameters import RCF_HYPERPARAMETERS

METRIC_DEFINITIONS: tuple[dict[str, str], ...] = tuple(
    metric_definition(f"test:{name}", "score") for name in ("f1", "accuracy", "precision", "recall")
)

RANDOM_CUT_FOREST = AlgorithmSpec(
    name="randomcutforest",
    image_repositories=("randomcutforest",),
    entry_module="sagebox.algorithms.random_cut_forest",
    serving_module="sagebox.serving.handlers.random_cut_forest",
    hyperparameters=RCF_HYPERPARAMETERS,
    metric_definitions=METRIC_DEFINITIONS,
    channels=("train", "test"),
    required_channels=("train",),
    content_types=("application/x-recordio-protobuf", "text/csv"),
    default_content_type="application/x-recordio-protobuf",
)
