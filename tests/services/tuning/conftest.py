"""Data for tuning jobs: the diabetes set, and a larger synthetic set whose trials run long enough to be stopped."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from tests.services.training.jobs import ROLE, XGBOOST_IMAGE, csv_bytes, unique


@pytest.fixture(scope="session")
def tuning_bucket(s3: Any) -> str:
    bucket = unique("tuning")
    s3.create_bucket(Bucket=bucket)
    data = load_diabetes()
    s3.put_object(Bucket=bucket, Key="diabetes/train/data.csv", Body=csv_bytes(data.data[:300], data.target[:300]))
    s3.put_object(Bucket=bucket, Key="diabetes/validation/data.csv", Body=csv_bytes(data.data[300:], data.target[300:]))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8_000, 20))
    y = x[:, 0] * 3 + np.sin(x[:, 1] * 2) + x[:, 2] * x[:, 3] + rng.normal(scale=0.3, size=len(x))
    s3.put_object(Bucket=bucket, Key="big/train/data.csv", Body=csv_bytes(x[:6_000], y[:6_000]))
    s3.put_object(Bucket=bucket, Key="big/validation/data.csv", Body=csv_bytes(x[6_000:], y[6_000:]))
    return bucket


def definition(bucket: str, prefix: str = "diabetes", static: dict[str, str] | None = None) -> dict[str, Any]:
    def channel(name: str) -> dict[str, Any]:
        return {
            "ChannelName": name, "ContentType": "text/csv",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{prefix}/{name}/"}},
        }

    return {
        "StaticHyperParameters": static if static is not None else {"objective": "reg:squarederror", "num_round": "20"},
        "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "InputDataConfig": [channel("train"), channel("validation")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/tuning-output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def config(strategy: str = "Random", max_jobs: int = 4, parallel: int = 2, **extra: Any) -> dict[str, Any]:
    ranges = extra.pop("ranges", {
        "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5", "ScalingType": "Logarithmic"}],
        "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "6"}],
    })
    return {
        "Strategy": strategy,
        "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:rmse"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": parallel},
        "ParameterRanges": ranges,
        **extra,
    }


def wait_tuning(sagemaker: Any, name: str, timeout: float = 240) -> dict[str, Any]:
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        if described["HyperParameterTuningJobStatus"] in ("Completed", "Failed", "Stopped"):
            return described
        time.sleep(0.5)
    raise TimeoutError(f"tuning job {name} did not finish")
