"""Endpoints publish SageMaker's invocation metrics to CloudWatch (AWS/SageMaker)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.services.hosting.conftest import TrainedModel, csv_rows, deploy, variant

METRICS = ("Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency", "OverheadLatency")


def sums(cloudwatch: Any, endpoint: str, variant_name: str) -> dict[str, dict[str, float]]:
    dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant_name}]
    now = datetime.now(UTC)
    found = {}
    for name in METRICS:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/SageMaker", MetricName=name, Dimensions=dims, StartTime=now - timedelta(minutes=10),
            EndTime=now + timedelta(minutes=1), Period=3600, Statistics=["Sum", "SampleCount", "Average", "Minimum"],
        )["Datapoints"]
        if points:
            found[name] = {k: sum(p[k] for p in points) for k in ("Sum", "SampleCount")} | {"Unit": points[0]["Unit"]}
    return found


def test_invocations_errors_and_latencies_reach_cloudwatch(sagemaker: Any, runtime: Any, model_a: TrainedModel) -> None:
    endpoint = deploy(sagemaker, [variant("Blue", model_a)])
    cloudwatch = boto3.client("cloudwatch")
    try:
        for row in model_a.features[:5]:
            runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_rows(row))
        for _ in range(2):
            with pytest.raises(ClientError) as raised:
                runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b"not,a,number\n")
            assert raised.value.response["Error"]["Code"] == "ModelError"
        deadline = time.time() + 20
        found: dict[str, dict[str, float]] = {}
        while time.time() < deadline:
            found = sums(cloudwatch, endpoint, "Blue")
            if found.get("Invocations", {}).get("Sum") == 7:
                break
            time.sleep(0.5)
        assert found["Invocations"]["Sum"] == 7
        assert found["Invocation4XXErrors"]["Sum"] + found["Invocation5XXErrors"]["Sum"] == 2
        assert found["Invocation4XXErrors"]["SampleCount"] == 7  # 0 or 1 per request: Average is the error rate
        assert found["ModelLatency"]["SampleCount"] == 5 and found["ModelLatency"]["Unit"] == "Microseconds"
        assert found["ModelLatency"]["Sum"] > 0 and found["OverheadLatency"]["Sum"] >= 0
        listed = cloudwatch.list_metrics(Namespace="AWS/SageMaker", Dimensions=[{"Name": "EndpointName", "Value": endpoint}])
        assert {m["MetricName"] for m in listed["Metrics"]} == set(METRICS)
    finally:
        sagemaker.delete_endpoint(EndpointName=endpoint)
