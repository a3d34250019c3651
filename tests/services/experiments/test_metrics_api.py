"""The sagemaker-metrics service through boto3: BatchPutMetrics and BatchGetMetrics."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.services.training.jobs import unique


@pytest.fixture(scope="module")
def metrics(sagebox_server: Any):  # noqa: ANN201 - boto3 clients are dynamically typed
    return boto3.client("sagemaker-metrics")


def _summary(sagemaker: Any, component: str, metric: str) -> dict[str, Any]:
    described = sagemaker.describe_trial_component(TrialComponentName=component)
    return next(m for m in described["Metrics"] if m["MetricName"] == metric)


def test_points_make_the_summary_describe_shows(sagemaker: Any, metrics: Any) -> None:
    component = unique("metrics")
    sagemaker.create_trial_component(TrialComponentName=component)
    values = [0.9 - 0.007 * step + (0.05 if step % 7 == 0 else 0.0) for step in range(120)]
    start = int(time.time()) - 300
    for first in range(0, len(values), 10):
        answer = metrics.batch_put_metrics(
            TrialComponentName=component,
            MetricData=[
                {"MetricName": "loss", "Value": values[step], "Step": step, "Timestamp": datetime.fromtimestamp(start + step, UTC)}
                for step in range(first, first + 10)
            ],
        )
        assert "Errors" not in answer
    summary = _summary(sagemaker, component, "loss")
    assert summary["Count"] == 120
    assert summary["Min"] == min(values) and summary["Max"] == max(values)
    assert summary["Last"] == values[-1]
    assert summary["Avg"] == pytest.approx(statistics.fmean(values), rel=1e-12)
    assert summary["StdDev"] == pytest.approx(statistics.stdev(values), rel=1e-9)
    assert summary["TimeStamp"] == datetime.fromtimestamp(start + 119, UTC)
    assert "SourceArn" not in summary

    arn = sagemaker.describe_trial_component(TrialComponentName=component)["TrialComponentArn"]
    by_step = metrics.batch_get_metrics(
        MetricQueries=[{"MetricName": "loss", "ResourceArn": arn, "MetricStat": "Avg",
                        "Period": "IterationNumber", "XAxisType": "IterationNumber"}]
    )["MetricQueryResults"][0]
    assert by_step["Status"] == "Complete"
    assert by_step["XAxisValues"] == list(range(120))
    assert by_step["MetricValues"] == values
    by_minute = metrics.batch_get_metrics(
        MetricQueries=[{"MetricName": "loss", "ResourceArn": arn, "MetricStat": "Count",
                        "Period": "OneMinute", "XAxisType": "Timestamp"}]
    )["MetricQueryResults"][0]
    assert sum(by_minute["MetricValues"]) == 120
    assert all(x % 60 == 0 for x in by_minute["XAxisValues"])
    absent = arn.replace(component, unique("none"))
    refused = metrics.batch_get_metrics(
        MetricQueries=[{"MetricName": "loss", "ResourceArn": absent, "MetricStat": "Avg",
                        "Period": "OneMinute", "XAxisType": "Timestamp"}]
    )["MetricQueryResults"][0]
    assert refused["Status"] == "ValidationError"
    assert refused["Message"] == f"No trial component or job with ARN '{absent}' exists."

def test_points_outside_the_time_window_are_reported_by_index(sagemaker: Any, metrics: Any) -> None:
    component = unique("window")
    sagemaker.create_trial_component(TrialComponentName=component)
    now = datetime.now(UTC)
    answer = metrics.batch_put_metrics(
        TrialComponentName=component,
        MetricData=[
            {"MetricName": "acc", "Value": 0.5, "Timestamp": now},
            {"MetricName": "acc", "Value": 0.1, "Timestamp": now - timedelta(days=15)},
            {"MetricName": "acc", "Value": 0.7, "Timestamp": now},
            {"MetricName": "acc", "Value": 0.2, "Timestamp": now + timedelta(hours=3)},
        ],
    )
    assert answer["Errors"] == [
        {"Code": "VALIDATION_ERROR", "MetricIndex": 1},
        {"Code": "VALIDATION_ERROR", "MetricIndex": 3},
    ]
    summary = _summary(sagemaker, component, "acc")
    assert (summary["Count"], summary["Min"], summary["Max"], summary["Last"]) == (2, 0.5, 0.7, 0.7)


def test_requests_the_model_or_the_store_refuse(metrics: Any) -> None:
    now = datetime.now(UTC)
    point = {"MetricName": "m", "Value": 1.0, "Timestamp": now}
    absent = unique("absent")
    with pytest.raises(ClientError) as caught:
        metrics.batch_put_metrics(TrialComponentName=absent, MetricData=[point])
    error = caught.value.response["Error"]
    assert error["Code"] == "ResourceNotFound"
    assert error["Message"].endswith(f":experiment-trial-component/{absent}' does not exist.")
    with pytest.raises(ClientError) as caught:
        metrics.batch_put_metrics(TrialComponentName="Upper-Case", MetricData=[point])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "regular expression pattern" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        metrics.batch_put_metrics(TrialComponentName=absent, MetricData=[point] * 11)
    assert "length less than or equal to 10" in caught.value.response["Error"]["Message"]


def test_concurrent_writers_keep_summary_and_points_in_step(sagemaker: Any, metrics: Any) -> None:
    component = unique("parallel")
    arn = sagemaker.create_trial_component(TrialComponentName=component)["TrialComponentArn"]
    clients = [boto3.client("sagemaker-metrics") for _ in range(4)]
    now = datetime.now(UTC)

    def write(index: int) -> None:
        for batch in range(10):
            clients[index].batch_put_metrics(
                TrialComponentName=component,
                MetricData=[{"MetricName": "x", "Value": float(index * 100 + batch * 10 + i), "Timestamp": now}
                            for i in range(10)],
            )

    threads = [threading.Thread(target=write, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    summary = _summary(sagemaker, component, "x")
    assert (summary["Count"], summary["Min"], summary["Max"]) == (400, 0.0, 399.0)
    assert summary["Avg"] == pytest.approx(199.5)
    counted = metrics.batch_get_metrics(
        MetricQueries=[{"MetricName": "x", "ResourceArn": arn, "MetricStat": "Count",
                        "Period": "OneHour", "XAxisType": "Timestamp"}]
    )["MetricQueryResults"][0]
    assert sum(counted["MetricValues"]) == 400
