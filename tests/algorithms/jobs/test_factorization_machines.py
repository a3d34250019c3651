"""SageMaker Factorization Machines through boto3: train (RecordIO and CSV), deploy, invoke, transform."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from botocore.exceptions import ClientError

from sagebox.algorithms.factorization_machines.model import FactorizationMachine
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

REPOSITORY = "factorization-machines"
HYPERPARAMETERS = {
    "feature_dim": "30",
    "num_factors": "4",
    "predictor_type": "binary_classifier",
    "epochs": "6",
    "mini_batch_size": "64",
    "linear_lr": "0.02",
    "factors_lr": "0.02",
    "factors_init_sigma": "0.1",
}


def data(seed: int = 0, rows: int = 900) -> tuple[sp.csr_matrix, np.ndarray]:
    """Two one-hot fields (10 + 20 columns); the label is an interaction of the two."""
    rng = np.random.default_rng(seed)
    first, second = rng.integers(0, 10, rows), rng.integers(0, 20, rows)
    columns = np.column_stack([first, 10 + second]).ravel()
    matrix = sp.csr_matrix(
        (np.ones(2 * rows, dtype=np.float32), (np.repeat(np.arange(rows), 2), columns)),
        shape=(rows, 30),
    )
    return matrix, ((first % 2) == (second % 2)).astype(np.float32)


def model_of(s3: Any, trained: Trained) -> FactorizationMachine:
    files = model_files(s3, trained)
    with np.load(io.BytesIO(files["factorization_machines.npz"]), allow_pickle=False) as archive:
        settings = json.loads(str(archive["__settings__"]))
        arrays = {k: archive[k] for k in archive.files if k != "__settings__"}
    return FactorizationMachine.from_arrays(arrays, settings["predictor_type"])


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    return make_bucket(s3, "fm")


@pytest.fixture(scope="module")
def recordio_job(sagemaker: Any, s3: Any, bucket: str) -> Trained:
    rows, labels = data()
    channels = {
        "train": (
            put(s3, bucket, "rec/train/rows.rec", recordio_rows(rows[:700], labels[:700])),
            RECORDIO,
        ),
        "test": (
            put(s3, bucket, "rec/test/rows.rec", recordio_rows(rows[700:], labels[700:])),
            RECORDIO,
        ),
    }
    return train(sagemaker, REPOSITORY, bucket, HYPERPARAMETERS, channels)


@pytest.fixture(scope="module")
def endpoint(sagemaker: Any, recordio_job: Trained) -> Iterator[str]:
    name = deploy(sagemaker, create_model(sagemaker, REPOSITORY, recordio_job))
    yield name
    delete_endpoint(sagemaker, name)


def expected_answers(model: FactorizationMachine, rows: Any) -> list[dict[str, Any]]:
    predicted = model.predict(rows)
    return [
        {"score": score, "predicted_label": label}
        for score, label in zip(
            predicted["score"].tolist(), predicted["predicted_label"].tolist(), strict=True
        )
    ]


def test_sparse_recordio_training_reports_the_binary_metrics(
    s3: Any, recordio_job: Trained
) -> None:
    rows, labels = data()
    metrics = recordio_job.metrics()
    predicted = model_of(s3, recordio_job).predict(rows[700:])
    accuracy = float(np.mean(predicted["predicted_label"] == labels[700:]))
    assert metrics["test:binary_classification_accuracy"] == pytest.approx(accuracy)
    assert accuracy > 0.9
    assert metrics["test:binary_f_beta"] > 0.9
    assert 0 < metrics["test:binary_classification_cross_entropy"] < 0.5
    assert "train:binary_classification_accuracy" in metrics
    assert metrics["train:progress"] == 100.0


def test_csv_regressor_reports_test_rmse(sagemaker: Any, s3: Any, bucket: str) -> None:
    rows, labels = data(1, 600)
    target = 2 * labels - 1  # +-1 by the interaction
    dense = rows.toarray()
    channels = {
        "train": (
            put(s3, bucket, "csv/train/rows.csv", csv_rows(dense[:500], target[:500])),
            "text/csv",
        ),
        "test": (
            put(s3, bucket, "csv/test/rows.csv", csv_rows(dense[500:], target[500:])),
            "text/csv",
        ),
    }
    hyperparameters = {**HYPERPARAMETERS, "predictor_type": "regressor", "epochs": "10"}
    trained = train(sagemaker, REPOSITORY, bucket, hyperparameters, channels)
    metrics = trained.metrics()
    model = model_of(s3, trained)
    rmse = float(np.sqrt(np.mean((model.predict(rows[500:])["score"] - target[500:]) ** 2)))
    assert metrics["test:rmse"] == pytest.approx(rmse, rel=1e-6)
    assert rmse < 0.5 and "train:rmse" in metrics


def test_a_bad_hyperparameter_is_refused_at_create_time(sagemaker: Any, bucket: str) -> None:
    request = training_request(
        unique("fm"),
        REPOSITORY,
        bucket,
        {**HYPERPARAMETERS, "factors_init_method": "uniform"},
        {"train": (f"s3://{bucket}/rec/train", RECORDIO)},
    )
    with pytest.raises(ClientError) as caught:
        sagemaker.create_training_job(**request)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "factors_init_scale" in error["Message"] and "uniform" in error["Message"]


def test_a_bad_record_fails_the_job_naming_file_and_line(
    sagemaker: Any, s3: Any, bucket: str
) -> None:
    body = b"1" + b",0" * 30 + b"\n0" + b",1" * 30 + b"\n1,0,x" + b",0" * 28 + b"\n"
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
    assert "train/rows.csv line 3, column 3" in reason and "'x'" in reason, reason


def test_the_endpoint_answers_in_every_content_type(
    runtime: Any, s3: Any, recordio_job: Trained, endpoint: str
) -> None:
    rows, _ = data(2, 6)
    expected = expected_answers(model_of(s3, recordio_job), rows)
    dense = rows.toarray()
    body, content_type = invoke(runtime, endpoint, csv_rows(dense), "text/csv")
    assert content_type == "application/json" and json_predictions(body) == expected
    sparse = {
        "instances": [
            {
                "data": {
                    "features": {
                        "keys": row.indices.tolist(),
                        "values": row.data.tolist(),
                        "shape": [30],
                    }
                }
            }
            for row in rows
        ]
    }
    body, _ = invoke(runtime, endpoint, json.dumps(sparse).encode(), "application/json")
    assert json_predictions(body) == expected
    lines = "".join(json.dumps({"features": row.tolist()}) + "\n" for row in dense).encode()
    body, _ = invoke(runtime, endpoint, lines, "application/jsonlines", "application/jsonlines")
    assert jsonlines_predictions(body) == expected
    body, _ = invoke(runtime, endpoint, recordio_rows(rows), RECORDIO, RECORDIO)
    answers = recordio_predictions(body)
    np.testing.assert_array_equal(
        [a["score"][0] for a in answers], np.float32([e["score"] for e in expected])
    )
    assert [a["predicted_label"][0] for a in answers] == [e["predicted_label"] for e in expected]
    body, _ = invoke(runtime, endpoint, csv_rows(dense[:2]), "text/csv", "text/csv")
    assert body.decode().splitlines() == [
        f"{e['score']!r},{e['predicted_label']}" for e in expected[:2]
    ]


def test_batch_transform(sagemaker: Any, s3: Any, bucket: str, recordio_job: Trained) -> None:
    rows, _ = data(3, 50)
    model = create_model(sagemaker, REPOSITORY, recordio_job)
    output = transform(sagemaker, s3, model, bucket, csv_rows(rows.toarray()))
    assert jsonlines_predictions(output) == expected_answers(model_of(s3, recordio_job), rows)
