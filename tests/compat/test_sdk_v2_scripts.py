"""SDK v2 script mode and tuning, unmodified: framework estimators and HyperparameterTuner."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.compat.sdk_run import run_script

pytest.importorskip("sagemaker", reason="the SageMaker Python SDK is a dev dependency")


def _values(pattern: str, text: str) -> list[float]:
    return [float(v) for v in re.findall(pattern, text)]


def test_sklearn_and_xgboost_estimators_fit_scripts_and_serve_them(
    sagebox_server: Any, tmp_path: Path
) -> None:
    done = run_script("framework_estimators.py", sagebox_server, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(
        r"sklearn model s3://sagebox-default/sagemaker-scikit-learn-\S+/output/model.tar.gz",
        done.stdout,
    )
    # inference.py's output_fn rounds to 3 decimals and answers {"predictions": [...]}
    sklearn = re.findall(r"sklearn prediction (\S+)", done.stdout)
    assert len(sklearn) == 3 and all(len(v.split(".")[-1]) <= 3 for v in sklearn)
    assert all(25 < float(v) < 350 for v in sklearn)  # diabetes targets range from 25 to 346
    # the XGBoost container's default handlers: CSV in, CSV out
    xgboost = _values(r"xgboost prediction (\S+)", done.stdout)
    assert len(xgboost) == 3 and all(25 < v < 350 for v in xgboost)


def test_hyperparameter_tuner_fits_reads_analytics_and_deploys(
    sagebox_server: Any, tmp_path: Path
) -> None:
    done = run_script("tuner.py", sagebox_server, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    trials = re.findall(r"^trial (\S+) (\S+) (\S+) (\S+)$", done.stdout, re.MULTILINE)
    assert len(trials) == 4 and {status for _, status, _, _ in trials} == {"Completed"}
    best = re.search(r"^best (\S+)$", done.stdout, re.MULTILINE)
    assert best is not None
    by_name = {name: float(value) for name, _, value, _ in trials}
    assert by_name[best.group(1)] == min(by_name.values())  # validation:rmse is minimised
    predictions = _values(r"prediction (\S+)", done.stdout)
    assert len(predictions) == 3 and all(25 < v < 350 for v in predictions)
    # the script's metric, read from its log through the tuner's metric_definitions
    script_trials = re.findall(r"^script trial (\S+) (\S+) (\S+)$", done.stdout, re.MULTILINE)
    assert len(script_trials) == 3 and {status for status, _, _ in script_trials} == {"Completed"}
    assert all(40 < float(value) < 90 for _, value, _ in script_trials)
    assert re.search(r"^script best sagemaker-scikit-lea-\S+$", done.stdout, re.MULTILINE)
    assert "script estimator SKLearn sklearn_train.py 1.2-1" in done.stdout


def test_pytorch_estimator_fits_and_deploys_a_repacked_model(sagebox_server: Any, tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="PyTorch is the torch extra (make test installs it)")
    done = run_script("pytorch_estimator.py", sagebox_server, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Repacking model artifact" in done.stderr  # the SDK put the inference code under code/
    predictions = _values(r"pytorch prediction (\S+)", done.stdout)
    assert len(predictions) == 3 and all(25 < v < 350 for v in predictions)
