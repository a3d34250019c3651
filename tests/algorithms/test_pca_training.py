"""PCA trained in a job folder, as a training job runs it, compared with scikit-learn."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from sagebox.algorithms.amazon.job import run
from sagebox.algorithms.amazon.model_io import load_model
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.algorithms.pca.train import train
from sagebox.formats import recordio
from tests.algorithms.xgboost_jobs import Job, JobFactory, csv_text

HPS = {"feature_dim": "64", "num_components": "6", "mini_batch_size": "200"}


def digits() -> np.ndarray:
    return load_digits().data.astype(np.float32)


def train_job(job: Job, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(TrainingEnvironment.load(job.base), train)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def model_of(job: Job) -> dict[str, np.ndarray]:
    arrays, _ = load_model(job.base / "model", "model_algo-1")
    return arrays


def test_regular_job_saves_sagemakers_model_layout(
    make_job: JobFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = digits()
    job = make_job(
        HPS, {"train": {"part-1.csv": csv_text(rows[:900]), "part-2.csv": csv_text(rows[900:])}}
    )
    code, stdout, _ = train_job(job, capsys)
    assert code == 0
    arrays = model_of(job)
    assert sorted(arrays) == ["mean", "s", "v"]
    assert (
        arrays["s"].shape == (6,)
        and arrays["v"].shape == (64, 6)
        and arrays["mean"].shape == (1, 64)
    )
    assert all(array.dtype == np.float32 for array in arrays.values())
    reference = PCA(6, svd_solver="full").fit(rows.astype(np.float64))
    singular = np.sqrt(reference.explained_variance_ * (len(rows) - 1))
    np.testing.assert_allclose(arrays["s"], singular[::-1], rtol=1e-6)  # ascending, as SageMaker
    np.testing.assert_allclose(arrays["v"].T, reference.components_[::-1], atol=1e-6)
    np.testing.assert_allclose(arrays["mean"][0], reference.mean_, rtol=1e-6)
    assert re.findall(r"completed (\S+) % of epochs", stdout) == ["100.0"]
    assert "#quality_metric" not in stdout


def test_randomized_job_without_mean(
    make_job: JobFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = digits()
    hps = {**HPS, "algorithm_mode": "randomized", "subtract_mean": "false", "extra_components": "4"}
    job = make_job(hps, {"train": {"rows.rec": recordio.write_dense(rows)}}, content_type=None)
    code, stdout, stderr = train_job(job, capsys)
    assert code == 0
    arrays = model_of(job)
    assert sorted(arrays) == ["s", "v"]
    top = np.linalg.svd(rows.astype(np.float64), compute_uv=False)[:6]
    np.testing.assert_allclose(arrays["s"][::-1], top, rtol=0.01)
    progress = re.findall(r"completed (\S+) % of epochs", stdout)
    assert progress == ["20.0", "40.0", "60.0", "80.0", "100.0"]
    assert "a 64 x 10 block" in stderr


def test_sparse_and_csv_input_give_the_same_model(
    make_job: JobFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = digits()[:300]
    models = []
    for files, content_type in [
        ({"a.csv": csv_text(rows)}, "text/csv"),
        ({"a.rec": recordio.write_sparse(sp.csr_matrix(rows))}, "application/x-recordio-protobuf"),
    ]:
        job = make_job(HPS, {"train": files}, content_type=content_type)
        assert train_job(job, capsys)[0] == 0
        models.append(model_of(job))
        os.rename(job.base, tmp_path / f"done-{len(models)}")
    for name in ("s", "v", "mean"):
        np.testing.assert_array_equal(models[0][name], models[1][name])


def test_test_channel_reconstruction_is_logged(
    make_job: JobFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = digits()
    job = make_job(
        HPS, {"train": {"a.csv": csv_text(rows[:1500])}, "test": {"b.csv": csv_text(rows[1500:])}}
    )
    code, _, stderr = train_job(job, capsys)
    assert code == 0
    assert f"test channel: {len(rows) - 1500} rows, mean squared reconstruction error" in stderr


@pytest.mark.parametrize(
    ("files", "hyperparameters", "reason"),
    [
        (
            {"train": {"a.csv": "1,2,3\n4,x,6\n"}},
            {},
            "ClientError: train/a.csv line 2, column 2: 'x' is not a number",
        ),
        (
            {"train": {"a.csv": "1,2,3\n4,5,6\n", "b.csv": "1,2,\n"}},
            {},
            "ClientError: train/b.csv row 1: feature 3 is 'nan'",
        ),
        ({"train": {"a.csv": "1,2\n"}}, {}, "rows have 2 features, but 3 are expected"),
        (
            {"train": {"a.csv": "1,2,3\n"}},
            {"num_components": "4"},
            "ClientError: Hyperparameter 'num_components'",
        ),
        (
            {"train": {"a.csv": "1,2,3\n"}},
            {"algorithm_mode": "fast"},
            "Hyperparameter 'algorithm_mode': value 'fast'",
        ),
        (
            {"train": {"a.csv": "1,2,3\n"}, "validation": {"a.csv": "1,2,3\n"}},
            {},
            "channel 'validation' is not supported",
        ),
    ],
)
def test_bad_input_fails_the_job_naming_the_problem(
    make_job: JobFactory,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, dict[str, str]],
    hyperparameters: dict[str, str],
    reason: str,
) -> None:
    hps = {"feature_dim": "3", "num_components": "2", "mini_batch_size": "10", **hyperparameters}
    job = make_job(hps, files)
    assert train_job(job, capsys)[0] == 1
    assert reason in job.failure()


def test_the_module_runs_as_a_job_process(make_job: JobFactory) -> None:
    job = make_job(HPS, {"train": {"a.csv": csv_text(digits()[:300])}})
    done = subprocess.run(
        [sys.executable, "-m", "sagebox.algorithms.pca"],
        env={**os.environ, "SAGEMAKER_BASE_DIR": str(job.base)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (job.base / "model" / "model_algo-1.npz").is_file()
