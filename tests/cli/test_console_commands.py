"""`sagebox ls`, `logs -f`, `wait` and `open` against a live server, over its HTTP API."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
import pytest
from sklearn.datasets import load_diabetes

from sagebox.cli.server_process import ServerProcess
from tests.services.training.jobs import channel, csv_bytes, job_request, unique

SAGEBOX = [sys.executable, "-m", "sagebox.cli.main"]


def _sagebox(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SAGEBOX, *args], capture_output=True, text=True, env=dict(os.environ), timeout=timeout
    )


@pytest.fixture(scope="module")
def job(s3: Any, sagemaker: Any) -> str:
    """A training job just created: still running when the first command starts."""
    bucket = unique("cli")
    s3.create_bucket(Bucket=bucket)
    data = load_diabetes()
    s3.put_object(
        Bucket=bucket, Key="train/data.csv", Body=csv_bytes(data.data[:200], data.target[:200])
    )
    s3.put_object(
        Bucket=bucket, Key="validation/data.csv", Body=csv_bytes(data.data[200:], data.target[200:])
    )
    name = unique("cli-job")
    channels = [channel(c, f"s3://{bucket}/{c}/") for c in ("train", "validation")]
    sagemaker.create_training_job(**job_request(name, bucket, channels))
    return name


def test_logs_follow_prints_every_line_until_the_job_ends(job: str, sagemaker: Any) -> None:
    done = _sagebox("logs", job, "-f")
    assert done.returncode == 0, done.stderr
    assert sagemaker.describe_training_job(TrainingJobName=job)["TrainingJobStatus"] == "Completed"
    import boto3

    logs = boto3.client("logs")
    stream = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{job}/"
    )
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs",
        logStreamName=stream["logStreams"][0]["logStreamName"],
        startFromHead=True,
    )["events"]
    assert done.stdout.splitlines() == [e["message"] for e in events]
    assert any("validation-rmse" in line for line in done.stdout.splitlines())


def test_wait_prints_the_transitions_and_exits_0_on_completed(job: str, sagemaker: Any) -> None:
    done = _sagebox("wait", job)
    assert done.returncode == 0, done.stderr
    statuses = [
        t["Status"]
        for t in sagemaker.describe_training_job(TrainingJobName=job)["SecondaryStatusTransitions"]
    ]
    printed = [line.split()[1] for line in done.stdout.splitlines()[:-1]]
    assert printed == statuses
    assert done.stdout.splitlines()[-1] == f"{job}: Completed"
    missing = _sagebox("wait", "no-such-job")
    assert missing.returncode == 2 and "no-such-job" in missing.stderr


def test_ls_lists_a_kind_and_open_names_its_console_page(
    job: str, sagebox_server: ServerProcess
) -> None:
    done = _sagebox("ls", "training-jobs", "--name-contains", job)
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()
    assert header.split() == ["NAME", "STATUS", "CREATED"]
    assert row.split()[:2] == [job, "Completed"]
    assert _sagebox("ls").returncode == 0
    wrong = _sagebox("ls", "gadgets")
    assert wrong.returncode == 2 and "unknown kind 'gadgets'" in wrong.stderr
    opened = _sagebox("open", f"training-jobs/{job}", "--print")
    url = opened.stdout.strip()
    assert url == f"{sagebox_server.endpoint_url}/ui/training-jobs/{job}"
    page = httpx.get(url)
    assert page.status_code == 200 and job in page.text
