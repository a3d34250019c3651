"""A time-series AutoML job's candidates: its tuning job's training jobs, one model each.

Each candidate reports Autopilot's forecasting metrics over its backtest windows; its
inference container is the forecasting image with its model (a single container, as
Autopilot's time-series candidates have).
"""

from __future__ import annotations

import math
from typing import Any

from sagebox.algorithms.forecasting.spec import REPOSITORY
from sagebox.analysis.automl.forecast_metrics import METRICS
from sagebox.analysis.automl.problems import Objective
from sagebox.services.automl import candidates as tabular
from sagebox.store import ResourceRecord

IMAGE_TAG = "2.0-cpu-py3"
TIME_SERIES = "TimeSeriesForecasting"
OBJECTIVES = {name: Objective(name, name, False) for name in METRICS}
"""Every forecasting metric is a loss (Minimize)."""


def forecasting_image(region: str) -> str:
    return tabular.image(REPOSITORY, IMAGE_TAG, region)


def metrics(trial: ResourceRecord) -> dict[str, float]:
    values = {}
    for entry in trial.document.get("FinalMetricDataList") or []:
        data, _, metric = str(entry["MetricName"]).partition(":")
        if data == "validation" and metric in METRICS and math.isfinite(float(entry["Value"])):
            values[metric] = float(entry["Value"])
    return values


def model_of(trial: ResourceRecord) -> str:
    return str((trial.document.get("HyperParameters") or {}).get("model", ""))


def candidate(trial: ResourceRecord, context: tabular.CandidateContext) -> dict[str, Any]:
    """One training job as an AutoMLCandidate (its steps, metrics and container)."""
    document = trial.document
    status = document["TrainingJobStatus"]
    values = metrics(trial)
    item = tabular.candidate_summary(trial, context, values)
    model_url = (document.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if status == "Completed" and model_url:
        containers = [
            {
                "Image": forecasting_image(context.region),
                "ModelDataUrl": model_url,
                "Environment": {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"},
            }
        ]
        item["InferenceContainers"] = containers
        item["InferenceContainerDefinitions"] = {"CPU": containers}
    if values:
        item["CandidateProperties"] = {
            "CandidateMetrics": [
                {"MetricName": name, "StandardMetricName": name, "Value": v, "Set": "Validation"}
                for name, v in sorted(values.items())
            ]
        }
    return item
