"""An AutoML job's candidates as SageMaker shows them: its training jobs.

A candidate is one training job of the job's tuning job (HYPERPARAMETER_TUNING) or one of
its ensembling training jobs (ENSEMBLING: a bagged base model or the weighted ensemble,
which report Autopilot's metric names themselves): its objective in Autopilot's
terms, the steps that made it (the data-split and feature-engineering processing jobs and
its training job), and its inference pipeline: the fitted preprocessing, the model, and
(for classification) the container that turns class indices back into labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sagebox.analysis.automl import search_space
from sagebox.analysis.automl.problems import REGRESSION, Objective
from sagebox.services.automl import ensembling
from sagebox.serving.images import AUTOML_REPOSITORY
from sagebox.store import ResourceRecord

AUTOML_IMAGE_TAG = "2.5-1-cpu-py3"
XGBOOST_IMAGE_TAG = "1.7-1"
IMAGE_ACCOUNT = "683313688378"
LINEAR_LEARNER_ACCOUNT = "382416733822"
EXTENDED_ONLY = ("LogLoss",)
"""Metrics MetricDatum names only by StandardMetricName (its MetricName enum lacks them)."""
MODEL_SUPPORTED = "predicted_label,probability,probabilities"
LABEL_SUPPORTED = "predicted_label,probability,labels,probabilities"


def image(repository: str, tag: str, region: str) -> str:
    return f"{IMAGE_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{repository}:{tag}"


def automl_image(region: str) -> str:
    return image(AUTOML_REPOSITORY, AUTOML_IMAGE_TAG, region)


def xgboost_image(region: str) -> str:
    return image("sagemaker-xgboost", XGBOOST_IMAGE_TAG, region)


def linear_learner_image(region: str) -> str:
    return f"{LINEAR_LEARNER_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/linear-learner:1"


ENSEMBLING = "ensembling"
"""The algorithm of ENSEMBLING mode's candidates (a bagged base model or the weighted ensemble)."""


def algorithm_of(trial: ResourceRecord) -> str:
    """The candidate's algorithm, from its training image."""
    training_image = (trial.document.get("AlgorithmSpecification") or {}).get("TrainingImage", "")
    if ensembling.is_ensembling_image(training_image):
        return ENSEMBLING
    return (
        search_space.LINEAR_LEARNER if "linear-learner" in training_image else search_space.XGBOOST
    )


@dataclass(frozen=True)
class CandidateContext:
    """What every candidate of one job shares: its problem, its steps before training, its preprocessing."""

    problem_type: str
    objective: Objective
    region: str
    steps: list[dict[str, str]]
    preprocessing_model: str


def inference_containers(
    context: CandidateContext, model_url: str, algorithm: str = search_space.XGBOOST
) -> list[dict[str, Any]]:
    serve = {
        "SAGEMAKER_PROGRAM": "sagemaker_serve",
        "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
    }
    containers: list[dict[str, Any]] = [
        {
            "Image": automl_image(context.region),
            "ModelDataUrl": context.preprocessing_model,
            "Environment": {
                "AUTOML_TRANSFORM_MODE": "feature-transform",
                "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv",
                **serve,
            },
        },
        {
            "Image": _model_image(algorithm, context.region),
            "ModelDataUrl": model_url,
            "Environment": {
                "MAX_CONTENT_LENGTH": "20971520",
                "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv",
            },
        },
    ]
    if context.problem_type == REGRESSION:
        return containers
    containers[1]["Environment"].update(
        {
            "SAGEMAKER_INFERENCE_OUTPUT": "predicted_label",
            "SAGEMAKER_INFERENCE_SUPPORTED": MODEL_SUPPORTED,
        }
    )
    containers.append(
        {
            "Image": automl_image(context.region),
            "ModelDataUrl": context.preprocessing_model,
            "Environment": {
                "AUTOML_TRANSFORM_MODE": "inverse-label-transform",
                "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv",
                "SAGEMAKER_INFERENCE_INPUT": "predicted_label",
                "SAGEMAKER_INFERENCE_OUTPUT": "predicted_label",
                "SAGEMAKER_INFERENCE_SUPPORTED": LABEL_SUPPORTED,
                **serve,
            },
        }
    )
    return containers


def _model_image(algorithm: str, region: str) -> str:
    if algorithm == ENSEMBLING:
        return ensembling.inference_image(region)
    if algorithm == search_space.LINEAR_LEARNER:
        return linear_learner_image(region)
    return xgboost_image(region)


def _metrics(trial: ResourceRecord, problem_type: str) -> dict[str, float]:
    """The trial's final validation metrics under Autopilot's names."""
    values: dict[str, float] = {}
    for entry in trial.document.get("FinalMetricDataList") or []:
        data, _, metric = str(entry["MetricName"]).partition(":")
        if data == "validation":
            values[metric] = float(entry["Value"])
    if algorithm_of(trial) == ENSEMBLING:  # Autopilot's names already
        return values
    if algorithm_of(trial) == search_space.LINEAR_LEARNER:
        return search_space.linear_learner_autopilot_metrics(problem_type, values)
    return search_space.autopilot_metrics(problem_type, values)


def candidate_summary(
    trial: ResourceRecord,
    context: CandidateContext,
    metrics: dict[str, float],
    base_steps: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """What every candidate shows of its training job, whatever its problem type: name,
    status, steps, times, failure and the objective's final value."""
    document = trial.document
    status = document["TrainingJobStatus"]
    value = metrics.get(context.objective.name)
    item: dict[str, Any] = {
        "CandidateName": trial.name,
        "CandidateStatus": status,
        "CandidateSteps": [
            *context.steps,
            *(base_steps or []),
            {
                "CandidateStepType": "AWS::SageMaker::TrainingJob",
                "CandidateStepArn": trial.arn,
                "CandidateStepName": trial.name,
            },
        ],
        "CreationTime": document["CreationTime"],
        "LastModifiedTime": document.get("LastModifiedTime", document["CreationTime"]),
    }
    if value is not None and status == "Completed":
        item["ObjectiveStatus"] = "Succeeded"
        item["FinalAutoMLJobObjectiveMetric"] = {
            "Type": context.objective.type,
            "MetricName": context.objective.name,
            "Value": value,
            "StandardMetricName": context.objective.name,
        }
    else:
        item["ObjectiveStatus"] = (
            "Failed" if status in ("Failed", "Stopped", "Completed") else "Pending"
        )
    if document.get("TrainingEndTime"):
        item["EndTime"] = document["TrainingEndTime"]
    if document.get("FailureReason"):
        item["FailureReason"] = document["FailureReason"]
    return item


def candidate(
    trial: ResourceRecord, context: CandidateContext, base_steps: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """One training job as an AutoMLCandidate (`base_steps`: the training jobs of the base
    models a weighted ensemble combines, listed among its steps before its own)."""
    document = trial.document
    status = document["TrainingJobStatus"]
    metrics = _metrics(trial, context.problem_type)
    item = candidate_summary(trial, context, metrics, base_steps)
    model_url = (document.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if status == "Completed" and model_url:
        containers = inference_containers(context, model_url, algorithm_of(trial))
        item["InferenceContainers"] = containers
        item["InferenceContainerDefinitions"] = {"CPU": containers}
    if metrics:
        item["CandidateProperties"] = {
            "CandidateMetrics": [
                {
                    **({} if name in EXTENDED_ONLY else {"MetricName": name}),
                    "StandardMetricName": name,
                    "Value": v,
                    "Set": "Validation",
                }
                for name, v in sorted(metrics.items())
            ]
        }
    return item


def best(candidates: list[dict[str, Any]], objective: Objective) -> dict[str, Any] | None:
    scored = [c for c in candidates if "FinalAutoMLJobObjectiveMetric" in c]
    if not scored:
        return None
    sign = -1 if objective.maximize else 1
    return min(
        scored,
        key=lambda c: (sign * c["FinalAutoMLJobObjectiveMetric"]["Value"], c["CreationTime"]),
    )
