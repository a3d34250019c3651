"""`sagebox env`: eval its output and plain boto3 talks to the server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import yaml

SAGEBOX = [sys.executable, "-m", "sagebox.cli.main"]


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}


def test_eval_env_points_clients_and_the_sdk_config_at_the_server(sagebox_server: Any, tmp_path: Path) -> None:
    probe = (
        'eval "$(' + " ".join(SAGEBOX) + f' env --endpoint-url {sagebox_server.endpoint_url} --home {tmp_path})" && '
        f"{sys.executable} -c \"import boto3, os; "
        "print(boto3.client('sts').get_caller_identity()['Account']); "
        "print(os.environ['SAGEMAKER_USER_CONFIG_OVERRIDE'])\""
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=_clean_environment(), timeout=60)
    assert done.returncode == 0, done.stderr
    account, config_path = done.stdout.split()
    assert account == "123456789012"
    config = yaml.safe_load(Path(config_path).read_text())
    modules = config["SageMaker"]["PythonSDK"]["Modules"]
    assert modules["TelemetryOptOut"] is True
    bucket = modules["Session"]["DefaultS3Bucket"]
    s3 = boto3.client("s3")
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_env_without_a_server_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SAGEBOX, "env", "--endpoint-url", "http://127.0.0.1:9", "--home", str(tmp_path)],
        capture_output=True, text=True, env=_clean_environment(), timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "no sagebox server answers at http://127.0.0.1:9" in done.stderr
