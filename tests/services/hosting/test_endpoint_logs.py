"""An endpoint's model server logs in CloudWatch Logs, one stream per instance."""

from __future__ import annotations

from typing import Any

import boto3

from tests.services.hosting.conftest import TrainedModel, deploy, variant


def test_each_instance_logs_to_its_own_stream(sagemaker: Any, model_a: TrainedModel) -> None:
    endpoint = deploy(sagemaker, [variant("Main", model_a, count=2)])
    try:
        logs = boto3.client("logs")
        group = f"/aws/sagemaker/Endpoints/{endpoint}"
        groups = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        assert [g["logGroupName"] for g in groups] == [group]
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        assert len(streams) == 2
        assert all(s["logStreamName"].startswith("Main/") for s in streams)
        events = logs.get_log_events(
            logGroupName=group, logStreamName=streams[0]["logStreamName"], startFromHead=True
        )["events"]
        assert events, "the model server logged nothing"
    finally:
        sagemaker.delete_endpoint(EndpointName=endpoint)


def test_logs_outlive_the_endpoint_as_in_cloudwatch(sagemaker: Any, model_a: TrainedModel) -> None:
    endpoint = deploy(sagemaker, [variant("AllTraffic", model_a)])
    sagemaker.delete_endpoint(EndpointName=endpoint)
    logs = boto3.client("logs")
    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"].split("/")[0] for s in streams] == ["AllTraffic"]
    events = logs.get_log_events(logGroupName=group, logStreamName=streams[0]["logStreamName"], startFromHead=True)
    assert any("ready" in e["message"] for e in events["events"]), events["events"][:5]
