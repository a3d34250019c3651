"""Linear Learner run as a real job process in a job folder, as the platform runs it."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from sagebox.algorithms.amazon.model_io import load_model
from sagebox.algorithms.linear_learner.model import MODEL_NAME, LinearModel
from sagebox.algorithms.linear_learner.spec import LINEAR_LEARNER
from sagebox.formats import recordio

RECORDIO = "application/x-recordio-protobuf"


class Job:
    """A job folder with its config files and channel files."""

    def __init__(
        self,
        base: Path,
        hyperparameters: dict[str, str],
        channels: dict[str, dict[str, bytes]],
        content_type: str = "text/csv",
        hosts: tuple[str, ...] = ("algo-1",),
        current: str = "algo-1",
    ) -> None:
        self.base = base
        config = base / "input" / "config"
        config.mkdir(parents=True)
        (base / "model").mkdir()
        (base / "output").mkdir()
        (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
        (config / "inputdataconfig.json").write_text(
            json.dumps({name: {"ContentType": content_type} for name in channels})
        )
        (config / "resourceconfig.json").write_text(
            json.dumps({"current_host": current, "hosts": list(hosts)})
        )
        for channel, files in channels.items():
            folder = base / "input" / "data" / channel
            folder.mkdir(parents=True)
            for name, body in files.items():
                (folder / name).write_bytes(body)

    def run(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sagebox.algorithms.linear_learner"],
            env={**os.environ, "SAGEMAKER_BASE_DIR": str(self.base)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def failure(self) -> str:
        return (self.base / "output" / "failure").read_text()

    def model(self) -> LinearModel:
        return LinearModel.from_saved(*load_model(self.base / "model", MODEL_NAME))


def csv(features: np.ndarray, labels: np.ndarray) -> bytes:
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([labels, features]), delimiter=",", fmt="%.9g")
    return buffer.getvalue().encode()


def metrics(stdout: str) -> dict[str, float]:
    """The last value of each metric, read with the spec's MetricDefinitions as the platform does."""
    found: dict[str, float] = {}
    for line in stdout.splitlines():
        for definition in LINEAR_LEARNER.metric_definitions:
            match = re.search(definition["Regex"], line)
            if match:
                found[definition["Name"]] = float(match.group(1))
    return found


def shuffled(loader) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001 - an sklearn loader
    features, labels = loader(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(labels))
    return features[order].astype(np.float32), labels[order].astype(np.float32)


def test_a_csv_binary_job_reports_metrics_and_saves_the_model(tmp_path: Path) -> None:
    features, labels = shuffled(load_breast_cancer)
    job = Job(
        tmp_path,
        {"predictor_type": "binary_classifier", "mini_batch_size": "100", "epochs": "8"},
        {
            "train": {
                "part-0.csv": csv(features[:300], labels[:300]),
                "part-1.csv": csv(features[300:400], labels[300:400]),
            },
            "validation": {"rows.csv": csv(features[400:480], labels[400:480])},
            "test": {"rows.csv": csv(features[480:], labels[480:])},
        },
    )
    result = job.run()
    assert result.returncode == 0, result.stderr
    found = metrics(result.stdout)
    assert found["train:progress"] == 100.0
    for name in (
        "train:objective_loss",
        "validation:objective_loss",
        "validation:binary_classification_accuracy",
        "test:binary_f_beta",
        "test:precision",
        "test:recall",
        "test:roc_auc_score",
    ):
        assert name in found, name
    assert re.search(
        r"#quality_metric: host=algo-1, epoch=0, train objective_loss <loss>=", result.stdout
    )
    model = job.model()
    predicted = model.predict(features[480:])["predicted_label"]
    assert found["test:binary_classification_accuracy"] == pytest.approx(
        np.mean(predicted == labels[480:])
    )
    assert found["test:binary_classification_accuracy"] > 0.9
    assert "Training 32 model(s) on 400 rows of 30 features" in result.stderr


def test_a_sparse_recordio_regression_job(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    features = sp.random(600, 40, density=0.1, format="csr", random_state=1, dtype=np.float32)
    labels = (features @ rng.normal(size=40) + 5).astype(np.float32)
    job = Job(
        tmp_path,
        {"predictor_type": "regressor", "mini_batch_size": "50", "feature_dim": "40"},
        {
            "train": {"rows.rec": recordio.write_sparse(features[:500], labels[:500])},
            "test": {"rows.rec": recordio.write_sparse(features[500:], labels[500:])},
        },
        content_type=RECORDIO,
    )
    result = job.run()
    assert result.returncode == 0, result.stderr
    found = metrics(result.stdout)
    predicted = job.model().predict(features[500:])["score"]
    mse = float(np.mean((predicted - labels[500:]) ** 2))
    assert found["test:mse"] == pytest.approx(mse, rel=1e-9)
    assert found["test:rmse"] == pytest.approx(np.sqrt(mse), rel=1e-9)
    assert found["test:rmse"] < 0.5 * np.std(labels)
    assert "test:absolute_loss" in found and "test:objective_loss" in found


def test_a_dense_recordio_multiclass_job(tmp_path: Path) -> None:
    features, labels = shuffled(load_wine)
    job = Job(
        tmp_path,
        {
            "predictor_type": "multiclass_classifier",
            "num_classes": "3",
            "mini_batch_size": "20",
            "accuracy_top_k": "2",
        },
        {
            "train": {"rows.rec": recordio.write_dense(features[:140], labels[:140])},
            "validation": {"rows.rec": recordio.write_dense(features[140:], labels[140:])},
        },
        content_type=RECORDIO,
    )
    result = job.run()
    assert result.returncode == 0, result.stderr
    found = metrics(result.stdout)
    for name in ("accuracy", "top_k_accuracy"):
        assert found[f"validation:multiclass_{name}"] >= 0.85
    for name in ("dcg", "macro_precision", "macro_recall", "macro_f_beta"):
        assert 0 < found[f"validation:{name}"] <= 1
    scores = job.model().predict(features[140:])["score"]
    assert scores.shape == (38, 3)


def test_a_bad_label_fails_the_job_naming_file_and_line(tmp_path: Path) -> None:
    body = b"1,0.5,0.2\n0,0.1,0.3\n2,0.4,0.4\n"
    job = Job(tmp_path, {"predictor_type": "binary_classifier"}, {"train": {"rows.csv": body}})
    result = job.run()
    assert result.returncode == 1
    failure = job.failure()
    assert failure.startswith("ClientError: train/rows.csv line 3: label 2 is not allowed")
    assert "0 or 1" in failure


def test_a_label_beyond_num_classes_names_its_record(tmp_path: Path) -> None:
    features = np.ones((4, 2), dtype=np.float32)
    body = recordio.write_dense(features, np.array([0, 1, 2, 5], dtype=np.float32))
    job = Job(
        tmp_path,
        {"predictor_type": "multiclass_classifier", "num_classes": "3"},
        {
            "train": {
                "a.rec": recordio.write_dense(features, np.zeros(4, np.float32)),
                "b.rec": body,
            }
        },
        content_type=RECORDIO,
    )
    result = job.run()
    assert result.returncode == 1
    assert "train/b.rec record 4: label 5 is not allowed" in job.failure()


def test_a_missing_feature_fails_naming_file_and_line(tmp_path: Path) -> None:
    body = b"1.5,0.5,0.2\n0.5,,0.3\n"
    job = Job(tmp_path, {"predictor_type": "regressor"}, {"train": {"rows.csv": body}})
    assert job.run().returncode == 1
    assert "train/rows.csv line 2: a feature value is missing" in job.failure()


def test_a_value_that_is_not_a_number_names_file_and_line(tmp_path: Path) -> None:
    body = b"1,0.5,0.2\n0,abc,0.3\n"
    job = Job(tmp_path, {"predictor_type": "binary_classifier"}, {"train": {"rows.csv": body}})
    assert job.run().returncode == 1
    failure = job.failure()
    assert failure.startswith("ClientError:") and "rows.csv line 2" in failure


def test_a_bad_hyperparameter_is_a_client_error(tmp_path: Path) -> None:
    job = Job(
        tmp_path,
        {"predictor_type": "regressor", "optimizer": "adadelta"},
        {"train": {"rows.csv": b"1,2\n"}},
    )
    assert job.run().returncode == 1
    failure = job.failure()
    assert failure.startswith("ClientError: Hyperparameter 'optimizer'") and "'adam'" in failure


def test_feature_dim_must_match_the_data(tmp_path: Path) -> None:
    job = Job(
        tmp_path,
        {"predictor_type": "regressor", "feature_dim": "3"},
        {"train": {"rows.csv": b"1,2,3\n2,3,4\n"}},
    )
    assert job.run().returncode == 1
    assert "2 features, but 3 are expected" in job.failure()


def test_an_unknown_channel_is_refused(tmp_path: Path) -> None:
    job = Job(
        tmp_path,
        {"predictor_type": "regressor"},
        {"train": {"rows.csv": b"1,2\n"}, "extra": {"rows.csv": b"1,2\n"}},
    )
    assert job.run().returncode == 1
    assert "channel 'extra' is not supported" in job.failure()


def test_only_the_first_host_saves_the_model(tmp_path: Path) -> None:
    features, labels = shuffled(load_diabetes)
    job = Job(
        tmp_path,
        {"predictor_type": "regressor", "epochs": "2"},
        {"train": {"rows.csv": csv(features, labels)}},
        hosts=("algo-1", "algo-2"),
        current="algo-2",
    )
    assert job.run().returncode == 0
    assert not list((tmp_path / "model").iterdir())


def test_a_tuning_job_trains_one_model(tmp_path: Path) -> None:
    features, labels = shuffled(load_diabetes)
    job = Job(
        tmp_path,
        {
            "predictor_type": "regressor",
            "epochs": "2",
            "num_models": "8",
            "_tuning_objective_metric": "validation:rmse",
        },
        {"train": {"rows.csv": csv(features, labels)}},
    )
    result = job.run()
    assert result.returncode == 0, result.stderr
    assert "Training 1 model(s)" in result.stderr
