"""SageMaker Linear Learner through boto3: train (CSV and RecordIO), deploy, invoke, transform."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.datasets import load_breast_cancer, load_diabetes

from sagebox.algorithms.amazon.model_io import load_model
from sagebox.algorithms.linear_learner.model import MODEL_NAME, LinearModel
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

REPOSITORY = "linear-learner"
BINARY = {
    "predictor_type": "binary_classifier",
    "mini_batch_size": "50",
    "epochs": "6",
    "num_models": "8",
}
REGRESSOR = {"predictor_type": "regressor", "mini_batch_size": "40", "epochs": "6"}


def eighths(features: np.ndarray) -> np.ndarray:
    """Features rounded to eighths: values every request format carries exactly."""
    return (np.round(features * 8) / 8).astype(np.float32)


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    features, labels = load_breast_cancer(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(labels))
    return eighths(features[order]), labels[order].astype(np.float32)


def model_of(s3: Any, trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> LinearModel:
    folder = tmp_path_factory.mktemp("model")
    (folder / f"{MODEL_NAME}.npz").write_bytes(model_files(s3, trained)[f"{MODEL_NAME}.npz"])
    return LinearModel.from_saved(*load_model(folder, MODEL_NAME))


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    return make_bucket(s3, "linear-learner")


@pytest.fixture(scope="module")
def csv_job(sagemaker: Any, s3: Any, bucket: str) -> Trained:
    features, labels = breast_cancer()
    channels = {
        "train": (
            put(s3, bucket, "csv/train/rows.csv", csv_rows(features[:380], labels[:380])),
            "text/csv",
        ),
        "validation": (
            put(
                s3, bucket, "csv/validation/rows.csv", csv_rows(features[380:480], labels[380:480])
            ),
            "text/csv",
        ),
        "test": (
            put(s3, bucket, "csv/test/rows.csv", csv_rows(features[480:], labels[480:])),
            "text/csv",
        ),
    }
    return train(sagemaker, REPOSITORY, bucket, BINARY, channels)


@pytest.fixture(scope="module")
def binary_model(
    s3: Any, csv_job: Trained, tmp_path_factory: pytest.TempPathFactory
) -> LinearModel:
    return model_of(s3, csv_job, tmp_path_factory)


@pytest.fixture(scope="module")
def endpoint(sagemaker: Any, csv_job: Trained) -> Iterator[str]:
    name = deploy(sagemaker, create_model(sagemaker, REPOSITORY, csv_job))
    yield name
    delete_endpoint(sagemaker, name)


def test_csv_training_reports_sagemakers_metrics(
    csv_job: Trained, binary_model: LinearModel
) -> None:
    features, labels = breast_cancer()
    metrics = csv_job.metrics()
    predicted = binary_model.predict(features[480:])["predicted_label"]
    accuracy = float(np.mean(predicted == labels[480:]))
    assert metrics["test:binary_classification_accuracy"] == pytest.approx(accuracy)
    assert accuracy > 0.9
    for name in (
        "train:objective_loss",
        "validation:objective_loss",
        "validation:binary_f_beta",
        "validation:precision",
        "validation:recall",
        "test:roc_auc_score",
        "test:objective_loss",
    ):
        assert name in metrics, name
    assert metrics["train:progress"] == 100.0


def test_recordio_regression_training(
    sagemaker: Any, s3: Any, bucket: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    features, labels = load_diabetes(return_X_y=True)
    features, labels = features.astype(np.float32), labels.astype(np.float32)
    channels = {
        "train": (
            put(s3, bucket, "rec/train/rows.rec", recordio_rows(features[:360], labels[:360])),
            RECORDIO,
        ),
        "test": (
            put(s3, bucket, "rec/test/rows.rec", recordio_rows(features[360:], labels[360:])),
            RECORDIO,
        ),
    }
    trained = train(sagemaker, REPOSITORY, bucket, REGRESSOR, channels)
    predicted = model_of(s3, trained, tmp_path_factory).predict(features[360:])["score"]
    mse = float(np.mean((predicted - labels[360:]) ** 2))
    metrics = trained.metrics()
    assert metrics["test:mse"] == pytest.approx(mse, rel=1e-6)
    assert metrics["test:rmse"] == pytest.approx(np.sqrt(mse), rel=1e-6)
    assert metrics["test:rmse"] < 0.85 * float(np.std(labels[360:]))
    assert "test:absolute_loss" in metrics


def test_a_bad_hyperparameter_is_refused_at_create_time(sagemaker: Any, bucket: str) -> None:
    request = training_request(
        unique("ll"),
        REPOSITORY,
        bucket,
        {**BINARY, "optimizer": "adagrad"},
        {"train": (f"s3://{bucket}/csv/train", "text/csv")},
    )
    with pytest.raises(ClientError) as caught:
        sagemaker.create_training_job(**request)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "optimizer" in error["Message"] and "'adam'" in error["Message"]


def test_a_bad_record_fails_the_job_naming_file_and_line(
    sagemaker: Any, s3: Any, bucket: str
) -> None:
    uri = put(s3, bucket, "bad/train/rows.csv", b"1,0.5,0.25\n0,0.5,1.5\n3,0.25,0.5\n")
    trained = train(
        sagemaker, REPOSITORY, bucket, BINARY, {"train": (uri, "text/csv")}, expect="Failed"
    )
    reason = trained.described["FailureReason"]
    assert "train/rows.csv line 3: label 3 is not allowed" in reason


def test_the_endpoint_answers_in_every_content_type(
    runtime: Any, endpoint: str, binary_model: LinearModel
) -> None:
    features, _ = breast_cancer()
    rows = features[480:500]
    outputs = binary_model.predict(rows.astype(np.float64))
    expected = [
        {"score": pytest.approx(float(score), rel=1e-12), "predicted_label": int(label)}
        for score, label in zip(outputs["score"], outputs["predicted_label"], strict=True)
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
    np.testing.assert_allclose(
        [a["score"][0] for a in answers], outputs["score"].astype(np.float32), rtol=1e-6
    )
    assert [a["predicted_label"][0] for a in answers] == outputs["predicted_label"].tolist()
    body, _ = invoke(runtime, endpoint, csv_rows(rows[:2]), "text/csv", "text/csv")
    lines = body.decode().splitlines()
    assert [line.split(",")[1] for line in lines] == [
        str(v) for v in outputs["predicted_label"][:2]
    ]
    np.testing.assert_allclose(
        [float(line.split(",")[0]) for line in lines], outputs["score"][:2], rtol=1e-12
    )


def test_batch_transform(
    sagemaker: Any, s3: Any, bucket: str, csv_job: Trained, binary_model: LinearModel
) -> None:
    features, _ = breast_cancer()
    rows = features[:60]
    model = create_model(sagemaker, REPOSITORY, csv_job)
    output = transform(sagemaker, s3, model, bucket, csv_rows(rows))
    answers = jsonlines_predictions(output)
    outputs = binary_model.predict(rows.astype(np.float64))
    assert [a["predicted_label"] for a in answers] == outputs["predicted_label"].tolist()
    np.testing.assert_allclose([a["score"] for a in answers], outputs["score"], rtol=1e-12)
