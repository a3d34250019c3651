"""CloudWatch metrics through boto3 (which speaks the CBOR protocol): publish, read, list, refuse."""

from __future__ import annotations

import gzip
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def cloudwatch(sagebox_server: Any) -> Any:
    return boto3.client("cloudwatch")


def namespace() -> str:
    return f"Test/{uuid.uuid4().hex[:8]}"


def minute(offset: int = 0) -> datetime:
    now = datetime.now(UTC).replace(second=30, microsecond=0)
    return now + timedelta(minutes=offset)


def statistics(cloudwatch: Any, ns: str, name: str, dims: list[dict[str, str]], **extra: Any) -> list[dict[str, Any]]:
    if "ExtendedStatistics" not in extra:
        extra.setdefault("Statistics", ["SampleCount", "Sum", "Average", "Minimum", "Maximum"])
    answer = cloudwatch.get_metric_statistics(
        Namespace=ns, MetricName=name, Dimensions=dims, StartTime=minute(-10), EndTime=minute(2), Period=60, **extra
    )
    return sorted(answer["Datapoints"], key=lambda p: p["Timestamp"])


def test_values_statistic_sets_and_counts_merge_per_period(cloudwatch: Any) -> None:
    ns, dims = namespace(), [{"Name": "Host", "Value": "a"}]
    cloudwatch.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Latency", "Dimensions": dims, "Value": 4.0, "Timestamp": minute(-3), "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims, "Values": [1.0, 7.0], "Counts": [3, 1], "Timestamp": minute(-3), "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dims, "StatisticValues": {"SampleCount": 2, "Sum": 30, "Minimum": 10, "Maximum": 20},
         "Timestamp": minute(-1), "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "b"}], "Value": 1000.0, "Timestamp": minute(-3)},
    ])
    first, second = statistics(cloudwatch, ns, "Latency", dims)
    assert first["Timestamp"] == minute(-3).replace(second=0)
    assert (first["SampleCount"], first["Sum"], first["Minimum"], first["Maximum"]) == (5.0, 14.0, 1.0, 7.0)
    assert first["Average"] == pytest.approx(2.8)
    assert first["Unit"] == "Milliseconds"
    assert (second["SampleCount"], second["Sum"], second["Average"]) == (2.0, 30.0, 15.0)
    wide = cloudwatch.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=dims, StartTime=minute(-10), EndTime=minute(2), Period=600,
        Statistics=["Sum"],
    )["Datapoints"]
    assert [p["Sum"] for p in wide] == [44.0]
    percentiles = statistics(cloudwatch, ns, "Latency", dims, ExtendedStatistics=["p50", "p100"])
    assert percentiles[0]["ExtendedStatistics"] == {"p50": 1.0, "p100": 7.0}
    assert "ExtendedStatistics" not in percentiles[1]  # a statistic set has no percentiles


def test_unit_filter_and_metric_data_queries(cloudwatch: Any) -> None:
    ns = namespace()
    cloudwatch.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Size", "Value": 1.0, "Unit": "Bytes", "Timestamp": minute(-2)},
        {"MetricName": "Size", "Value": 2.0, "Unit": "Kilobytes", "Timestamp": minute(-2)},
        {"MetricName": "Size", "Value": 5.0, "Unit": "Bytes", "Timestamp": minute(-1)},
    ])
    bytes_only = statistics(cloudwatch, ns, "Size", [], Statistics=["Sum"], Unit="Bytes")
    assert [p["Sum"] for p in bytes_only] == [1.0, 5.0]
    assert {p["Unit"] for p in statistics(cloudwatch, ns, "Size", [], Statistics=["Sum"])} == {"Bytes", "Kilobytes"}
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {"Id": "bytes", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Size"}, "Period": 60, "Stat": "Sum", "Unit": "Bytes"}},
            {"Id": "hidden", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Size"}, "Period": 60, "Stat": "Maximum"}, "ReturnData": False},
        ],
        StartTime=minute(-10), EndTime=minute(2),
    )["MetricDataResults"]
    assert [(r["Id"], r["Label"], r["Values"], r["StatusCode"]) for r in answer] == [("bytes", "Size", [5.0, 1.0], "Complete")]
    assert answer[0]["Timestamps"][0] > answer[0]["Timestamps"][1]  # newest first by default


def test_list_metrics_filters_by_name_dimension_and_activity(cloudwatch: Any) -> None:
    ns = namespace()
    cloudwatch.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "A", "Dimensions": [{"Name": "Endpoint", "Value": "e1"}, {"Name": "Variant", "Value": "v"}], "Value": 1.0},
        {"MetricName": "A", "Dimensions": [{"Name": "Endpoint", "Value": "e2"}], "Value": 1.0},
        {"MetricName": "B", "Value": 1.0},
    ])
    def names(**filters: Any) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        metrics = cloudwatch.list_metrics(Namespace=ns, **filters)["Metrics"]
        return sorted((m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in metrics)
    assert len(names()) == 3
    assert names(MetricName="B") == [("B", ())]
    assert names(Dimensions=[{"Name": "Endpoint"}]) == [
        ("A", (("Endpoint", "e1"), ("Variant", "v"))), ("A", (("Endpoint", "e2"),))]
    assert names(Dimensions=[{"Name": "Endpoint", "Value": "e2"}]) == [("A", (("Endpoint", "e2"),))]
    assert len(names(RecentlyActive="PT3H")) == 3


def test_a_large_batch_arrives_gzip_compressed(cloudwatch: Any) -> None:
    ns = namespace()
    data = [{"MetricName": "Many", "Dimensions": [{"Name": "Index", "Value": str(i % 3)}], "Value": float(i), "Timestamp": minute(-1)}
            for i in range(600)]
    seen: list[str] = []
    cloudwatch.meta.events.register("before-send.cloudwatch.PutMetricData",
                                    lambda request, **_: seen.append(request.headers.get("Content-Encoding", b"")))
    cloudwatch.put_metric_data(Namespace=ns, MetricData=data)
    assert seen and seen[-1] in ("gzip", b"gzip")
    total = sum(p["Sum"] for i in range(3) for p in statistics(cloudwatch, ns, "Many", [{"Name": "Index", "Value": str(i)}], Statistics=["Sum"]))
    assert total == sum(range(600))
    assert gzip.decompress(gzip.compress(b"x")) == b"x"


@pytest.mark.parametrize(
    ("call", "code", "words"),
    [
        (lambda cw: cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=[{"MetricName": "x", "Value": 1.0}]),
         "InvalidParameterValue", "The value AWS/SageMaker for parameter Namespace is invalid."),
        (lambda cw: cw.put_metric_data(Namespace="T/x", MetricData=[
            {"MetricName": "x", "Value": 1.0, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}]),
         "InvalidParameterCombination", "MetricData.member.1.Value and MetricData.member.1.StatisticValues are mutually exclusive"),
        (lambda cw: cw.put_metric_data(Namespace="T/x", MetricData=[{"MetricName": "x", "Value": 1.0, "Timestamp": minute(-60 * 24 * 20)}]),
         "InvalidParameterValue", "no more than two weeks in the past"),
        (lambda cw: cw.get_metric_statistics(Namespace="T/x", MetricName="x", StartTime=minute(), EndTime=minute(-5), Period=60, Statistics=["Sum"]),
         "InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime."),
        (lambda cw: cw.get_metric_statistics(Namespace="T/x", MetricName="x", StartTime=minute(-5), EndTime=minute(), Period=90, Statistics=["Sum"]),
         "InvalidParameterValue", "Period must be 1, 5, 10, 30 or a multiple of 60"),
        (lambda cw: cw.get_metric_statistics(Namespace="T/x", MetricName="x", StartTime=minute(-60 * 48), EndTime=minute(), Period=60, Statistics=["Sum"]),
         "InvalidParameterCombination", "which exceeds the limit of 1,440"),
        (lambda cw: cw.get_metric_statistics(Namespace="T/x", MetricName="x", StartTime=minute(-5), EndTime=minute(), Period=60,
                                             Statistics=["Sum"], ExtendedStatistics=["p99"]),
         "InvalidParameterCombination", "Statistics and ExtendedStatistics are mutually exclusive"),
        (lambda cw: cw.get_metric_data(MetricDataQueries=[{"Id": "e", "Expression": "SUM(METRICS())"}], StartTime=minute(-5), EndTime=minute()),
         "InvalidParameterValue", "does not evaluate metric math"),
    ],
)
def test_bad_requests_are_refused_with_cloudwatch_codes(cloudwatch: Any, call: Any, code: str, words: str) -> None:
    with pytest.raises(ClientError) as raised:
        call(cloudwatch)
    assert raised.value.response["Error"]["Code"] == code
    assert words in raised.value.response["Error"]["Message"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
