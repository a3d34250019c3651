"""How a tuning job's trials are summarised and counted, as DescribeHyperParameterTuningJob shows them."""

from __future__ import annotations

from typing import Any

from sagebox.store import ResourceRecord

_FAILED = ("Failed",)


def objective_of(record: ResourceRecord, metric: str) -> float | None:
    for entry in record.document.get("FinalMetricDataList") or []:
        if entry["MetricName"] == metric:
            return float(entry["Value"])
    return None


def summary(
    record: ResourceRecord, tuning_name: str, metric: str, objective_type: str, tuned: list[str],
    definition_name: str | None = None,
) -> dict[str, Any]:
    """A trial as a HyperParameterTrainingJobSummary."""
    document = record.document
    value = objective_of(record, metric)
    status = document["TrainingJobStatus"]
    hyperparameters = document.get("HyperParameters") or {}
    item: dict[str, Any] = {
        "TrainingJobDefinitionName": definition_name,
        "TrainingJobName": record.name,
        "TrainingJobArn": record.arn,
        "TuningJobName": tuning_name,
        "CreationTime": document["CreationTime"],
        "TrainingStartTime": document.get("TrainingStartTime"),
        "TrainingEndTime": document.get("TrainingEndTime"),
        "TrainingJobStatus": status,
        "TunedHyperParameters": {k: hyperparameters[k] for k in tuned if k in hyperparameters},
        "FailureReason": document.get("FailureReason"),
    }
    if value is not None:
        item["FinalHyperParameterTuningJobObjectiveMetric"] = {"Type": objective_type, "MetricName": metric, "Value": value}
        item["ObjectiveStatus"] = "Succeeded"
    else:
        item["ObjectiveStatus"] = "Failed" if status in ("Failed", "Stopped", "Completed") else "Pending"
    return {k: v for k, v in item.items() if v is not None}


def counters(summaries: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, int]]:
    """TrainingJobStatusCounters and ObjectiveStatusCounters over the trials."""
    training = {"Completed": 0, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0}
    objective = {"Succeeded": 0, "Pending": 0, "Failed": 0}
    for item in summaries:
        status = item["TrainingJobStatus"]
        if status in ("InProgress", "Stopping"):
            training["InProgress"] += 1
        elif status in _FAILED:
            # SageMaker: "can be retried only if it failed because an internal service error
            # occurred" - here, a trial whose server died under it (services/leases.py).
            internal_error = (item.get("FailureReason") or "").startswith("InternalServerError")
            training["RetryableError" if internal_error else "NonRetryableError"] += 1
        else:
            training[status] += 1
        objective[item["ObjectiveStatus"]] += 1
    return training, objective


def best(summaries: list[dict[str, Any]], objective_type: str) -> dict[str, Any] | None:
    scored = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in s]
    if not scored:
        return None
    sign = -1 if objective_type == "Maximize" else 1
    return min(scored, key=lambda s: (sign * s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"], s["CreationTime"]))
