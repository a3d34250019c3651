"""SageMaker XGBoost as a registered built-in algorithm (image repository ``sagemaker-xgboost``)."""

from __future__ import annotations

from sagebox.algorithms.algorithm import AlgorithmSpec
from sagebox.algorithms.xgboost.hyperparameters import XGBOOST_HYPERPARAMETERS
from sagebox.algorithms.xgboost.metrics import METRIC_DEFINITIONS as XGBOOST_METRICS

XGBOOST = AlgorithmSpec(
    name="xgboost",
    image_repositories=("sagemaker-xgboost", "xgboost"),
    entry_module="sagebox.algorithms.xgboost",
    serving_module="sagebox.serving.handlers.xgboost",
    hyperparameters=XGBOOST_HYPERPARAMETERS,
    metric_definitions=XGBOOST_METRICS,
    channels=("train", "validation"),
    required_channels=("train",),
    content_types=("text/csv", "text/libsvm", "text/x-libsvm", "csv", "libsvm"),
    default_content_type="text/libsvm",
)
