"""K-Means trained in a job folder, as a training job runs it, compared with scikit-learn."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris

from sagebox.algorithms.amazon.job import run
from sagebox.algorithms.amazon.model_io import load_model
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.algorithms.kmeans.spec import KMEANS
from sagebox.algorithms.kmeans.train import train
from sagebox.formats import recordio
from tests.algorithms.xgboost_jobs import Job, JobFactory, csv_text

NAN_IN_ROW_3 = np.array([[1, 2, 3, 4], [1, 2, 3, 4], [1, np.nan, 3, 4]], dtype=np.float32)
HPS = {"k": "3", "feature_dim": "4", "init_method": "kmeans++", "eval_metrics": '["msd","ssd"]'}


def iris() -> tuple[np.ndarray, np.ndarray]:
    rows = load_iris().data.astype(np.float32)
    rows = rows[np.random.default_rng(0).permutation(len(rows))]
    return rows[:120], rows[120:]


def train_job(job: Job, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run(TrainingEnvironment.load(job.base), train)
    return code, capsys.readouterr().out


def metrics(stdout: str) -> dict[str, float]:
    found = {}
    for definition in KMEANS.metric_definitions:
        values = re.findall(definition["Regex"], stdout)
        if values:
            found[definition["Name"]] = float(values[-1])
    return found


def centroids(job: Job) -> np.ndarray:
    arrays, settings = load_model(job.base / "model", "model_algo-1")
    assert settings == {"k": 3, "feature_dim": 4}
    return arrays["centroids"]


def test_csv_job_saves_centroids_and_reports_test_metrics(
    make_job: JobFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    train_rows, test_rows = iris()
    job = make_job(
        HPS, {"train": {"data.csv": csv_text(train_rows)}, "test": {"t.csv": csv_text(test_rows)}}
    )
    code, stdout = train_job(job, capsys)
    assert code == 0, job.failure_path.read_text() if job.failure_path.exists() else ""
    model = centroids(job)
    assert model.shape == (3, 4) and model.dtype == np.float32
    found = metrics(stdout)
    distances = (
        ((test_rows[:, None, :].astype(np.float64) - model[None].astype(np.float64)) ** 2)
        .sum(2)
        .min(1)
    )
    assert found["test:msd"] == pytest.approx(distances.mean(), rel=1e-9)
    assert found["test:ssd"] == pytest.approx(distances.sum(), rel=1e-9)
    assert found["train:progress"] == 100.0
    assert "#quality_metric: host=algo-1, test msd <loss>=" in stdout
    reference = KMeans(3, n_init=3, random_state=0).fit(train_rows.astype(np.float64))
    reference_msd = -reference.score(test_rows.astype(np.float64)) / len(test_rows)
    assert found["test:msd"] <= 1.02 * reference_msd


def test_recordio_dense_sparse_and_csv_train_the_same_model(
    make_job: JobFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, _ = iris()
    models = []
    for name, content, content_type in [
        ("rows.csv", csv_text(rows), "text/csv"),
        ("rows.rec", recordio.write_dense(rows), "application/x-recordio-protobuf"),
        ("rows.rec", recordio.write_sparse(sp.csr_matrix(rows)), None),
    ]:
        job = make_job(HPS, {"train": {name: content}}, content_type=content_type)
        assert train_job(job, capsys)[0] == 0
        models.append(centroids(job))
        os.rename(job.base, tmp_path / f"done-{len(models)}")
    np.testing.assert_array_equal(models[0], models[1])
    np.testing.assert_array_equal(models[0], models[2])


def test_a_declared_label_column_is_ignored(
    make_job: JobFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, _ = iris()
    plain = make_job(HPS, {"train": {"a.csv": csv_text(rows)}})
    assert train_job(plain, capsys)[0] == 0
    expected = centroids(plain)
    os.rename(plain.base, tmp_path / "plain")
    labelled = np.column_stack([np.arange(len(rows)), rows])
    job = make_job(
        HPS, {"train": {"a.csv": csv_text(labelled)}}, content_type="text/csv;label_size=1"
    )
    assert train_job(job, capsys)[0] == 0
    np.testing.assert_array_equal(centroids(job), expected)


def test_only_the_requested_metrics_are_reported(
    make_job: JobFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    train_rows, test_rows = iris()
    hps = {**HPS, "eval_metrics": '["ssd"]'}
    job = make_job(
        hps, {"train": {"a.csv": csv_text(train_rows)}, "test": {"b.csv": csv_text(test_rows)}}
    )
    code, stdout = train_job(job, capsys)
    assert code == 0 and set(metrics(stdout)) == {"test:ssd", "train:progress"}


def test_progress_is_reported_per_epoch(
    make_job: JobFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, _ = iris()
    job = make_job(
        {**HPS, "epochs": "4", "mini_batch_size": "50"}, {"train": {"a.csv": csv_text(rows)}}
    )
    code, stdout = train_job(job, capsys)
    assert code == 0
    assert re.findall(r"completed (\S+) % of epochs", stdout) == ["25.0", "50.0", "75.0", "100.0"]
    assert "test msd" not in stdout


@pytest.mark.parametrize(
    ("files", "content_type", "hyperparameters", "reason"),
    [
        (
            {"train": {"data.csv": "1,2,3,4\n5,6,abc,8\n"}},
            "text/csv",
            {},
            "ClientError: train/data.csv line 2, column 3: 'abc' is not a number",
        ),
        (
            {"train": {"a.csv": "1,2,3,4\n", "b.csv": "1,2,3,4\n5,6,,8\n"}},
            "text/csv",
            {},
            "ClientError: train/b.csv row 2: feature 3 is 'nan', not a finite number",
        ),
        (
            {"train": {"rows.rec": recordio.write_dense(np.ones((4, 4), np.float32))[:-6]}},
            None,
            {},
            "ClientError: train/rows.rec: record 4 (byte offset 120): truncated",
        ),
        (
            {"train": {"rows.rec": recordio.write_dense(NAN_IN_ROW_3)}},
            None,
            {},
            "ClientError: train/rows.rec record 3: feature 2 is 'nan', not a finite number",
        ),
        (
            {"train": {"a.csv": "1,2,3,4,5\n"}},
            "text/csv",
            {},
            "rows have 5 features, but 4 are expected",
        ),
        (
            {"train": {"a.csv": "1,2,3,4\n2,3,4,5\n"}},
            "text/csv",
            {},
            "ClientError: channel 'train': k=3 clusters need at least 3 rows; the data has 2",
        ),
        (
            {"train": {"a.csv": "1,2,3,4\n"}},
            "text/csv",
            {"k": "0"},
            "ClientError: Hyperparameter 'k': value '0' is not allowed; expected an integer >= 1.",
        ),
        (
            {"train": {"a.csv": "1,2,3,4\n"}, "validation": {"a.csv": "1,2,3,4\n"}},
            "text/csv",
            {},
            "ClientError: channel 'validation' is not supported; supported channels: train, test",
        ),
        (
            {"test": {"a.csv": "1,2,3,4\n"}},
            "text/csv",
            {},
            "ClientError: the required channel 'train' is missing",
        ),
        (
            {"train": {"a.csv": "1,2,3,4\n" * 5}, "test": {"a.csv": "1,2,3,inf\n"}},
            "text/csv",
            {},
            "ClientError: test/a.csv row 1: feature 4 is 'inf'",
        ),
    ],
)
def test_bad_input_fails_the_job_naming_the_problem(
    make_job: JobFactory,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, dict[str, str | bytes]],
    content_type: str | None,
    hyperparameters: dict[str, str],
    reason: str,
) -> None:
    job = make_job({**HPS, **hyperparameters}, files, content_type=content_type)
    code, _ = train_job(job, capsys)
    assert code == 1
    assert reason in job.failure()


def test_the_module_runs_as_a_job_process(make_job: JobFactory) -> None:
    rows, _ = iris()
    job = make_job(
        HPS, {"train": {"a.csv": csv_text(rows)}, "test": {"b.csv": csv_text(rows[:10])}}
    )
    done = subprocess.run(
        [sys.executable, "-m", "sagebox.algorithms.kmeans"],
        env={**os.environ, "SAGEMAKER_BASE_DIR": str(job.base)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (job.base / "model" / "model_algo-1.npz").is_file()
    assert set(metrics(done.stdout)) == {"test:msd", "test:ssd", "train:progress"}
