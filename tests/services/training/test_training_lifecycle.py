"""Stop, MaxRuntimeInSeconds, listing, tags, the job queue and restarts, through boto3."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from sagebox.cli.server_process import ServerProcess
from tests.services.training.jobs import channel, job_request, unique, wait_for

LONG = {"objective": "reg:squarederror", "num_round": "1000000", "max_depth": "2"}


def _long_job(bucket: str, **overrides: Any) -> dict[str, Any]:
    return job_request(
        unique("long"),
        bucket,
        [channel("train", f"s3://{bucket}/diabetes/train/")],
        HyperParameters=LONG,
        **overrides,
    )


def test_stop_a_running_job(sagemaker: Any, diabetes_bucket: str) -> None:
    request = _long_job(diabetes_bucket)
    name = request["TrainingJobName"]
    sagemaker.create_training_job(**request)
    wait_for(sagemaker, name, ("Training",))
    deadline = time.time() + 30
    while not sagemaker.describe_training_job(TrainingJobName=name).get("FinalMetricDataList"):
        assert time.time() < deadline, "no metric was reported while training"
        time.sleep(0.2)
    sagemaker.stop_training_job(TrainingJobName=name)
    assert sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] in ("Stopping", "Stopped")
    sagemaker.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    job = sagemaker.describe_training_job(TrainingJobName=name)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "Stopped")
    statuses = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert statuses[-2:] == ["Stopping", "Stopped"]
    assert any(m["MetricName"] == "train:rmse" for m in job["FinalMetricDataList"])


def test_max_runtime_is_enforced(sagemaker: Any, diabetes_bucket: str) -> None:
    request = _long_job(diabetes_bucket, StoppingCondition={"MaxRuntimeInSeconds": 2})
    sagemaker.create_training_job(**request)
    job = wait_for(sagemaker, request["TrainingJobName"], timeout=60)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")
    assert job["TrainingTimeInSeconds"] <= 10


def test_list_training_jobs_filters_sorts_and_pages(sagemaker: Any, diabetes_bucket: str) -> None:
    marker = unique("listing")
    before = datetime.now(UTC) - timedelta(seconds=1)
    names = [f"{marker}-{i}" for i in range(5)]
    for name in names:
        sagemaker.create_training_job(
            **job_request(name, diabetes_bucket, [channel("train", f"s3://{diabetes_bucket}/diabetes/train/")])
        )
    for name in names:
        wait_for(sagemaker, name)

    listed = sagemaker.list_training_jobs(NameContains=marker, MaxResults=100)["TrainingJobSummaries"]
    assert [s["TrainingJobName"] for s in listed] == names  # CreationTime, Ascending by default
    summary = listed[0]
    assert summary["TrainingJobStatus"] == "Completed"
    assert set(summary) >= {"TrainingJobName", "TrainingJobArn", "CreationTime", "LastModifiedTime", "TrainingEndTime"}

    by_name = sagemaker.list_training_jobs(NameContains=marker, SortBy="Name", SortOrder="Descending")
    assert [s["TrainingJobName"] for s in by_name["TrainingJobSummaries"]] == sorted(names, reverse=True)

    pages, token = [], None
    while True:
        kwargs = {"NameContains": marker, "MaxResults": 2, **({"NextToken": token} if token else {})}
        page = sagemaker.list_training_jobs(**kwargs)
        pages.append([s["TrainingJobName"] for s in page["TrainingJobSummaries"]])
        token = page.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sum(pages, []) == names

    paginated = sagemaker.get_paginator("list_training_jobs").paginate(NameContains=marker, PaginationConfig={"PageSize": 3})
    assert [s["TrainingJobName"] for p in paginated for s in p["TrainingJobSummaries"]] == names

    assert sagemaker.list_training_jobs(NameContains=marker, StatusEquals="Failed")["TrainingJobSummaries"] == []
    after = sagemaker.list_training_jobs(NameContains=marker, CreationTimeAfter=before, MaxResults=100)
    assert len(after["TrainingJobSummaries"]) == 5
    future = datetime.now(UTC) + timedelta(hours=1)
    assert sagemaker.list_training_jobs(NameContains=marker, CreationTimeAfter=future)["TrainingJobSummaries"] == []
    assert len(sagemaker.list_training_jobs(NameContains=marker, LastModifiedTimeBefore=future, MaxResults=100)["TrainingJobSummaries"]) == 5


def test_add_list_delete_tags(sagemaker: Any, diabetes_bucket: str) -> None:
    request = job_request(unique("tags"), diabetes_bucket, [channel("train", f"s3://{diabetes_bucket}/diabetes/train/")])
    arn = sagemaker.create_training_job(**request)["TrainingJobArn"]
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "a", "Value": "3"}])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=["a"])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    wait_for(sagemaker, request["TrainingJobName"])


@pytest.fixture()
def private_server(tmp_path: Path) -> Any:
    """A server of the test's own, with one job slot, for queueing and restarts."""
    servers: list[ServerProcess] = []

    def start() -> tuple[ServerProcess, Any, Any]:
        server = ServerProcess(tmp_path / "home", {"SAGEBOX_MAX_CONCURRENT_JOBS": "1"}).start()
        servers.append(server)
        session_args = {"endpoint_url": server.endpoint_url}
        return server, boto3.client("sagemaker", **session_args), boto3.client("s3", **session_args)

    yield start
    for server in servers:
        server.stop()


def _seed(s3: Any) -> str:
    bucket = unique("private")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="diabetes/train/a.csv", Body=b"1,2,3\n2,3,4\n3,4,5\n4,5,6\n")
    return bucket


def test_jobs_beyond_the_limit_wait_in_the_queue(private_server: Any) -> None:
    _, sagemaker, s3 = private_server()
    bucket = _seed(s3)
    first, second = _long_job(bucket), _long_job(bucket)
    sagemaker.create_training_job(**first)
    sagemaker.create_training_job(**second)
    wait_for(sagemaker, first["TrainingJobName"], ("Training",))
    time.sleep(0.5)
    queued = sagemaker.describe_training_job(TrainingJobName=second["TrainingJobName"])
    assert (queued["TrainingJobStatus"], queued["SecondaryStatus"]) == ("InProgress", "Starting")
    sagemaker.stop_training_job(TrainingJobName=second["TrainingJobName"])
    assert wait_for(sagemaker, second["TrainingJobName"])["TrainingJobStatus"] == "Stopped"
    sagemaker.stop_training_job(TrainingJobName=first["TrainingJobName"])
    assert wait_for(sagemaker, first["TrainingJobName"])["TrainingJobStatus"] == "Stopped"


def test_a_restart_fails_running_jobs_and_keeps_everything_else(private_server: Any) -> None:
    server, sagemaker, s3 = private_server()
    bucket = _seed(s3)
    done = job_request(unique("done"), bucket, [channel("train", f"s3://{bucket}/diabetes/train/")])
    sagemaker.create_training_job(**done)
    wait_for(sagemaker, done["TrainingJobName"])
    running, queued = _long_job(bucket), _long_job(bucket)
    sagemaker.create_training_job(**running)
    sagemaker.create_training_job(**queued)
    wait_for(sagemaker, running["TrainingJobName"], ("Training",))

    server.kill()
    _, sagemaker, s3 = private_server()

    interrupted = sagemaker.describe_training_job(TrainingJobName=running["TrainingJobName"])
    assert interrupted["TrainingJobStatus"] == "Failed"
    assert "server stopped" in interrupted["FailureReason"]
    assert sagemaker.describe_training_job(TrainingJobName=done["TrainingJobName"])["TrainingJobStatus"] == "Completed"
    resumed = wait_for(sagemaker, queued["TrainingJobName"], ("Training",))
    assert resumed["TrainingJobStatus"] == "InProgress"
    sagemaker.stop_training_job(TrainingJobName=queued["TrainingJobName"])
    assert s3.get_object(Bucket=bucket, Key="diabetes/train/a.csv")["Body"].read().startswith(b"1,2,3")
    assert wait_for(sagemaker, queued["TrainingJobName"])["TrainingJobStatus"] == "Stopped"


def _job_processes(arn: str) -> list[int]:
    """Live processes started for the job (recognised by TRAINING_JOB_ARN in their environment)."""
    found = []
    for folder in Path("/proc").iterdir():
        if not folder.name.isdigit():
            continue
        try:
            environ = (folder / "environ").read_bytes().split(b"\0")
            state = (folder / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"TRAINING_JOB_ARN={arn}".encode() in environ and state != "Z":
            found.append(int(folder.name))
    return found


@pytest.mark.parametrize(
    "specification",
    [
        {"ContainerEntrypoint": ["bash", "-c", "sleep 600"]},  # any command: known by its environment
        {},  # the built-in algorithm
    ],
)
def test_a_restart_kills_the_processes_an_interrupted_job_left(private_server: Any, specification: dict[str, Any]) -> None:
    server, sagemaker, s3 = private_server()
    bucket = _seed(s3)
    request = _long_job(bucket)
    if specification:
        request["AlgorithmSpecification"] = {
            "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
            "TrainingInputMode": "File",
            **specification,
        }
        request.pop("HyperParameters")
    sagemaker.create_training_job(**request)
    arn = wait_for(sagemaker, request["TrainingJobName"], ("Training",))["TrainingJobArn"]
    assert _job_processes(arn)

    server.kill()  # the job's process group outlives the server
    assert _job_processes(arn)
    _, sagemaker, _ = private_server()

    deadline = time.time() + 10
    while _job_processes(arn) and time.time() < deadline:
        time.sleep(0.1)
    assert _job_processes(arn) == []
    assert sagemaker.describe_training_job(TrainingJobName=request["TrainingJobName"])["TrainingJobStatus"] == "Failed"
