"""Helpers to create training jobs through boto3 in tests."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import numpy as np

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
TERMINAL = ("Completed", "Failed", "Stopped")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def csv_bytes(features: np.ndarray, labels: np.ndarray) -> bytes:
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([labels, features]), delimiter=",", fmt="%.10g")
    return buffer.getvalue().encode()


def channel(name: str, uri: str, content_type: str = "text/csv", data_type: str = "S3Prefix") -> dict[str, Any]:
    return {
        "ChannelName": name,
        "ContentType": content_type,
        "DataSource": {"S3DataSource": {"S3DataType": data_type, "S3Uri": uri}},
    }


def job_request(name: str, bucket: str, channels: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": {"objective": "reg:squarederror", "num_round": "10"},
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    request.update(overrides)
    return request


def wait_for(sagemaker: Any, name: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 120) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        described = sagemaker.describe_training_job(TrainingJobName=name)
        if described["TrainingJobStatus"] in statuses or described["SecondaryStatus"] in statuses:
            return described
        time.sleep(0.1)
    raise TimeoutError(f"training job {name} did not reach {statuses}: {described['TrainingJobStatus']}")
