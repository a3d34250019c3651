"""Autopilot's time-series forecasting candidates as a registered algorithm.

The image repository is sagebox's name for Autopilot's forecasting container: its
training jobs fit and backtest one statistical model, and its models serve forecasts
(`sagebox.serving.handlers.forecast`).
"""

from __future__ import annotations

from sagebox.algorithms.algorithm import AlgorithmSpec
from sagebox.algorithms.amazon.metrics import metric_definition
from sagebox.algorithms.forecasting.hyperparameters import FORECASTING_HYPERPARAMETERS
from sagebox.analysis.automl.forecast_metrics import METRICS

REPOSITORY = "sagemaker-automl-forecasting"

FORECASTING = AlgorithmSpec(
    name="automl-forecasting",
    image_repositories=(REPOSITORY,),
    entry_module="sagebox.algorithms.forecasting",
    serving_module="sagebox.serving.handlers.forecast",
    hyperparameters=FORECASTING_HYPERPARAMETERS,
    metric_definitions=tuple(metric_definition(f"validation:{name}") for name in METRICS),
    channels=("train",),
    required_channels=("train",),
    content_types=("text/csv",),
    default_content_type="text/csv",
)
