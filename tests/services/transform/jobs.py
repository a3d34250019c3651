"""Helpers for transform tests: a trained model, job requests, waiting, reading outputs."""

from __future__ import annotations

import io
import tarfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import xgboost

from tests.services.training.jobs import (
    ROLE,
    XGBOOST_IMAGE,
    channel,
    csv_bytes,
    job_request,
    unique,
    wait_for,
)

TERMINAL = ("Completed", "Failed", "Stopped")


@dataclass(frozen=True)
class TrainedModel:
    name: str
    bucket: str
    booster: xgboost.Booster
    features: np.ndarray

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.booster.predict(xgboost.DMatrix(np.atleast_2d(rows)))


def train_model(sagemaker: Any, s3: Any, bucket: str, x: np.ndarray, y: np.ndarray) -> TrainedModel:
    s3.put_object(Bucket=bucket, Key="train/data.csv", Body=csv_bytes(x, y))
    job = unique("transform-train")
    sagemaker.create_training_job(
        **job_request(
            job, bucket, [channel("train", f"s3://{bucket}/train/")],
            HyperParameters={"objective": "reg:squarederror", "num_round": "15", "max_depth": "3"},
        )
    )
    described = wait_for(sagemaker, job)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    model_data = described["ModelArtifacts"]["S3ModelArtifacts"]
    key = model_data.split("/", 3)[3]
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) as tar:
        member = tar.extractfile("xgboost-model")
        assert member is not None
        booster = xgboost.Booster(model_file=bytearray(member.read()))
    name = unique("transform-model")
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": model_data},
    )
    return TrainedModel(name, bucket, booster, x)


def features_csv(rows: np.ndarray) -> bytes:
    buffer = io.StringIO()
    np.savetxt(buffer, np.atleast_2d(rows), delimiter=",", fmt="%.10g")
    return buffer.getvalue().encode()


def transform_request(
    name: str, model: TrainedModel, input_uri: str, output_uri: str, **overrides: Any
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TransformJobName": name,
        "ModelName": model.name,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": output_uri, "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(request.get(key), dict):
            request[key] = {**request[key], **value}
        else:
            request[key] = value
    return request


def wait_for_transform(sagemaker: Any, name: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 60) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        described = sagemaker.describe_transform_job(TransformJobName=name)
        if described["TransformJobStatus"] in statuses:
            return described
        time.sleep(0.1)
    raise TimeoutError(f"transform job {name} did not reach {statuses}: {described['TransformJobStatus']}")


def read(s3: Any, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def as_float32(lines: list[str]) -> np.ndarray:
    return np.array([float(v) for v in lines], dtype=np.float64).astype(np.float32)
