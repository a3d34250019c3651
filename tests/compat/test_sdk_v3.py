"""The SageMaker Python SDK v3 ModelTrainer, unmodified, after `eval "$(sagebox env)"`.

SDK v3 cannot share an environment with v2 (the server's dev dependency), so its scripts
run with the interpreter of the `.venv-sdk3` environment that `make install-clients` builds.
"""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.compat.sdk_run import run_script

HERE = Path(__file__).parent
SDK3_PYTHON = HERE.parent.parent / ".venv-sdk3" / "bin" / "python"


@pytest.fixture(scope="module")
def sdk3_python() -> Path:
    if not SDK3_PYTHON.exists():
        pytest.skip(
            f"the SageMaker Python SDK v3 environment {SDK3_PYTHON.parent.parent} is missing; run make install-clients"
        )
    return SDK3_PYTHON


def _artifact(done: subprocess.CompletedProcess[str]) -> str:
    assert "status Completed" in done.stdout, done.stdout + done.stderr[-3000:]
    found = re.search(r"^artifact (s3://\S+/model\.tar\.gz)$", done.stdout, re.MULTILINE)
    assert found, done.stdout
    return found.group(1)


def _model_members(s3: Any, uri: str) -> list[str]:
    bucket, key = uri[len("s3://") :].split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        return [member.name.lstrip("./") for member in tar.getmembers() if member.isfile()]


def test_model_trainer_trains_the_builtin_xgboost(
    sagebox_server: Any, s3: Any, tmp_path: Path, sdk3_python: Path
) -> None:
    done = run_script("sdk_v3_builtin.py", sagebox_server, tmp_path, python=sdk3_python)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "[19]#011train-rmse:" in done.stderr  # the job's log, streamed by train(logs=True)
    assert _model_members(s3, _artifact(done))


def test_model_trainer_runs_a_scikit_learn_script_through_its_driver(
    sagebox_server: Any, s3: Any, tmp_path: Path, sdk3_python: Path
) -> None:
    done = run_script("sdk_v3_script.py", sagebox_server, tmp_path, python=sdk3_python)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Running Basic Script driver" in done.stderr  # sm_train.sh ran the v3 driver
    assert re.search(
        r"alpha 0\.5 train-r2: 0\.\d+", done.stderr
    )  # ... which ran train.py with its hyperparameter
    assert _model_members(s3, _artifact(done)) == ["model.joblib"]
