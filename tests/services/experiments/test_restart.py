"""Experiments, their associations and metric series outlive a server restart."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from sagebox.cli.server_process import ServerProcess
from tests.conftest import CLIENT_ENV


def _clients(server: ServerProcess) -> tuple[Any, Any]:
    options: dict[str, Any] = {
        "endpoint_url": server.endpoint_url,
        "region_name": CLIENT_ENV["AWS_DEFAULT_REGION"],
        "aws_access_key_id": CLIENT_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CLIENT_ENV["AWS_SECRET_ACCESS_KEY"],
    }
    return boto3.client("sagemaker", **options), boto3.client("sagemaker-metrics", **options)


def _points(values: range, now: datetime) -> list[dict[str, Any]]:
    return [{"MetricName": "loss", "Value": float(v), "Step": v, "Timestamp": now} for v in values]


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    now = datetime.now(UTC)
    server = ServerProcess(home).start()
    try:
        sagemaker, metrics = _clients(server)
        sagemaker.create_experiment(ExperimentName="kept", Tags=[{"Key": "k", "Value": "v"}])
        sagemaker.create_trial(TrialName="kept-trial", ExperimentName="kept")
        sagemaker.create_trial_component(TrialComponentName="kept-run", Parameters={"p": {"NumberValue": 1}})
        sagemaker.associate_trial_component(TrialComponentName="kept-run", TrialName="kept-trial")
        metrics.batch_put_metrics(TrialComponentName="kept-run", MetricData=_points(range(0, 10), now))
        before = sagemaker.describe_trial_component(TrialComponentName="kept-run")
    finally:
        server.stop()

    server = ServerProcess(home).start()
    try:
        sagemaker, metrics = _clients(server)
        after = sagemaker.describe_trial_component(TrialComponentName="kept-run")
        assert {k: v for k, v in after.items() if k != "ResponseMetadata"} == {
            k: v for k, v in before.items() if k != "ResponseMetadata"
        }
        assert sagemaker.describe_experiment(ExperimentName="kept")["ExperimentName"] == "kept"
        listed = sagemaker.list_trial_components(TrialName="kept-trial")["TrialComponentSummaries"]
        assert [s["TrialComponentName"] for s in listed] == ["kept-run"]
        # The running statistics were kept too: more points extend the same summary.
        metrics.batch_put_metrics(TrialComponentName="kept-run", MetricData=_points(range(10, 20), now))
        loss = sagemaker.describe_trial_component(TrialComponentName="kept-run")["Metrics"][0]
        assert (loss["Count"], loss["Min"], loss["Max"], loss["Avg"]) == (20, 0.0, 19.0, 9.5)
        assert abs(loss["StdDev"] - 5.916079783099616) < 1e-9
        series = metrics.batch_get_metrics(
            MetricQueries=[{"MetricName": "loss", "ResourceArn": after["TrialComponentArn"], "MetricStat": "Last",
                            "Period": "IterationNumber", "XAxisType": "IterationNumber"}]
        )["MetricQueryResults"][0]
        assert series["XAxisValues"] == list(range(20))
    finally:
        server.stop()
