"""Bad input gets specific answers: an endpoint without data capture, cron expressions SageMaker
refuses, a baseline that is missing when the schedule needs it, a window without data."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.hosting.conftest import TrainedModel
from tests.services.monitoring import flows


@pytest.fixture(scope="module")
def capturing(sagemaker: Any, monitoring_bucket: str, regressor: TrainedModel) -> str:
    return flows.deploy_capturing(sagemaker, regressor, monitoring_bucket)


def refused(call: Any, code: str = "ValidationException") -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code, raised.value.response
    return str(raised.value.response["Error"]["Message"])


def test_a_schedule_on_an_endpoint_without_data_capture_is_refused(sagemaker: Any, monitoring_bucket: str, regressor: TrainedModel) -> None:
    endpoint = flows.deploy_capturing(sagemaker, regressor, monitoring_bucket, capture=False)
    definition = flows.unique("dq")
    sagemaker.create_data_quality_job_definition(**flows.data_quality_definition(definition, endpoint, monitoring_bucket))
    message = refused(lambda: sagemaker.create_monitoring_schedule(**flows.now_schedule(flows.unique("s"), definition)))
    assert f"Data capture is not enabled for endpoint {endpoint}" in message
    missing = flows.unique("dq")
    sagemaker.create_data_quality_job_definition(**flows.data_quality_definition(missing, "no-such-endpoint", monitoring_bucket))
    message = refused(lambda: sagemaker.create_monitoring_schedule(**flows.now_schedule(flows.unique("s"), missing)))
    assert "The endpoint no-such-endpoint to monitor does not exist" in message
    sagemaker.delete_endpoint(EndpointName=endpoint)


@pytest.mark.parametrize("expression", [
    "cron(15 * ? * * *)", "cron(0 24 ? * * *)", "cron(0 0/25 ? * * *)", "cron(0 * * * ? *)", "rate(1 hour)",
    "Hourly: cron(0 * ? * * *)", "cron(0 0 ? * MON *)",
])
def test_cron_expressions_sagemaker_refuses(sagemaker: Any, monitoring_bucket: str, capturing: str, expression: str) -> None:
    definition = flows.unique("dq")
    sagemaker.create_data_quality_job_definition(**flows.data_quality_definition(definition, capturing, monitoring_bucket))
    schedule = {"MonitoringScheduleName": flows.unique("s"), "MonitoringScheduleConfig": {
        "ScheduleConfig": {"ScheduleExpression": expression}, "MonitoringJobDefinitionName": definition, "MonitoringType": "DataQuality"}}
    message = refused(lambda: sagemaker.create_monitoring_schedule(**schedule))
    assert message.startswith(f"Invalid ScheduleExpression '{expression}'.")
    assert "cron(0 * ? * * *)" in message


@pytest.mark.parametrize("expression", ["cron(0 * ? * * *)", "cron(0 12 ? * * *)", "cron(0 17/12 ? * * *)", "cron(0 0/2 ? * * *)"])
def test_cron_expressions_sagemaker_accepts(sagemaker: Any, monitoring_bucket: str, capturing: str, expression: str) -> None:
    definition, name = flows.unique("dq"), flows.unique("s")
    sagemaker.create_data_quality_job_definition(**flows.data_quality_definition(definition, capturing, monitoring_bucket))
    sagemaker.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig={
        "ScheduleConfig": {"ScheduleExpression": expression}, "MonitoringJobDefinitionName": definition, "MonitoringType": "DataQuality"})
    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert described["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] == expression
    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=name)


def test_now_needs_its_window(sagemaker: Any, monitoring_bucket: str, capturing: str) -> None:
    definition = flows.unique("dq")
    sagemaker.create_data_quality_job_definition(**flows.data_quality_definition(definition, capturing, monitoring_bucket))
    schedule = flows.now_schedule(flows.unique("s"), definition)
    del schedule["MonitoringScheduleConfig"]["ScheduleConfig"]["DataAnalysisEndTime"]
    assert "are required when ScheduleExpression is NOW" in refused(lambda: sagemaker.create_monitoring_schedule(**schedule))
    schedule = flows.now_schedule(flows.unique("s"), definition)
    schedule["MonitoringScheduleConfig"]["ScheduleConfig"].update(DataAnalysisStartTime="-P2D", DataAnalysisEndTime="PT0H")
    assert "by more than 24 hours" in refused(lambda: sagemaker.create_monitoring_schedule(**schedule))
    schedule["MonitoringScheduleConfig"]["ScheduleConfig"]["DataAnalysisStartTime"] = "an hour ago"
    assert "is not an ISO 8601 duration" in refused(lambda: sagemaker.create_monitoring_schedule(**schedule))


def test_a_missing_baseline_is_refused_or_reported(sagemaker: Any, s3: Any, runtime: Any, monitoring_bucket: str,
                                                 capturing: str, regressor: TrainedModel) -> None:
    message = refused(lambda: sagemaker.create_data_quality_job_definition(**flows.data_quality_definition(
        flows.unique("dq"), capturing, monitoring_bucket, baseline={"BaseliningJobName": "never-ran"})))
    assert "BaseliningJobName 'never-ran' does not name a processing job" in message
    missing = f"s3://{monitoring_bucket}/nowhere/constraints.json"
    message = refused(lambda: sagemaker.create_data_quality_job_definition(**flows.data_quality_definition(
        flows.unique("dq"), capturing, monitoring_bucket, baseline={"ConstraintsResource": {"S3Uri": missing}})))
    assert f"ConstraintsResource.S3Uri '{missing}' does not exist" in message

    # a baseline that existed when the definition was made, then went away: the execution says so
    key = f"vanishing/{flows.unique('b')}/constraints.json"
    s3.put_object(Bucket=monitoring_bucket, Key=key, Body=b'{"version": 0.0, "features": []}')
    definition, schedule = flows.unique("dq"), flows.unique("s")
    sagemaker.create_data_quality_job_definition(**flows.data_quality_definition(
        definition, capturing, monitoring_bucket, baseline={"ConstraintsResource": {"S3Uri": f"s3://{monitoring_bucket}/{key}"}}))
    s3.delete_object(Bucket=monitoring_bucket, Key=key)
    flows.send(runtime, capturing, regressor.features[:3])
    flows.wait_capture(s3, monitoring_bucket, capturing, 3)
    sagemaker.create_monitoring_schedule(**flows.now_schedule(schedule, definition))
    execution = flows.wait_execution(sagemaker, schedule)
    assert execution["MonitoringExecutionStatus"] == "Failed"
    assert execution["FailureReason"].startswith(f"ClientError: The baseline constraints file s3://{monitoring_bucket}/{key} does not exist")
    assert "ProcessingJobArn" not in execution


def test_a_window_without_captured_data(sagemaker: Any, monitoring_bucket: str, regressor: TrainedModel) -> None:
    endpoint = flows.deploy_capturing(sagemaker, regressor, monitoring_bucket)
    definition, schedule = flows.unique("dq"), flows.unique("s")
    sagemaker.create_data_quality_job_definition(**flows.data_quality_definition(definition, endpoint, monitoring_bucket))
    sagemaker.create_monitoring_schedule(**flows.now_schedule(schedule, definition))
    execution = flows.wait_execution(sagemaker, schedule)
    assert (execution["MonitoringExecutionStatus"], execution["FailureReason"]) == ("Failed", "Job inputs had no data")
    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=schedule)
    assert described["LastMonitoringExecutionSummary"]["FailureReason"] == "Job inputs had no data"
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_unknown_schedules_and_definitions(sagemaker: Any) -> None:
    for call in (
        lambda: sagemaker.describe_monitoring_schedule(MonitoringScheduleName="nope"),
        lambda: sagemaker.start_monitoring_schedule(MonitoringScheduleName="nope"),
        lambda: sagemaker.stop_monitoring_schedule(MonitoringScheduleName="nope"),
        lambda: sagemaker.delete_monitoring_schedule(MonitoringScheduleName="nope"),
        lambda: sagemaker.describe_data_quality_job_definition(JobDefinitionName="nope"),
        lambda: sagemaker.delete_model_quality_job_definition(JobDefinitionName="nope"),
    ):
        refused(call, "ResourceNotFound")
    message = refused(lambda: sagemaker.create_monitoring_schedule(**flows.now_schedule(flows.unique("s"), "nope")))
    assert "Could not find the DataQuality job definition 'nope'" in message
