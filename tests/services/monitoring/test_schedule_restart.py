"""Schedules survive a restart: their configuration, status and executions come back, a NOW
schedule does not run again, and runs missed while the server was down catch up once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from sagebox.cli.server_process import ServerProcess
from sagebox.config import Settings
from sagebox.services.platform import Platform
from tests.services.monitoring import flows


def batch_definition(name: str, bucket: str) -> dict[str, Any]:
    """A data quality job on batch transform data: a schedule that needs no endpoint."""
    request = flows.data_quality_definition(name, "unused", bucket)
    request["DataQualityJobInput"] = {"BatchTransformInput": {
        "DataCapturedDestinationS3Uri": f"s3://{bucket}/batch", "LocalPath": "/opt/ml/processing/input/batch",
        "DatasetFormat": {"Csv": {"Header": True}}}}
    return request


def clients(server: ServerProcess) -> tuple[Any, Any]:
    options = {"endpoint_url": server.endpoint_url, "region_name": "us-east-1",
               "aws_access_key_id": "test", "aws_secret_access_key": "test"}
    return boto3.client("sagemaker", **options), boto3.client("s3", **options)


def test_schedules_and_executions_survive_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    server = ServerProcess(home).start()
    try:
        sagemaker, s3 = clients(server)
        s3.create_bucket(Bucket="restart")
        s3.put_object(Bucket="restart", Key="batch/part-0.csv", Body=b"a,b,c\n1,2.5,x\n2,3.5,y\n3,1.5,x\n")
        sagemaker.create_data_quality_job_definition(**batch_definition("batch-dq", "restart"))
        sagemaker.create_monitoring_schedule(**flows.now_schedule("once", "batch-dq"))
        sagemaker.create_monitoring_schedule(MonitoringScheduleName="hourly", MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"}, "MonitoringJobDefinitionName": "batch-dq",
            "MonitoringType": "DataQuality"})
        execution = flows.wait_execution(sagemaker, "once")
        assert execution["MonitoringExecutionStatus"] == "Completed", execution
        assert "EndpointName" not in execution
        statistics = flows.read_json(s3, f"{flows.output_uri(sagemaker, execution)}/statistics.json")
        assert statistics["dataset"]["item_count"] == 3
        deadline = time.time() + 10
        while sagemaker.describe_monitoring_schedule(MonitoringScheduleName="hourly")["MonitoringScheduleStatus"] != "Scheduled":
            assert time.time() < deadline
            time.sleep(0.1)
        sagemaker.stop_monitoring_schedule(MonitoringScheduleName="once")
        before = {name: sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name) for name in ("once", "hourly")}
    finally:
        server.kill()

    server = ServerProcess(home).start()
    try:
        sagemaker, _ = clients(server)
        time.sleep(1.5)  # a scheduler tick or more
        for name, described in before.items():
            after = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
            assert {k: v for k, v in after.items() if k != "ResponseMetadata"} == {
                k: v for k, v in described.items() if k != "ResponseMetadata"}
        executions = sagemaker.list_monitoring_executions(MonitoringScheduleName="once")["MonitoringExecutionSummaries"]
        assert [e["MonitoringExecutionStatus"] for e in executions] == ["Completed"]  # NOW ran once, and only once
        sagemaker.start_monitoring_schedule(MonitoringScheduleName="once")
        time.sleep(1.5)
        assert len(sagemaker.list_monitoring_executions(MonitoringScheduleName="once")["MonitoringExecutionSummaries"]) == 1
        assert sagemaker.list_monitoring_executions(MonitoringScheduleName="hourly")["MonitoringExecutionSummaries"] == []
    finally:
        server.stop()


def test_runs_missed_while_down_catch_up_once(tmp_path: Path) -> None:
    """The scheduler's own clock, moved forward: three hourly runs missed become one."""
    home = tmp_path / "home"
    first = Platform(Settings(home=home))
    first.objects.create_bucket("catchup")
    first.data_quality_job_definitions.create(batch_definition("batch-dq", "catchup"))
    first.monitoring_schedules.create({"MonitoringScheduleName": "hourly", "MonitoringScheduleConfig": {
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"}, "MonitoringJobDefinitionName": "batch-dq",
        "MonitoringType": "DataQuality"}})
    now = datetime.now(UTC)
    first.monitoring_schedules.tick(now)  # taken up: Scheduled, next run at the next hour
    assert first.monitoring_schedules.describe("hourly")["MonitoringScheduleStatus"] == "Scheduled"
    assert first.monitoring_schedules.list_executions({"MonitoringScheduleName": "hourly"})["MonitoringExecutionSummaries"] == []
    first.close()

    second = Platform(Settings(home=home))  # as after a restart; its clock says 3.5 hours later
    try:
        later = now + timedelta(hours=3, minutes=30)
        second.monitoring_schedules.tick(later)
        second.monitoring_schedules.tick(later + timedelta(minutes=1))
        executions = second.monitoring_schedules.list_executions({"MonitoringScheduleName": "hourly"})["MonitoringExecutionSummaries"]
        assert len(executions) == 1
        assert executions[0]["ScheduledTime"] == later.replace(minute=0, second=0, microsecond=0).timestamp()
        assert executions[0]["FailureReason"] == "Job inputs had no data"
        second.monitoring_schedules.tick(later + timedelta(hours=1))  # the next hour runs as usual
        assert len(second.monitoring_schedules.list_executions({"MonitoringScheduleName": "hourly"})["MonitoringExecutionSummaries"]) == 2
    finally:
        second.close()
