"""Many BatchPutMetrics writers at once, through boto3 against a live server: every point is
counted in its component's summary and series (the writer thread commits several requests
per transaction), and all of it is there after a restart."""

from __future__ import annotations

import statistics
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from sagebox.cli.server_process import ServerProcess
from tests.conftest import CLIENT_ENV

COMPONENTS = ("many-a", "many-b", "many-c")
WRITERS_PER_COMPONENT = 4
REQUESTS_PER_WRITER = 5


def _clients(server: ServerProcess) -> tuple[Any, Any]:
    options: dict[str, Any] = {
        "endpoint_url": server.endpoint_url,
        "region_name": CLIENT_ENV["AWS_DEFAULT_REGION"],
        "aws_access_key_id": CLIENT_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CLIENT_ENV["AWS_SECRET_ACCESS_KEY"],
    }
    return boto3.client("sagemaker", **options), boto3.client("sagemaker-metrics", **options)


def _values(component: int, writer: int, request: int) -> list[float]:
    """Ten distinct values per request; quarters are exact in binary."""
    first = ((component * WRITERS_PER_COMPONENT + writer) * REQUESTS_PER_WRITER + request) * 10
    return [(first + i) / 4 for i in range(10)]


def _summaries(sagemaker: Any) -> dict[str, dict[str, Any]]:
    return {
        name: sagemaker.describe_trial_component(TrialComponentName=name)["Metrics"][0]
        for name in COMPONENTS
    }


def test_concurrent_writers_points_are_all_counted_and_survive_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    now = datetime.now(UTC)
    server = ServerProcess(home).start()
    try:
        sagemaker, _ = _clients(server)
        for name in COMPONENTS:
            sagemaker.create_trial_component(TrialComponentName=name)
        start = threading.Barrier(len(COMPONENTS) * WRITERS_PER_COMPONENT)
        answers: list[dict[str, Any]] = []
        failures: list[BaseException] = []

        def write(component: int, writer: int) -> None:
            client = _clients(server)[1]
            start.wait()
            try:
                for request in range(REQUESTS_PER_WRITER):
                    data = [
                        {"MetricName": "x", "Value": v, "Timestamp": now}
                        for v in _values(component, writer, request)
                    ]
                    # One point per request out of the time window: refused by index, not stored.
                    data.append(
                        {"MetricName": "x", "Value": -1.0, "Timestamp": now - timedelta(days=20)}
                    )
                    data = data[-10:] if request % 2 else data[:10]
                    answers.append(
                        client.batch_put_metrics(
                            TrialComponentName=COMPONENTS[component], MetricData=data
                        )
                    )
            except BaseException as exc:  # reported below, not lost in the thread
                failures.append(exc)

        threads = [
            threading.Thread(target=write, args=(component, writer))
            for component in range(len(COMPONENTS))
            for writer in range(WRITERS_PER_COMPONENT)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        refused = [a.get("Errors") for a in answers if a.get("Errors")]
        # Odd requests carried the stale point last (index 9) and dropped their first value.
        assert refused == [[{"Code": "VALIDATION_ERROR", "MetricIndex": 9}]] * (
            len(threads) * (REQUESTS_PER_WRITER // 2)
        )
        before = _summaries(sagemaker)
    finally:
        server.stop()

    server = ServerProcess(home).start()
    try:
        sagemaker, metrics = _clients(server)
        after = _summaries(sagemaker)
        assert after == before
        for index, name in enumerate(COMPONENTS):
            values = [
                v
                for writer in range(WRITERS_PER_COMPONENT)
                for request in range(REQUESTS_PER_WRITER)
                for v in (
                    _values(index, writer, request)[1:]
                    if request % 2
                    else _values(index, writer, request)
                )
            ]
            summary = after[name]
            assert summary["Count"] == len(values)
            assert (summary["Min"], summary["Max"]) == (min(values), max(values))
            assert summary["Avg"] == pytest.approx(statistics.fmean(values), rel=1e-12)
            assert summary["StdDev"] == pytest.approx(statistics.stdev(values), rel=1e-9)
            arn = sagemaker.describe_trial_component(TrialComponentName=name)["TrialComponentArn"]
            series = metrics.batch_get_metrics(
                MetricQueries=[
                    {
                        "MetricName": "x",
                        "ResourceArn": arn,
                        "MetricStat": "Count",
                        "Period": "OneHour",
                        "XAxisType": "Timestamp",
                    }
                ]
            )["MetricQueryResults"][0]
            assert sum(series["MetricValues"]) == len(values)
        # The search index followed the summaries: the largest Max is the last component's.
        found = sagemaker.search(
            Resource="ExperimentTrialComponent",
            SearchExpression={
                "Filters": [
                    {
                        "Name": "Metrics.x.Max",
                        "Operator": "GreaterThanOrEqualTo",
                        "Value": str(after[COMPONENTS[-1]]["Max"]),
                    }
                ]
            },
        )["Results"]
        assert [r["TrialComponent"]["TrialComponentName"] for r in found] == [COMPONENTS[-1]]
    finally:
        server.stop()
