"""The SageMaker Python SDK v2, unmodified, after `eval "$(sagebox env)"`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.compat.sdk_run import run_script as _run

pytest.importorskip("sagemaker", reason="the SageMaker Python SDK is a dev dependency")


def test_estimator_fit_with_streamed_logs_deploy_and_predict(sagebox_server: Any, tmp_path: Path) -> None:
    done = _run("xgboost_estimator.py", sagebox_server, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert "[19]#011train-rmse:" in output  # the job's log, streamed by fit(logs=True)
    assert "Completed - Training job completed" in output
    # deploy() prints its progress dots without a newline, so a line may start with them
    predictions = [float(v) for v in re.findall(r"prediction (\S+)", done.stdout)]
    assert len(predictions) == 3
    assert all(25 < value < 350 for value in predictions)  # diabetes targets range from 25 to 346


def test_amazon_estimators_fit_on_record_sets_and_kmeans_predicts(sagebox_server: Any, tmp_path: Path) -> None:
    done = _run("amazon_estimators.py", sagebox_server, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    trained = re.findall(r"trained (\S+) s3://\S+/model.tar.gz", done.stdout)
    assert trained == ["linear-learner", "kmeans", "pca", "knn", "factorization-machines", "randomcutforest"]
    clusters = [float(v) for v in re.findall(r"closest_cluster (\S+)", done.stdout)]
    assert len(clusters) == 4 and set(clusters) <= {0.0, 1.0}
