"""A training job's log in CloudWatch Logs, read as the SageMaker SDK reads it."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.services.training.jobs import channel, job_request, unique, wait_for

GROUP = "/aws/sagemaker/TrainingJobs"


@pytest.fixture(scope="module")
def logs(sagebox_server: Any) -> Any:
    return boto3.client("logs")


@pytest.fixture(scope="module")
def finished_job(sagemaker: Any, diabetes_bucket: str) -> str:
    name = unique("logged")
    sagemaker.create_training_job(
        **job_request(
            name,
            diabetes_bucket,
            [
                channel("train", f"s3://{diabetes_bucket}/diabetes/train/"),
                channel("validation", f"s3://{diabetes_bucket}/diabetes/validation/"),
            ],
            HyperParameters={"objective": "reg:squarederror", "num_round": "30"},
        )
    )
    assert wait_for(sagemaker, name)["TrainingJobStatus"] == "Completed"
    return name


def test_the_job_has_one_stream_named_as_sagemaker_names_it(logs: Any, finished_job: str) -> None:
    answer = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=f"{finished_job}/")
    streams = answer["logStreams"]
    assert "nextToken" not in answer
    assert len(streams) == 1
    job, _, rest = streams[0]["logStreamName"].partition("/")
    host, _, epoch = rest.rpartition("-")
    assert (job, host) == (finished_job, "algo-1")
    assert int(epoch) == streams[0]["firstEventTimestamp"] // 1000
    assert streams[0]["lastEventTimestamp"] >= streams[0]["firstEventTimestamp"]


def test_events_read_forward_until_the_token_stops_moving(logs: Any, finished_job: str) -> None:
    stream = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=f"{finished_job}/")["logStreams"][0]
    name = stream["logStreamName"]
    first = logs.get_log_events(logGroupName=GROUP, logStreamName=name, startFromHead=True, limit=5)
    assert len(first["events"]) == 5
    messages = [e["message"] for e in first["events"]]
    token = first["nextForwardToken"]
    while True:
        page = logs.get_log_events(logGroupName=GROUP, logStreamName=name, startFromHead=True, nextToken=token)
        messages += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:
            assert page["events"] == []
            break
        token = page["nextForwardToken"]
    rounds = [m for m in messages if "validation-rmse" in m]
    assert len(rounds) == 30
    assert rounds[0].startswith("[0]#011train-rmse:")
    latest = logs.get_log_events(logGroupName=GROUP, logStreamName=name, limit=1)["events"]
    assert latest[0]["message"] == messages[-1]
    # The tail read from the end, then paged backwards from there.
    tail = logs.get_log_events(logGroupName=GROUP, logStreamName=name, limit=3)
    assert [e["message"] for e in tail["events"]] == messages[-3:]
    before = logs.get_log_events(logGroupName=GROUP, logStreamName=name, limit=2, nextToken=tail["nextBackwardToken"])
    assert [e["message"] for e in before["events"]] == messages[-5:-3]


def test_filter_log_events_by_terms(logs: Any, finished_job: str) -> None:
    found = logs.filter_log_events(
        logGroupName=GROUP, logStreamNamePrefix=f"{finished_job}/", filterPattern='"[29]" validation-rmse'
    )["events"]
    assert len(found) == 1
    assert found[0]["logStreamName"].startswith(f"{finished_job}/algo-1-")
    assert found[0]["message"].startswith("[29]#011")
    none = logs.filter_log_events(logGroupName=GROUP, logStreamNamePrefix=f"{finished_job}/", filterPattern="-rmse")
    assert all("rmse" not in e["message"] for e in none["events"])


def test_unknown_stream_and_group(logs: Any, finished_job: str) -> None:
    with pytest.raises(ClientError) as info:
        logs.get_log_events(logGroupName=GROUP, logStreamName=f"{finished_job}/algo-9-1")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as info:
        logs.describe_log_streams(logGroupName="/aws/sagemaker/Endpoints/never-made")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "log group does not exist" in info.value.response["Error"]["Message"]
