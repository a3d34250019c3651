"""SageMaker PCA through boto3: train (CSV and RecordIO), deploy, invoke, transform."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from tests.algorithms.jobs.workflow import (
    RECORDIO,
    Trained,
    create_model,
    csv_rows,
    delete_endpoint,
    deploy,
    invoke,
    jsonlines_predictions,
    make_bucket,
    model_files,
    put,
    recordio_predictions,
    recordio_rows,
    train,
    training_request,
    transform,
)
from tests.services.training.jobs import unique

REPOSITORY = "pca"
HYPERPARAMETERS = {"feature_dim": "64", "num_components": "5", "mini_batch_size": "300"}


def digits() -> np.ndarray:
    """Digits: small integers, carried exactly by every request format."""
    return load_digits().data.astype(np.float32)


def model_of(s3: Any, trained: Trained) -> dict[str, np.ndarray]:
    files = model_files(s3, trained)
    with np.load(io.BytesIO(files["model_algo-1.npz"]), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files if not name.startswith("__")}


def projections(rows: np.ndarray, model: dict[str, np.ndarray]) -> list[list[float]]:
    """The model's answer for the rows: ``(x - mean) @ v`` as float32."""
    components = model["v"].astype(np.float64)
    projected = rows.astype(np.float64) @ components - model["mean"].astype(np.float64) @ components
    return projected.astype(np.float32).tolist()


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    return make_bucket(s3, "pca")


@pytest.fixture(scope="module")
def csv_job(sagemaker: Any, s3: Any, bucket: str) -> Trained:
    rows = digits()
    channels = {
        "train": (put(s3, bucket, "csv/train/rows.csv", csv_rows(rows)), "text/csv"),
        "test": (put(s3, bucket, "csv/test/rows.csv", csv_rows(rows[:100])), "text/csv"),
    }
    return train(sagemaker, REPOSITORY, bucket, HYPERPARAMETERS, channels)


@pytest.fixture(scope="module")
def endpoint(sagemaker: Any, csv_job: Trained) -> Iterator[str]:
    name = deploy(sagemaker, create_model(sagemaker, REPOSITORY, csv_job))
    yield name
    delete_endpoint(sagemaker, name)


def test_csv_training_saves_sagemakers_model(s3: Any, csv_job: Trained) -> None:
    model = model_of(s3, csv_job)
    rows = digits().astype(np.float64)
    reference = PCA(5, svd_solver="full").fit(rows)
    np.testing.assert_allclose(
        model["s"][::-1] ** 2 / (len(rows) - 1), reference.explained_variance_, rtol=1e-5
    )
    np.testing.assert_allclose(
        np.abs(model["v"][:, ::-1].T @ reference.components_.T), np.eye(5), atol=1e-5
    )
    assert csv_job.metrics() == {"train:progress": 100.0}


def test_randomized_recordio_training(
    sagemaker: Any, s3: Any, bucket: str, csv_job: Trained
) -> None:
    uri = put(s3, bucket, "rec/train/rows.rec", recordio_rows(digits()))
    hyperparameters = {**HYPERPARAMETERS, "algorithm_mode": "randomized"}
    trained = train(sagemaker, REPOSITORY, bucket, hyperparameters, {"train": (uri, RECORDIO)})
    randomized, regular = model_of(s3, trained), model_of(s3, csv_job)
    assert (randomized["s"] ** 2).sum() == pytest.approx((regular["s"] ** 2).sum(), rel=0.01)


def test_a_bad_hyperparameter_is_refused_at_create_time(sagemaker: Any, bucket: str) -> None:
    request = training_request(
        unique("pca"),
        REPOSITORY,
        bucket,
        {**HYPERPARAMETERS, "num_components": "65"},
        {"train": (f"s3://{bucket}/csv/train", "text/csv")},
    )
    with pytest.raises(ClientError) as caught:
        sagemaker.create_training_job(**request)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "num_components" in error["Message"] and "feature_dim (64)" in error["Message"]


def test_a_bad_record_fails_the_job_naming_file_and_record(
    sagemaker: Any, s3: Any, bucket: str
) -> None:
    uri = put(s3, bucket, "bad/train/rows.rec", recordio_rows(digits()[:10])[:-10])
    trained = train(
        sagemaker, REPOSITORY, bucket, HYPERPARAMETERS, {"train": (uri, RECORDIO)}, expect="Failed"
    )
    assert "train/rows.rec: record 10 (byte offset" in trained.described["FailureReason"]


def test_the_endpoint_answers_in_every_content_type(
    runtime: Any, s3: Any, csv_job: Trained, endpoint: str
) -> None:
    rows = digits()[:20]
    expected = projections(rows, model_of(s3, csv_job))
    body, content_type = invoke(runtime, endpoint, csv_rows(rows), "text/csv")
    assert content_type == "application/json"
    assert json.loads(body) == {"projections": [{"projection": p} for p in expected]}
    instances = json.dumps({"instances": [{"features": row.tolist()} for row in rows]})
    body, _ = invoke(runtime, endpoint, instances.encode(), "application/json")
    assert [p["projection"] for p in json.loads(body)["projections"]] == expected
    lines = "".join(json.dumps({"features": row.tolist()}) + "\n" for row in rows).encode()
    body, _ = invoke(runtime, endpoint, lines, "application/jsonlines", "application/jsonlines")
    assert [p["projection"] for p in jsonlines_predictions(body)] == expected
    body, _ = invoke(runtime, endpoint, recordio_rows(rows), RECORDIO, RECORDIO)
    assert [a["projection"].tolist() for a in recordio_predictions(body)] == expected
    body, _ = invoke(runtime, endpoint, csv_rows(rows[:2]), "text/csv", "text/csv")
    assert body.decode().splitlines() == [",".join(map(repr, p)) for p in expected[:2]]


def test_batch_transform(sagemaker: Any, s3: Any, bucket: str, csv_job: Trained) -> None:
    rows = digits()[:300]
    model = create_model(sagemaker, REPOSITORY, csv_job)
    output = transform(sagemaker, s3, model, bucket, csv_rows(rows))
    expected = projections(rows, model_of(s3, csv_job))
    assert [answer["projection"] for answer in jsonlines_predictions(output)] == expected
