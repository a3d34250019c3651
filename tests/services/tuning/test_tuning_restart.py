"""A tuning job survives a server restart: it goes on where it stopped, within its budget."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from sklearn.datasets import load_diabetes

from sagebox.cli.server_process import ServerProcess
from tests.services.training.jobs import csv_bytes, unique
from tests.services.tuning.conftest import config, definition, wait_tuning


@pytest.fixture()
def restartable(tmp_path: Path) -> Iterator[Any]:
    servers: list[ServerProcess] = []

    def start() -> tuple[ServerProcess, Any, Any]:
        server = ServerProcess(tmp_path / "home", {"SAGEBOX_MAX_CONCURRENT_JOBS": "1"}).start()
        servers.append(server)
        args = {
            "endpoint_url": server.endpoint_url, "region_name": "us-east-1",
            "aws_access_key_id": "test", "aws_secret_access_key": "test",
        }
        return server, boto3.client("sagemaker", **args), boto3.client("s3", **args)

    yield start
    for server in servers:
        server.stop()


def test_a_grid_tuning_job_resumes_after_a_restart(restartable: Any) -> None:
    server, sagemaker, s3 = restartable()
    bucket = unique("resume")
    s3.create_bucket(Bucket=bucket)
    data = load_diabetes()
    s3.put_object(Bucket=bucket, Key="diabetes/train/data.csv", Body=csv_bytes(data.data[:300], data.target[:300]))
    s3.put_object(Bucket=bucket, Key="diabetes/validation/data.csv", Body=csv_bytes(data.data[300:], data.target[300:]))
    ranges = {"CategoricalParameterRanges": [{"Name": "max_depth", "Values": ["2", "3", "4", "5", "6"]}]}
    name = unique("resume")[:32]
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig=config("Grid", max_jobs=5, parallel=1, ranges=ranges),
        TrainingJobDefinition=definition(bucket, static={"objective": "reg:squarederror", "num_round": "60"}),
    )
    deadline = time.time() + 120
    while sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)["TrainingJobStatusCounters"]["Completed"] < 1:
        assert time.time() < deadline
        time.sleep(0.2)
    server.kill()

    _, sagemaker, _ = restartable()
    described = wait_tuning(sagemaker, name)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    listed = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, MaxResults=100
    )["TrainingJobSummaries"]
    depths = sorted(t["TunedHyperParameters"]["max_depth"] for t in listed)
    assert depths == ["2", "3", "4", "5", "6"]  # every combination once: none repeated, none skipped
    assert sum(described["TrainingJobStatusCounters"].values()) == 5
    assert described["TrainingJobStatusCounters"]["Completed"] >= 4
    assert "BestTrainingJob" in described
