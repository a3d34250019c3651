"""Trained models to deploy: XGBoost jobs run through the training API first."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import xgboost
from sklearn.datasets import load_diabetes

from tests.services.training.jobs import channel, csv_bytes, job_request, unique, wait_for


@dataclass(frozen=True)
class TrainedModel:
    model_name: str
    model_data: str
    booster: xgboost.Booster
    features: np.ndarray


def train_model(sagemaker: Any, s3: Any, bucket: str, x: np.ndarray, y: np.ndarray, num_round: int) -> TrainedModel:
    prefix = unique("data")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/train/data.csv", Body=csv_bytes(x, y))
    job = unique("host-train")
    sagemaker.create_training_job(
        **job_request(
            job, bucket, [channel("train", f"s3://{bucket}/{prefix}/train/")],
            HyperParameters={"objective": "reg:squarederror", "num_round": str(num_round), "max_depth": "3"},
        )
    )
    described = wait_for(sagemaker, job)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    model_data = described["ModelArtifacts"]["S3ModelArtifacts"]
    key = model_data.split("/", 3)[3]
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) as tar:
        booster = xgboost.Booster(model_file=bytearray(tar.extractfile("xgboost-model").read()))
    model_name = unique("model")
    sagemaker.create_model(
        ModelName=model_name,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
        PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", "ModelDataUrl": model_data},
    )
    return TrainedModel(model_name, model_data, booster, x)


@pytest.fixture(scope="session")
def hosting_bucket(s3: Any) -> str:
    bucket = unique("hosting")
    s3.create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(scope="session")
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    data = load_diabetes()
    return data.data.astype(np.float64), data.target.astype(np.float64)


@pytest.fixture(scope="session")
def model_a(sagemaker: Any, s3: Any, hosting_bucket: str, diabetes: tuple[np.ndarray, np.ndarray]) -> TrainedModel:
    return train_model(sagemaker, s3, hosting_bucket, *diabetes, num_round=20)


@pytest.fixture(scope="session")
def model_b(sagemaker: Any, s3: Any, hosting_bucket: str, diabetes: tuple[np.ndarray, np.ndarray]) -> TrainedModel:
    return train_model(sagemaker, s3, hosting_bucket, *diabetes, num_round=5)


def csv_rows(rows: np.ndarray) -> bytes:
    buffer = io.StringIO()
    np.savetxt(buffer, np.atleast_2d(rows), delimiter=",", fmt="%.10g")
    return buffer.getvalue().encode()


def predictions(body: bytes) -> np.ndarray:
    text = body.decode().strip()
    return np.array([float(v) for v in text.replace("\n", ",").split(",") if v])


def deploy(sagemaker: Any, variants: list[dict[str, Any]], **config_extra: Any) -> str:
    config = unique("config")
    sagemaker.create_endpoint_config(EndpointConfigName=config, ProductionVariants=variants, **config_extra)
    endpoint = unique("endpoint")
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return endpoint


def variant(name: str, model: TrainedModel, weight: float = 1.0, count: int = 1) -> dict[str, Any]:
    return {"VariantName": name, "ModelName": model.model_name, "InitialInstanceCount": count, "InstanceType": "ml.m5.large", "InitialVariantWeight": weight}
