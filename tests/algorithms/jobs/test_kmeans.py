"""SageMaker K-Means through boto3: train (CSV and RecordIO), deploy, invoke, transform."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.datasets import load_iris

from tests.algorithms.jobs.workflow import (
    RECORDIO,
    Trained,
    create_model,
    csv_rows,
    delete_endpoint,
    deploy,
    invoke,
    json_predictions,
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

REPOSITORY = "kmeans"
HYPERPARAMETERS = {
    "k": "3",
    "feature_dim": "4",
    "init_method": "kmeans++",
    "mini_batch_size": "50",
    "epochs": "2",
    "eval_metrics": '["msd", "ssd"]',
}


def iris() -> tuple[np.ndarray, np.ndarray]:
    """Iris in eighths: values every request format carries exactly (CSV text included)."""
    rows = (np.round(load_iris().data * 8) / 8).astype(np.float32)
    rows = rows[np.random.default_rng(0).permutation(len(rows))]
    return rows[:120], rows[120:]


def centroids_of(s3: Any, trained: Trained) -> np.ndarray:
    files = model_files(s3, trained)
    with np.load(io.BytesIO(files["model_algo-1.npz"]), allow_pickle=False) as archive:
        return archive["centroids"].astype(np.float64)


def assign(rows: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(closest_cluster, distance_to_cluster) as the model answers, float32."""
    squared = ((rows.astype(np.float64)[:, None, :] - centroids[None]) ** 2).sum(axis=2)
    return (
        squared.argmin(axis=1).astype(np.float32),
        np.sqrt(squared.min(axis=1)).astype(np.float32),
    )


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    return make_bucket(s3, "kmeans")


@pytest.fixture(scope="module")
def csv_job(sagemaker: Any, s3: Any, bucket: str) -> Trained:
    train_rows, test_rows = iris()
    channels = {
        "train": (put(s3, bucket, "csv/train/rows.csv", csv_rows(train_rows)), "text/csv"),
        "test": (put(s3, bucket, "csv/test/rows.csv", csv_rows(test_rows)), "text/csv"),
    }
    return train(sagemaker, REPOSITORY, bucket, HYPERPARAMETERS, channels)


@pytest.fixture(scope="module")
def endpoint(sagemaker: Any, csv_job: Trained) -> Iterator[str]:
    name = deploy(sagemaker, create_model(sagemaker, REPOSITORY, csv_job))
    yield name
    delete_endpoint(sagemaker, name)


def test_csv_training_reports_sagemakers_metrics(s3: Any, csv_job: Trained) -> None:
    _, test_rows = iris()
    centroids = centroids_of(s3, csv_job)
    assert centroids.shape == (3, 4)
    _, distances = assign(test_rows, centroids)
    squared = ((test_rows.astype(np.float64)[:, None, :] - centroids[None]) ** 2).sum(2).min(1)
    metrics = csv_job.metrics()
    assert metrics["test:msd"] == pytest.approx(squared.mean(), rel=1e-5)
    assert metrics["test:ssd"] == pytest.approx(squared.sum(), rel=1e-5)
    assert metrics["train:progress"] == 100.0
    assert len(distances) == len(test_rows)


def test_recordio_training_gives_the_same_model(
    sagemaker: Any, s3: Any, bucket: str, csv_job: Trained
) -> None:
    train_rows, test_rows = iris()
    channels = {
        "train": (put(s3, bucket, "rec/train/rows.rec", recordio_rows(train_rows)), RECORDIO),
        "test": (put(s3, bucket, "rec/test/rows.rec", recordio_rows(test_rows)), RECORDIO),
    }
    trained = train(sagemaker, REPOSITORY, bucket, HYPERPARAMETERS, channels)
    np.testing.assert_array_equal(centroids_of(s3, trained), centroids_of(s3, csv_job))
    assert trained.metrics()["test:msd"] == csv_job.metrics()["test:msd"]


def test_a_bad_hyperparameter_is_refused_at_create_time(sagemaker: Any, bucket: str) -> None:
    request = training_request(
        unique("kmeans"),
        REPOSITORY,
        bucket,
        {**HYPERPARAMETERS, "extra_center_factor": "many"},
        {"train": (f"s3://{bucket}/csv/train", "text/csv")},
    )
    with pytest.raises(ClientError) as caught:
        sagemaker.create_training_job(**request)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "extra_center_factor" in error["Message"] and "'auto'" in error["Message"]


def test_a_bad_record_fails_the_job_naming_file_and_line(
    sagemaker: Any, s3: Any, bucket: str
) -> None:
    body = b"5.1,3.5,1.4,0.2\n4.9,3.0,1.4,0.2\n6.2,x,5.4,2.3\n"
    uri = put(s3, bucket, "bad/train/rows.csv", body)
    trained = train(
        sagemaker,
        REPOSITORY,
        bucket,
        HYPERPARAMETERS,
        {"train": (uri, "text/csv")},
        expect="Failed",
    )
    reason = trained.described["FailureReason"]
    assert "train/rows.csv line 3, column 2: 'x' is not a number" in reason


def test_the_endpoint_answers_in_every_content_type(
    runtime: Any, s3: Any, csv_job: Trained, endpoint: str
) -> None:
    _, rows = iris()
    labels, distances = assign(rows, centroids_of(s3, csv_job))
    expected = [
        {"closest_cluster": float(label), "distance_to_cluster": float(distance)}
        for label, distance in zip(labels, distances, strict=True)
    ]
    body, content_type = invoke(runtime, endpoint, csv_rows(rows), "text/csv")
    assert content_type == "application/json" and json_predictions(body) == expected
    instances = json.dumps({"instances": [{"features": row.tolist()} for row in rows]})
    body, _ = invoke(runtime, endpoint, instances.encode(), "application/json")
    assert json_predictions(body) == expected
    lines = "".join(json.dumps({"features": row.tolist()}) + "\n" for row in rows).encode()
    body, _ = invoke(runtime, endpoint, lines, "application/jsonlines", "application/jsonlines")
    assert jsonlines_predictions(body) == expected
    body, _ = invoke(runtime, endpoint, recordio_rows(rows), RECORDIO, RECORDIO)
    answers = recordio_predictions(body)
    np.testing.assert_array_equal([a["closest_cluster"][0] for a in answers], labels)
    np.testing.assert_array_equal([a["distance_to_cluster"][0] for a in answers], distances)
    body, _ = invoke(runtime, endpoint, csv_rows(rows[:2]), "text/csv", "text/csv")
    assert body.decode().splitlines() == [
        f"{float(labels[i])!r},{float(distances[i])!r}" for i in range(2)
    ]


def test_batch_transform(sagemaker: Any, s3: Any, bucket: str, csv_job: Trained) -> None:
    train_rows, _ = iris()
    model = create_model(sagemaker, REPOSITORY, csv_job)
    output = transform(sagemaker, s3, model, bucket, csv_rows(train_rows))
    labels, distances = assign(train_rows, centroids_of(s3, csv_job))
    answers = jsonlines_predictions(output)
    assert [a["closest_cluster"] for a in answers] == labels.tolist()
    assert [a["distance_to_cluster"] for a in answers] == distances.tolist()
