"""An AutoML job through boto3: create, wait, candidates, the best one deployed and invoked with raw rows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.services.automl.conftest import request, wait_automl
from tests.services.training.jobs import unique


@pytest.fixture(scope="module")
def finished(sagemaker: Any, automl_bucket: str) -> dict[str, Any]:
    name = unique("aml")[:32]
    sagemaker.create_auto_ml_job(**request(automl_bucket, name))
    return wait_automl(sagemaker, name)


def test_job_completes_with_a_best_candidate(finished: dict[str, Any]) -> None:
    assert finished["AutoMLJobStatus"] == "Completed", finished.get("FailureReason")
    assert finished["AutoMLJobSecondaryStatus"] == "MaxCandidatesReached"
    assert finished["ResolvedAttributes"]["ProblemType"] == "BinaryClassification"
    assert finished["ResolvedAttributes"]["AutoMLJobObjective"] == {"MetricName": "F1"}
    best = finished["BestCandidate"]
    assert best["FinalAutoMLJobObjectiveMetric"]["MetricName"] == "F1"
    assert best["FinalAutoMLJobObjectiveMetric"]["Value"] > 0.8
    assert [c["Image"].rsplit("/", 1)[1].split(":")[0] for c in best["InferenceContainers"]] == [
        "sagemaker-sklearn-automl",
        "sagemaker-xgboost",
        "sagemaker-sklearn-automl",
    ]
