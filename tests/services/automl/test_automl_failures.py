"""Data an AutoML job cannot use: the job fails in AnalyzingData, its FailureReason says why."""

from __future__ import annotations

from typing import Any

import pytest

from tests.services.automl.conftest import csv_of, request, table, wait_automl
from tests.services.training.jobs import unique

CASES = {
    "headerless": ({"prefix": "headerless"}, "has no header row"),
    "no-target": (
        {"target": "outcome"},
        "Target column 'outcome' is not in the training data's header",
    ),
    "small": (
        {"prefix": "small"},
        "has 300 rows with a target value; Autopilot needs at least 500 rows",
    ),
    "objective": (
        {"AutoMLJobObjective": {"MetricName": "MSE"}},
        "'MSE' is not valid for problem type BinaryClassification",
    ),
    "contradiction": (
        {"ProblemType": "Regression"},
        "ProblemType is Regression but the target column 'diagnosis'",
    ),
    "weight-missing": (
        {"weight": "row_weight"},
        "SampleWeightAttributeName 'row_weight' is not a column of the training data",
    ),
    "weight-text": (
        {"weight": "size_band"},
        "SampleWeightAttributeName 'size_band' must name a numeric column; the training data "
        "has 539 non-numeric values",
    ),
    "weight-negative": (
        {"weight": "row_weight", "prefix": "negative-weights"},
        "sample weights must be non-negative; the training data has 3 negative weights",
    ),
}


@pytest.fixture(scope="module")
def failed(sagemaker: Any, s3: Any, automl_bucket: str) -> dict[str, dict[str, Any]]:
    frame = table()
    frame["row_weight"] = 1.0
    frame.loc[[3, 50, 400], "row_weight"] = -0.5
    s3.put_object(Bucket=automl_bucket, Key="negative-weights/train.csv", Body=csv_of(frame))
    names = {}
    for case, (extra, _) in CASES.items():  # all at once: each ends after its data analysis
        names[case] = unique(f"aml-{case}")[:32]
        extra = dict(extra)
        weight = extra.pop("weight", None)
        job = request(automl_bucket, names[case], **extra)
        if weight:
            job["InputDataConfig"][0]["SampleWeightAttributeName"] = weight
        sagemaker.create_auto_ml_job(**job)
    return {case: wait_automl(sagemaker, name) for case, name in names.items()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_job_fails_saying_why(failed: dict[str, dict[str, Any]], case: str) -> None:
    described = failed[case]
    assert described["AutoMLJobStatus"] == "Failed"
    assert described["AutoMLJobSecondaryStatus"] == "Failed"
    assert described["FailureReason"].startswith("ClientError: ")
    assert CASES[case][1] in described["FailureReason"]
    assert "BestCandidate" not in described
