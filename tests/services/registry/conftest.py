"""The Model Registry's fixtures: a trained XGBoost model to register, and request builders."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import xgboost
from sklearn.datasets import load_diabetes

from tests.services.training.jobs import (
    XGBOOST_IMAGE,
    channel,
    csv_bytes,
    job_request,
    unique,
    wait_for,
)

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
CALLER_ARN = "arn:aws:sts::123456789012:assumed-role/SageMakerExecutionRole/sagebox"


@dataclass(frozen=True)
class RegistryModel:
    """A trained model: where its artifact is, and the booster to compare predictions with."""

    model_data: str
    booster: xgboost.Booster
    features: np.ndarray

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.booster.predict(xgboost.DMatrix(np.atleast_2d(rows)))


def inference_specification(model_data: str, **extra: Any) -> dict[str, Any]:
    return {
        "Containers": [{"Image": XGBOOST_IMAGE, "ModelDataUrl": model_data}],
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"],
        **extra,
    }


def csv_rows(rows: np.ndarray) -> bytes:
    buffer = io.StringIO()
    np.savetxt(buffer, np.atleast_2d(rows), delimiter=",", fmt="%.10g")
    return buffer.getvalue().encode()


def predictions(body: bytes) -> np.ndarray:
    return np.array([float(v) for v in body.decode().replace("\n", ",").split(",") if v.strip()])


@pytest.fixture(scope="session")
def registry_bucket(s3: Any) -> str:
    bucket = unique("registry")
    s3.create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(scope="session")
def registry_model(sagemaker: Any, s3: Any, registry_bucket: str) -> RegistryModel:
    """XGBoost trained through CreateTrainingJob on a slice of the diabetes data (a few seconds)."""
    data = load_diabetes()
    x, y = data.data[:200], data.target[:200]
    s3.put_object(Bucket=registry_bucket, Key="train/data.csv", Body=csv_bytes(x, y))
    job = unique("registry-train")
    sagemaker.create_training_job(
        **job_request(
            job, registry_bucket, [channel("train", f"s3://{registry_bucket}/train/")],
            HyperParameters={"objective": "reg:squarederror", "num_round": "8", "max_depth": "3"},
        )
    )
    described = wait_for(sagemaker, job)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    model_data = described["ModelArtifacts"]["S3ModelArtifacts"]
    key = model_data.split("/", 3)[3]
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=registry_bucket, Key=key)["Body"].read())) as tar:
        member = tar.extractfile("xgboost-model")
        assert member is not None
        booster = xgboost.Booster(model_file=bytearray(member.read()))
    return RegistryModel(model_data, booster, x)


@pytest.fixture()
def group(sagemaker: Any) -> str:
    """A new, empty model package group."""
    name = unique("group")
    sagemaker.create_model_package_group(ModelPackageGroupName=name, ModelPackageGroupDescription="test group")
    return name
