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


def wait_automl(sagemaker: Any, name: str, timeout: float = 240) -> dict[str, Any]:
    """Waits for the job's end; its DescribeAutoMLJob (V1 jobs) or DescribeAutoMLJobV2 (V2 jobs,
    which SageMaker describes with V2 only)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        described = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)
        if described["AutoMLJobStatus"] in ("Completed", "Failed", "Stopped"):
            try:
                return sagemaker.describe_auto_ml_job(AutoMLJobName=name)
            except ClientError as error:
                assert "CreateAutoMLJobV2" in error.response["Error"]["Message"]
                return described
        time.sleep(0.5)
    raise TimeoutError(f"AutoML job {name} did not finish")
