"""The k-NN algorithm run as a real job process: inputs, metrics, saved model, failures."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from sagebox.algorithms.amazon.model_io import load_model
from sagebox.algorithms.knn.model import MODEL_NAME, KnnModel
from sagebox.algorithms.registry import resolve
from sagebox.formats import recordio
from tests.algorithms.xgboost_jobs import Job, JobFactory, csv_rows, csv_text

RECORDIO = "application/x-recordio-protobuf"


def run_knn(job: Job, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sagebox.algorithms.knn"],
        env={**os.environ, "SAGEMAKER_BASE_DIR": str(job.base)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def saved_model(job: Job) -> KnnModel:
    arrays, settings = load_model(job.base / "model", MODEL_NAME)
    return KnnModel.from_saved(arrays, settings)


def metric(stdout: str, name: str) -> float:
    """A metric read back with the MetricDefinitions regex the platform uses."""
    spec = resolve(algorithm_name="knn")
    assert spec is not None
    regex = next(d["Regex"] for d in spec.metric_definitions if d["Name"] == name)
    values = [float(m.group(1)) for m in re.finditer(regex, stdout)]
    assert len(values) == 1, stdout
    return values[0]


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    features, labels = load_digits(return_X_y=True)
    return features[:600].astype(np.float32), labels[:600].astype(np.float32)


def test_csv_classifier_matches_sklearn_and_reports_accuracy(
    make_job: JobFactory, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    features, labels = digits
    train, test = slice(0, 450), slice(450, 600)
    job = make_job(
        {"feature_dim": "64", "k": "5", "predictor_type": "classifier", "sample_size": "1000"},
        {
            "train": {
                "part-0.csv": csv_rows(labels[:300], features[:300]),
                "part-1.csv": csv_rows(labels[300:450], features[300:450]),
            },
            "test": {"test.csv": csv_rows(labels[test], features[test])},
        },
    )
    result = run_knn(job)
    assert result.returncode == 0, result.stderr
    reference = KNeighborsClassifier(n_neighbors=5).fit(features[train], labels[train])
    expected = reference.predict(features[test])
    model = saved_model(job)
    assert model.num_points == 450
    np.testing.assert_array_equal(model.predict(features[test]).predicted_label, expected)
    accuracy = metric(result.stdout, "test:accuracy")
    assert accuracy == pytest.approx(float(np.mean(expected == labels[test])))
    assert "#quality_metric: host=algo-1, test accuracy <score>=" in result.stdout


def test_recordio_regressor_reports_mse(make_job: JobFactory) -> None:
    features, target = load_diabetes(return_X_y=True)
    features, target = features.astype(np.float32), target.astype(np.float32)
    job = make_job(
        {
            "feature_dim": "10",
            "k": "7",
            "predictor_type": "regressor",
            "sample_size": "400",
            "mini_batch_size": "64",
        },
        {
            "train": {"train.pbr": recordio.write_dense(features[:350], target[:350])},
            "test": {"test.pbr": recordio.write_dense(features[350:], target[350:])},
        },
        content_type=RECORDIO,
    )
    result = run_knn(job)
    assert result.returncode == 0, result.stderr
    reference = KNeighborsRegressor(n_neighbors=7).fit(
        features[:350].astype(np.float64), target[:350].astype(np.float64)
    )
    expected = reference.predict(features[350:].astype(np.float64))
    np.testing.assert_array_equal(
        saved_model(job).predict(features[350:]).predicted_label, expected
    )
    mse = float(np.mean((expected - target[350:]) ** 2))
    assert metric(result.stdout, "test:mse") == pytest.approx(mse, rel=1e-12)


def test_sample_size_keeps_a_seeded_sample_in_row_order(
    make_job: JobFactory, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    features, labels = digits
    hyperparameters = {
        "feature_dim": "64",
        "k": "3",
        "predictor_type": "classifier",
        "sample_size": "100",
        "mini_batch_size": "37",
        "dimension_reduction_type": "sign",
        "dimension_reduction_target": "16",
    }
    saved = []
    for attempt in range(2):
        job = make_job(hyperparameters, {"train": {"train.csv": csv_rows(labels, features)}})
        result = run_knn(job)
        assert result.returncode == 0, result.stderr
        arrays, settings = load_model(job.base / "model", MODEL_NAME)
        saved.append(arrays)
        assert settings["num_points"] == 100
        assert settings["dimension_reduction"]["target_dim"] == 16
        assert f"sampled 100 of {len(labels)} training rows" in result.stderr
        job.base.rename(job.base.with_name(f"done-{attempt}"))
    assert saved[0]["points"].shape == (100, 16)
    np.testing.assert_array_equal(saved[0]["points"], saved[1]["points"])
    np.testing.assert_array_equal(saved[0]["labels"], saved[1]["labels"])


def test_ivf_index_is_saved_serialized_and_reloads(
    make_job: JobFactory, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    features, labels = digits
    job = make_job(
        {
            "feature_dim": "64",
            "k": "5",
            "predictor_type": "classifier",
            "sample_size": "600",
            "index_type": "faiss.IVFPQ",
            "faiss_index_pq_m": "16",
            "faiss_index_ivf_nlists": "8",
        },
        {
            "train": {"train.csv": csv_rows(labels[:500], features[:500])},
            "test": {"test.csv": csv_rows(labels[500:], features[500:])},
        },
    )
    result = run_knn(job)
    assert result.returncode == 0, result.stderr
    arrays, settings = load_model(job.base / "model", MODEL_NAME)
    assert "index" in arrays and "points" not in arrays
    assert settings["faiss_index_ivf_nlists"] == 8 and settings["faiss_index_pq_m"] == 16
    model = KnnModel.from_saved(arrays, settings)
    accuracy = float(np.mean(model.predict(features[500:]).predicted_label == labels[500:]))
    assert metric(result.stdout, "test:accuracy") == pytest.approx(accuracy)
    assert accuracy > 0.7


@pytest.mark.parametrize(
    ("files", "content_type", "expected"),
    [
        ({"good.csv": "1,2,3\n", "bad.csv": "1,2,3\n0,abc,1\n"}, "text/csv", "bad.csv line 2"),
        ({"rows.csv": "1,2,3\n0,4,5,6\n"}, "text/csv", "rows.csv line 2"),
        ({"rows.csv": "1,2,3\n0,,5\n"}, "text/csv", "row 2 has a missing or non-finite"),
        ({"rows.pbr": b"\x0a\x23\xd7\xce\x10\x00\x00\x00abc"}, RECORDIO, "rows.pbr"),
        ({"rows.csv": "1,2,3\n"}, "text/csv", "fewer than k=2"),
    ],
)
def test_bad_data_fails_with_a_client_error(
    make_job: JobFactory, files: dict[str, str | bytes], content_type: str, expected: str
) -> None:
    job = make_job(
        {"feature_dim": "2", "k": "2", "predictor_type": "classifier", "sample_size": "10"},
        {"train": files},
        content_type=content_type,
    )
    result = run_knn(job)
    assert result.returncode == 1
    failure = job.failure()
    assert failure.startswith("ClientError: "), failure
    assert expected in failure


def test_rows_narrower_than_feature_dim_fail_naming_the_file(make_job: JobFactory) -> None:
    job = make_job(
        {"feature_dim": "3", "k": "1", "predictor_type": "classifier", "sample_size": "10"},
        {"train": {"rows.csv": csv_text(np.array([[0, 1, 2], [1, 3, 4]]))}},
    )
    assert run_knn(job).returncode == 1
    assert "rows.csv: rows have 2 features, but 3 are expected" in job.failure()


@pytest.mark.parametrize(
    ("hyperparameters", "channel", "expected"),
    [
        ({"predictor_type": "ranker"}, "train", "'predictor_type': value 'ranker'"),
        ({}, "validation", "channel 'validation' is not supported"),
    ],
)
def test_bad_hyperparameters_and_channels_are_client_errors(
    make_job: JobFactory, hyperparameters: dict[str, str], channel: str, expected: str
) -> None:
    job = make_job(
        {
            "feature_dim": "2",
            "k": "1",
            "predictor_type": "classifier",
            "sample_size": "10",
            **hyperparameters,
        },
        {"train": {"rows.csv": "1,2,3\n"}, channel: {"rows.csv": "1,2,3\n"}},
    )
    assert run_knn(job).returncode == 1
    assert job.failure().startswith("ClientError: ") and expected in job.failure()
