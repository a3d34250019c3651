"""SageMaker k-NN through boto3: train (CSV and RecordIO), deploy, invoke, transform."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.datasets import load_diabetes, load_digits

from sagebox.algorithms.knn.model import KnnModel
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

REPOSITORY = "knn"
CLASSIFIER = {
    "feature_dim": "64",
    "k": "5",
    "predictor_type": "classifier",
    "sample_size": "1000",
    "mini_batch_size": "128",
}
REGRESSOR = {"feature_dim": "10", "k": "7", "predictor_type": "regressor", "sample_size": "500"}


def digits() -> tuple[np.ndarray, np.ndarray]:
    """Digits: integer pixels, which every request format carries exactly."""
    features, labels = load_digits(return_X_y=True)
    return features[:500].astype(np.float32), labels[:500].astype(np.float32)


def diabetes() -> tuple[np.ndarray, np.ndarray]:
    """Diabetes scaled by 100 in eighths: exact in CSV text and float32."""
    features, target = load_diabetes(return_X_y=True)
    return (np.round(features * 800) / 8).astype(np.float32), target.astype(np.float32)


def model_of(s3: Any, trained: Trained) -> KnnModel:
    files = model_files(s3, trained)
    with np.load(io.BytesIO(files["model_algo-1.npz"]), allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    settings = json.loads(str(arrays.pop("__settings__")))
    return KnnModel.from_saved(arrays, settings)


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    return make_bucket(s3, "knn")


@pytest.fixture(scope="module")
def csv_job(sagemaker: Any, s3: Any, bucket: str) -> Trained:
    features, labels = digits()
    channels = {
        "train": (
            put(s3, bucket, "csv/train/rows.csv", csv_rows(features[:400], labels[:400])),
            "text/csv",
        ),
        "test": (
            put(s3, bucket, "csv/test/rows.csv", csv_rows(features[400:], labels[400:])),
            "text/csv",
        ),
    }
    return train(sagemaker, REPOSITORY, bucket, CLASSIFIER, channels)


@pytest.fixture(scope="module")
def endpoint(sagemaker: Any, csv_job: Trained) -> Iterator[str]:
    name = deploy(sagemaker, create_model(sagemaker, REPOSITORY, csv_job))
    yield name
    delete_endpoint(sagemaker, name)


def test_csv_classifier_reports_test_accuracy(s3: Any, csv_job: Trained) -> None:
    features, labels = digits()
    model = model_of(s3, csv_job)
    assert model.num_points == 400
    predicted = model.predict(features[400:]).predicted_label
    assert csv_job.metrics()["test:accuracy"] == pytest.approx(np.mean(predicted == labels[400:]))
    assert csv_job.metrics()["test:accuracy"] > 0.8


def test_recordio_regressor_reports_test_mse(sagemaker: Any, s3: Any, bucket: str) -> None:
    features, target = diabetes()
    channels = {
        "train": (
            put(s3, bucket, "rec/train/rows.rec", recordio_rows(features[:350], target[:350])),
            RECORDIO,
        ),
        "test": (
            put(s3, bucket, "rec/test/rows.rec", recordio_rows(features[350:], target[350:])),
            RECORDIO,
        ),
    }
    trained = train(sagemaker, REPOSITORY, bucket, REGRESSOR, channels)
    predicted = model_of(s3, trained).predict(features[350:]).predicted_label
    mse = float(np.mean((predicted - target[350:].astype(np.float64)) ** 2))
    assert trained.metrics()["test:mse"] == pytest.approx(mse, rel=1e-12)


def test_a_bad_hyperparameter_is_refused_at_create_time(sagemaker: Any, bucket: str) -> None:
    request = training_request(
        unique("knn"),
        REPOSITORY,
        bucket,
        {**CLASSIFIER, "index_type": "faiss.IVFPQ", "index_metric": "COSINE"},
        {"train": (f"s3://{bucket}/csv/train", "text/csv")},
    )
    with pytest.raises(ClientError) as caught:
        sagemaker.create_training_job(**request)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "index_metric" in error["Message"] and "COSINE" in error["Message"]


def test_a_bad_record_fails_the_job_naming_file_and_line(
    sagemaker: Any, s3: Any, bucket: str
) -> None:
    body = b"1,0,1\n0,1,1\n1,x,0\n"
    uri = put(s3, bucket, "bad/train/rows.csv", body)
    hyperparameters = {**CLASSIFIER, "feature_dim": "2", "k": "1"}
    trained = train(
        sagemaker,
        REPOSITORY,
        bucket,
        hyperparameters,
        {"train": (uri, "text/csv")},
        expect="Failed",
    )
    reason = trained.described["FailureReason"]
    assert "train/rows.csv line 3, column 2" in reason and "'x'" in reason


def test_the_endpoint_answers_in_every_content_type(
    runtime: Any, s3: Any, csv_job: Trained, endpoint: str
) -> None:
    features, _ = digits()
    rows = features[400:460]
    prediction = model_of(s3, csv_job).predict(rows)
    labels = prediction.predicted_label.astype(np.float32)
    expected = [{"predicted_label": float(label)} for label in labels]
    body, content_type = invoke(runtime, endpoint, csv_rows(rows), "text/csv")
    assert content_type == "application/json" and json_predictions(body) == expected
    instances = json.dumps({"instances": [{"features": row.tolist()} for row in rows]})
    body, _ = invoke(runtime, endpoint, instances.encode(), "application/json")
    assert json_predictions(body) == expected
    lines = "".join(json.dumps({"features": row.tolist()}) + "\n" for row in rows).encode()
    body, _ = invoke(runtime, endpoint, lines, "application/jsonlines", "application/jsonlines")
    assert jsonlines_predictions(body) == expected
    body, _ = invoke(runtime, endpoint, recordio_rows(rows), RECORDIO, RECORDIO)
    np.testing.assert_array_equal(
        [a["predicted_label"][0] for a in recordio_predictions(body)], labels
    )
    body, _ = invoke(runtime, endpoint, csv_rows(rows[:3]), "text/csv", "text/csv")
    assert body.decode().splitlines() == [repr(float(label)) for label in labels[:3]]


def test_the_verbose_answer_lists_neighbors_nearest_first(
    runtime: Any, s3: Any, csv_job: Trained, endpoint: str
) -> None:
    features, _ = digits()
    rows = features[400:405]
    prediction = model_of(s3, csv_job).predict(rows)
    body, _ = invoke(
        runtime, endpoint, csv_rows(rows), "text/csv", "application/json; verbose=true"
    )
    answers = json_predictions(body)
    for answer, label, distances, neighbors in zip(
        answers, prediction.predicted_label, prediction.distances, prediction.labels, strict=True
    ):
        assert answer == {
            "predicted_label": float(np.float32(label)),
            "distances": distances.astype(np.float32).tolist(),
            "labels": neighbors.astype(np.float32).tolist(),
        }
        assert answer["distances"] == sorted(answer["distances"]) and len(answer["labels"]) == 5


def test_batch_transform(sagemaker: Any, s3: Any, bucket: str, csv_job: Trained) -> None:
    features, _ = digits()
    model = create_model(sagemaker, REPOSITORY, csv_job)
    output = transform(sagemaker, s3, model, bucket, csv_rows(features[400:]))
    labels = model_of(s3, csv_job).predict(features[400:]).predicted_label.astype(np.float32)
    assert [a["predicted_label"] for a in jsonlines_predictions(output)] == labels.tolist()
