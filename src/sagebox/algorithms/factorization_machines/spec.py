"""How the platform recognises and runs SageMaker's Factorization Machines."""

from __future__ import annotations

from sagebox.algorithms.algorithm import AlgorithmSpec
from sagebox.algorithms.amazon.metrics import PROGRESS_DEFINITION, metric_definition
from sagebox.algorithms.factorization_machines.hyperparameters import FM_HYPERPARAMETERS

_METRICS = (
    ("rmse", "loss"),
    ("binary_classification_accuracy", "score"),
    ("binary_classification_cross_entropy", "loss"),
    ("binary_f_beta", "score"),
)

METRIC_DEFINITIONS: tuple[dict[str, str], ...] = (
    *(
        metric_definition(f"{channel}:{name}", kind)
        for channel in ("test", "train")
        for name, kind in _METRICS
    ),
    dict(PROGRESS_DEFINITION),
)
"""SageMaker's documented test metrics (the tuning objectives), their per-epoch training
counterparts, and the epoch progress."""

FACTORIZATION_MACHINES = AlgorithmSpec(
    name="factorization-machines",
    image_repositories=("factorization-machines",),
    entry_module="sagebox.algorithms.factorization_machines",
    serving_module="sagebox.serving.handlers.factorization_machines",
    hyperparameters=FM_HYPERPARAMETERS,
    metric_definitions=METRIC_DEFINITIONS,
    channels=("train", "test"),
    required_channels=("train",),
    content_types=("application/x-recordio-protobuf", "text/csv"),
    default_content_type="application/x-recordio-protobuf",
)
