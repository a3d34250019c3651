"""A ~570-row table with numbers, categories, dates, missing values and a string target
(scikit-learn's breast cancer data, with columns derived from it) for AutoML jobs."""

from __future__ import annotations

import io
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from botocore.exceptions import ClientError
from sklearn.datasets import load_breast_cancer

from tests.services.training.jobs import ROLE, unique

TARGET = "diagnosis"


def table() -> pd.DataFrame:
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, :6].copy()
    rng = np.random.default_rng(0)
    frame["size_band"] = pd.cut(
        data.frame["mean radius"], [0, 12, 16, 100], labels=["small", "medium", "large"]
    ).astype(str)
    frame["seen"] = pd.date_range("2020-01-01", periods=len(frame), freq="D").astype(str)
    frame.loc[rng.choice(len(frame), 40, replace=False), "mean texture"] = np.nan
    frame.loc[rng.choice(len(frame), 30, replace=False), "size_band"] = np.nan
    frame[TARGET] = np.where(data.target == 1, "benign", "malignant")
    return frame


def csv_of(frame: pd.DataFrame, header: bool = True) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=header)
    return buffer.getvalue().encode()


@pytest.fixture(scope="session")
def automl_bucket(s3: Any) -> str:
    bucket = unique("automl")
    s3.create_bucket(Bucket=bucket)
    frame = table()
    s3.put_object(Bucket=bucket, Key="cancer/train.csv", Body=csv_of(frame))
    s3.put_object(Bucket=bucket, Key="headerless/train.csv", Body=csv_of(frame, header=False))
    s3.put_object(Bucket=bucket, Key="small/train.csv", Body=csv_of(frame.head(300)))
    return bucket


def request(bucket: str, name: str, prefix: str = "cancer", **extra: Any) -> dict[str, Any]:
    config = dict(extra.pop("AutoMLJobConfig", {"CompletionCriteria": {"MaxCandidates": 2}}))
    # AUTO would run ENSEMBLING on this small table; these tests are about HPO unless they say.
    config.setdefault("Mode", "HYPERPARAMETER_TUNING")
    return {
        "AutoMLJobName": name,
        "InputDataConfig": [
            {
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{prefix}/"}
                },
                "TargetAttributeName": extra.pop("target", TARGET),
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "RoleArn": ROLE,
        "AutoMLJobConfig": config,
        **extra,
    }


SECONDARY_ORDER = (
    "Starting",
    "AnalyzingData",
    "FeatureEngineering",
    "ModelTuning",
    "TrainingModels",
    "GeneratingExplainabilityReport",
    "GeneratingModelInsightsReport",
    "DeployingModel",
)
"""SageMaker's secondary statuses of an AutoML job in its order (before the final one)."""


def wait_automl(
    sagemaker: Any, name: str, timeout: float = 240, seen: list[str] | None = None
) -> dict[str, Any]:
    """Waits for the job's end; its DescribeAutoMLJob (V1 jobs) or DescribeAutoMLJobV2 (V2 jobs,
    which SageMaker describes with V2 only). `seen`: gets each secondary status the job was
    found in, in order (polled often enough to see steps of a second or more)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        described = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)
        status = described["AutoMLJobSecondaryStatus"]
        if seen is not None and (not seen or seen[-1] != status):
            seen.append(status)
        if described["AutoMLJobStatus"] in ("Completed", "Failed", "Stopped"):
            try:
                return sagemaker.describe_auto_ml_job(AutoMLJobName=name)
            except ClientError as error:
                assert "CreateAutoMLJobV2" in error.response["Error"]["Message"]
                return described
        time.sleep(0.2 if seen is not None else 0.5)
    raise TimeoutError(f"AutoML job {name} did not finish")


def check_report_steps(sagemaker: Any, name: str, seen: list[str]) -> None:
    """The job made its explainability report, then its model insights report, each in its own
    secondary status (SageMaker's order) and processing job, the second after the first."""
    in_progress = [s for s in seen[:-1] if s in SECONDARY_ORDER]
    assert in_progress == sorted(in_progress, key=SECONDARY_ORDER.index), seen
    assert "GeneratingExplainabilityReport" in seen and "GeneratingModelInsightsReport" in seen
    jobs = sagemaker.list_processing_jobs(NameContains=name, MaxResults=100)
    reports = {}
    for summary in jobs["ProcessingJobSummaries"]:
        part = summary["ProcessingJobName"].removeprefix(name).split("-")[1]
        if part in ("explainability", "insights"):
            assert part not in reports, "one processing job per report"
            reports[part] = sagemaker.describe_processing_job(
                ProcessingJobName=summary["ProcessingJobName"]
            )
    assert sorted(reports) == ["explainability", "insights"]
    explainability, insights = reports["explainability"], reports["insights"]
    assert explainability["ProcessingJobStatus"] == insights["ProcessingJobStatus"] == "Completed"
    assert explainability["ProcessingEndTime"] <= insights["CreationTime"]
    arguments = [r["AppSpecification"]["ContainerArguments"] for r in (explainability, insights)]
    assert [a[a.index("--part") + 1] for a in arguments] == ["explainability", "insights"]
