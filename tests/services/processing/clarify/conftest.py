"""A tiny loan-style data set in S3 and an XGBoost model trained on it through the training API,
for Clarify jobs run with the SageMaker Python SDK v2."""

from __future__ import annotations

import io
import itertools
import json
import math
import tarfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost

from tests.services.training.jobs import (
    XGBOOST_IMAGE,
    channel,
    csv_bytes,
    job_request,
    unique,
    wait_for,
)

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
FEATURES = ["Age", "Gender", "Income", "Dept"]


@dataclass(frozen=True)
class ClarifyData:
    bucket: str
    frame: pd.DataFrame
    data_uri: str
    model_name: str
    booster: xgboost.Booster

    @property
    def features(self) -> np.ndarray:
        return self.frame[FEATURES].to_numpy(dtype=float)

    def probabilities(self, rows: np.ndarray | None = None) -> np.ndarray:
        return self.booster.predict(xgboost.DMatrix(self.features if rows is None else rows))

    def margins(self, rows: np.ndarray) -> np.ndarray:
        return self.booster.predict(xgboost.DMatrix(rows), output_margin=True)


def loan_frame(rows: int = 300, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = rng.integers(0, 2, rows)
    age = rng.integers(18, 80, rows)
    income = np.round(rng.normal(50, 15, rows), 2)
    dept = rng.integers(0, 3, rows)
    logit = -3.0 + 0.03 * age + 0.8 * gender + 0.02 * income - 0.3 * dept
    target = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"Target": target, "Age": age, "Gender": gender, "Income": income, "Dept": dept})


@pytest.fixture(scope="session")
def clarify_data(sagemaker: Any, s3: Any) -> ClarifyData:
    bucket = unique("clarify")
    s3.create_bucket(Bucket=bucket)
    frame = loan_frame()
    s3.put_object(Bucket=bucket, Key="data/loans.csv", Body=frame.to_csv(index=False).encode())
    s3.put_object(Bucket=bucket, Key="train/train.csv", Body=csv_bytes(frame[FEATURES].to_numpy(float), frame["Target"].to_numpy(float)))
    job = unique("clarify-train")
    sagemaker.create_training_job(
        **job_request(
            job, bucket, [channel("train", f"s3://{bucket}/train/")],
            HyperParameters={"objective": "binary:logistic", "num_round": "15", "max_depth": "3"},
        )
    )
    described = wait_for(sagemaker, job)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    model_data = described["ModelArtifacts"]["S3ModelArtifacts"]
    body = s3.get_object(Bucket=bucket, Key=model_data.split("/", 3)[3])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        member = tar.extractfile("xgboost-model")
        assert member is not None
        booster = xgboost.Booster(model_file=bytearray(member.read()))
    model_name = unique("clarify-model")
    sagemaker.create_model(ModelName=model_name, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": model_data})
    return ClarifyData(bucket, frame, f"s3://{bucket}/data/loans.csv", model_name, booster)


@pytest.fixture(scope="session")
def sdk_session(sagebox_server: Any) -> Any:
    import sagemaker

    return sagemaker.Session()


def processor(session: Any) -> Any:
    from sagemaker.clarify import SageMakerClarifyProcessor

    return SageMakerClarifyProcessor(
        role=ROLE, instance_count=1, instance_type="ml.m5.xlarge", sagemaker_session=session, max_runtime_in_seconds=600
    )


def read_json(s3: Any, uri: str) -> dict[str, Any]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def read_bytes(s3: Any, uri: str) -> bytes:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def metrics(section: dict[str, Any], facet: str, index: int = 0) -> dict[str, Any]:
    return {m["name"]: m["value"] for m in section["facets"][facet][index]["metrics"]}


def exact_shapley(value: Any, row: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Interventional Shapley values of `value` (rows -> outputs) at `row`, enumerating every
    subset: phi_i = sum_S |S|!(M-|S|-1)!/M! (v(S+i) - v(S)), v(S) = mean_b value(row_S, b_rest)."""
    width = len(row)

    def v(subset: tuple[int, ...]) -> float:
        mixed = baseline.copy()
        mixed[:, list(subset)] = row[list(subset)]
        return float(np.mean(value(mixed)))

    phi = np.zeros(width)
    for i in range(width):
        others = [j for j in range(width) if j != i]
        for size in range(width):
            weight = math.factorial(size) * math.factorial(width - size - 1) / math.factorial(width)
            for subset in itertools.combinations(others, size):
                phi[i] += weight * (v((*subset, i)) - v(subset))
    return phi
