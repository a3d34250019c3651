"""A processing job end to end through boto3: inputs in, the script run, outputs in S3, Describe."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import boto3
import pytest

from tests.services.processing.jobs import (
    CODE,
    IMAGE,
    ROLE,
    job_request,
    s3_input,
    s3_output,
    unique,
    wait_for,
)

LOG_GROUP = "/aws/sagemaker/ProcessingJobs"


@pytest.fixture(scope="module")
def finished(sagemaker: Any, processing_bucket: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A job that reads the CSV, writes an EndOfJob and a Continuous output; (request, Describe)."""
    bucket = processing_bucket
    name = unique("prepare")
    request = job_request(
        name,
        ["python3", f"{CODE}/prepare.py"],
        [
            "--input", "/opt/ml/processing/input/data",
            "--train-output=/opt/ml/processing/output/train",
            "--report-output", "/opt/ml/processing/output/report",
        ],
        inputs=[
            s3_input("code", f"s3://{bucket}/code/prepare.py", CODE),
            s3_input("data", f"s3://{bucket}/data/raw", "/opt/ml/processing/input/data"),
        ],
        outputs=[
            s3_output("train", f"s3://{bucket}/{name}/train", "/opt/ml/processing/output/train"),
            s3_output("report", f"s3://{bucket}/{name}/report/", "/opt/ml/processing/output/report", "Continuous"),
        ],
        Environment={"SCALE": "10"},
        Tags=[{"Key": "team", "Value": "data"}],
    )
    answer = sagemaker.create_processing_job(**request)
    assert answer["ProcessingJobArn"] == f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/{name}"
    described = wait_for(sagemaker, name)
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    return request, described


def _read(s3: Any, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_outputs_are_uploaded_under_their_s3_uri(s3: Any, processing_bucket: str, finished: Any) -> None:
    request, _ = finished
    name = request["ProcessingJobName"]
    train = _read(s3, processing_bucket, f"{name}/train/part-0.csv").decode()
    assert train.splitlines() == ["1,5,20", "0,15,30", "1,25,40", "0,35,50"]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=processing_bucket, Prefix=f"{name}/")["Contents"])
    assert keys == [
        f"{name}/report/nested/hard-coded.txt",
        f"{name}/report/report.json",
        f"{name}/train/part-0.csv",
    ]
    assert _read(s3, processing_bucket, f"{name}/report/nested/hard-coded.txt") == b"written through /opt/ml\n"


def test_the_script_sees_the_container_contract(s3: Any, processing_bucket: str, finished: Any) -> None:
    request, described = finished
    name = request["ProcessingJobName"]
    report = json.loads(_read(s3, processing_bucket, f"{name}/report/report.json"))
    assert report["rows"] == 4 and report["header"] == ["label", "x1", "x2"]
    assert report["scale"] == "10"
    # Container paths given as arguments arrive as the job folder's own paths.
    arguments = report["arguments"]
    assert arguments[0] == "--input" and arguments[1].endswith(f"/processing/{name}/processing/input/data")
    assert arguments[2].startswith("--train-output=/") and arguments[2].endswith("/processing/output/train")
    assert not any(a.startswith("/opt/ml") or "=/opt/ml" in a for a in arguments)
    assert report["cwd"].endswith(f"/processing/{name}")
    assert report["job_name"] == name and report["job_arn"] == described["ProcessingJobArn"]
    assert report["input_paths"] == [CODE, "/opt/ml/processing/input/data"]
    assert (report["current_host"], report["hosts"]) == ("algo-1", ["algo-1"])
    assert report["hard_coded_read_matches"] is True
    assert report["listing"] == ["data.csv"]


def test_describe_returns_the_whole_job(finished: Any) -> None:
    request, described = finished
    for member in ("ProcessingJobName", "ProcessingResources", "StoppingCondition", "Environment", "RoleArn"):
        assert described[member] == request[member], member
    assert described["AppSpecification"] == {
        "ImageUri": IMAGE,
        "ContainerEntrypoint": request["AppSpecification"]["ContainerEntrypoint"],
        "ContainerArguments": request["AppSpecification"]["ContainerArguments"],
    }
    data = described["ProcessingInputs"][1]
    assert data == {
        "InputName": "data",
        "AppManaged": False,
        "S3Input": {
            "S3Uri": request["ProcessingInputs"][1]["S3Input"]["S3Uri"],
            "LocalPath": "/opt/ml/processing/input/data",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
        },
    }
    outputs = described["ProcessingOutputConfig"]["Outputs"]
    assert [(o["OutputName"], o["S3Output"]["S3UploadMode"], o["AppManaged"]) for o in outputs] == [
        ("train", "EndOfJob", False),
        ("report", "Continuous", False),
    ]
    assert described["ProcessingJobStatus"] == "Completed"
    assert described["ExitMessage"] == "prepared 4 rows"
    assert "FailureReason" not in described
    times = [described[k] for k in ("CreationTime", "ProcessingStartTime", "ProcessingEndTime")]
    assert all(isinstance(t, datetime) for t in times)
    assert times == sorted(times)
    assert described["LastModifiedTime"] == described["ProcessingEndTime"]


def test_tags_given_at_creation_are_listed(sagemaker: Any, finished: Any) -> None:
    _, described = finished
    arn = described["ProcessingJobArn"]
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "data"}]
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "prep"}])
    assert {t["Key"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]} == {"team", "stage"}


def test_the_log_is_a_cloudwatch_stream(sagebox_server: Any, finished: Any) -> None:
    logs = boto3.client("logs")
    request, _ = finished
    name = request["ProcessingJobName"]
    groups = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"]]
    assert LOG_GROUP in groups
    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{name}/")["logStreams"]
    assert len(streams) == 1
    job, _, rest = streams[0]["logStreamName"].partition("/")
    host, _, epoch = rest.rpartition("-")
    assert (job, host) == (name, "algo-1")
    assert int(epoch) == streams[0]["firstEventTimestamp"] // 1000
    events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=streams[0]["logStreamName"], startFromHead=True)
    assert [e["message"] for e in events["events"]] == ["prepared 4 rows with scale 10.0", "done"]


def test_a_job_with_no_inputs_or_outputs_runs_its_command(sagemaker: Any) -> None:
    name = unique("inline")
    sagemaker.create_processing_job(
        ProcessingJobName=name,
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.t3.medium", "VolumeSizeInGB": 1}},
        AppSpecification={"ImageUri": "anything:latest", "ContainerEntrypoint": ["python3.11", "-c", "print('hello')"]},
        RoleArn=ROLE,
    )
    described = wait_for(sagemaker, name)
    assert described["ProcessingJobStatus"] == "Completed"
    assert described["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert "ProcessingInputs" not in described and "ExitMessage" not in described
