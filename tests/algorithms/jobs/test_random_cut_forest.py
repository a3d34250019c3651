"""SageMaker Random Cut Forest through boto3: train (CSV and RecordIO), deploy, invoke, transform."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from sagebox.algorithms.random_cut_forest.forest import RandomCutForest
from sagebox.algorithms.random_cut_forest.scoring import ForestScorer
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

REPOSITORY = "randomcutforest"
HYPERPARAMETERS = {"feature_dim": "3", "num_trees": "50", "num_samples_per_tree": "64"}


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training rows, and labelled test rows (the last four are far-off anomalies).

    Values are multiples of 1/8, which every request format carries exactly.
    """
    rng = np.random.default_rng(0)
    train_rows = np.round(rng.normal(size=(300, 3)) * 8) / 8
    test_rows = np.vstack([np.round(rng.normal(size=(36, 3)) * 8) / 8, np.full((4, 3), 9.0)])
    labels = np.r_[np.zeros(36), np.ones(4)]
    return train_rows.astype(np.float32), test_rows.astype(np.float32), labels


def forest_of(s3: Any, trained: Trained) -> RandomCutForest:
    files = model_files(s3, trained)
    with np.load(io.BytesIO(files["random_cut_forest.npz"]), allow_pickle=False) as archive:
        return RandomCutForest.from_arrays(
            {k: archive[k] for k in archive.files if k != "__settings__"}
        )


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    return make_bucket(s3, "rcf")


@pytest.fixture(scope="module")
def csv_job(sagemaker: Any, s3: Any, bucket: str) -> Trained:
    train_rows, test_rows, labels = data()
    channels = {
        "train": (put(s3, bucket, "csv/train/rows.csv", csv_rows(train_rows)), "text/csv"),
        "test": (put(s3, bucket, "csv/test/rows.csv", csv_rows(test_rows, labels)), "text/csv"),
    }
    return train(sagemaker, REPOSITORY, bucket, HYPERPARAMETERS, channels)


@pytest.fixture(scope="module")
def endpoint(sagemaker: Any, csv_job: Trained) -> Iterator[str]:
    name = deploy(sagemaker, create_model(sagemaker, REPOSITORY, csv_job))
    yield name
    delete_endpoint(sagemaker, name)


def test_csv_training_reports_the_test_metrics(s3: Any, csv_job: Trained) -> None:
    metrics = csv_job.metrics()
    assert metrics["test:f1"] == 1.0
    assert metrics["test:accuracy"] == 1.0
    assert metrics["test:precision"] == 1.0 and metrics["test:recall"] == 1.0
    forest = forest_of(s3, csv_job)
    assert forest.num_trees == 50 and forest.num_features == 3


def test_recordio_training_gives_the_same_forest(
    sagemaker: Any, s3: Any, bucket: str, csv_job: Trained
) -> None:
    train_rows, test_rows, labels = data()
    channels = {
        "train": (put(s3, bucket, "rec/train/rows.rec", recordio_rows(train_rows)), RECORDIO),
        "test": (put(s3, bucket, "rec/test/rows.rec", recordio_rows(test_rows, labels)), RECORDIO),
    }
    trained = train(sagemaker, REPOSITORY, bucket, HYPERPARAMETERS, channels)
    first, second = forest_of(s3, csv_job).to_arrays(), forest_of(s3, trained).to_arrays()
    for name, values in first.items():
        np.testing.assert_array_equal(values, second[name])
    assert trained.metrics()["test:f1"] == csv_job.metrics()["test:f1"]


def test_a_bad_hyperparameter_is_refused_at_create_time(sagemaker: Any, bucket: str) -> None:
    request = training_request(
        unique("rcf"),
        REPOSITORY,
        bucket,
        {**HYPERPARAMETERS, "num_trees": "10"},
        {"train": (f"s3://{bucket}/csv/train", "text/csv")},
    )
    with pytest.raises(ClientError) as caught:
        sagemaker.create_training_job(**request)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "num_trees" in error["Message"] and "[50, 1000]" in error["Message"]


def test_a_bad_record_fails_the_job_naming_file_and_line(
    sagemaker: Any, s3: Any, bucket: str
) -> None:
    uri = put(s3, bucket, "bad/train/rows.csv", b"1,2,3\n4,5,6\n7,x,9\n")
    trained = train(
        sagemaker,
        REPOSITORY,
        bucket,
        HYPERPARAMETERS,
        {"train": (uri, "text/csv")},
        expect="Failed",
    )
    reason = trained.described["FailureReason"]
    assert "train/rows.csv line 3, column 2" in reason and "'x'" in reason, reason


def test_the_endpoint_answers_in_every_content_type(
    runtime: Any, s3: Any, csv_job: Trained, endpoint: str
) -> None:
    _, rows, _ = data()
    scores = ForestScorer(forest_of(s3, csv_job)).score(rows).tolist()
    assert min(scores[-4:]) > max(scores[:-4])
    body, content_type = invoke(runtime, endpoint, csv_rows(rows), "text/csv")
    assert content_type == "application/json"
    assert json.loads(body) == {"scores": [{"score": score} for score in scores]}
    instances = json.dumps({"instances": [{"features": row.tolist()} for row in rows]})
    body, _ = invoke(runtime, endpoint, instances.encode(), "application/json")
    assert json.loads(body) == {"scores": [{"score": score} for score in scores]}
    lines = "".join(json.dumps({"features": row.tolist()}) + "\n" for row in rows).encode()
    body, _ = invoke(runtime, endpoint, lines, "application/jsonlines", "application/jsonlines")
    assert jsonlines_predictions(body) == [{"score": score} for score in scores]
    body, _ = invoke(runtime, endpoint, recordio_rows(rows), RECORDIO, RECORDIO)
    answers = [answer["score"][0] for answer in recordio_predictions(body)]
    np.testing.assert_array_equal(answers, np.float32(scores))
    body, _ = invoke(runtime, endpoint, csv_rows(rows[:3]), "text/csv", "text/csv")
    assert body.decode().splitlines() == [repr(score) for score in scores[:3]]


def test_batch_transform(sagemaker: Any, s3: Any, bucket: str, csv_job: Trained) -> None:
    train_rows, _, _ = data()
    model = create_model(sagemaker, REPOSITORY, csv_job)
    output = transform(sagemaker, s3, model, bucket, csv_rows(train_rows))
    scores = ForestScorer(forest_of(s3, csv_job)).score(train_rows)
    assert [answer["score"] for answer in jsonlines_predictions(output)] == scores.tolist()
