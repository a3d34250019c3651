"""The four job definition families and the schedules' own API: describe, list and its
filters, update, start and stop, delete (a definition in use is kept), tags."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.services.hosting.conftest import TrainedModel
from tests.services.monitoring import flows

CLARIFY = "205585389593.dkr.ecr.us-east-1.amazonaws.com/sagemaker-clarify-processing:1.0"


@pytest.fixture(scope="module")
def endpoint(sagemaker: Any, monitoring_bucket: str, regressor: TrainedModel) -> str:
    return flows.deploy_capturing(sagemaker, regressor, monitoring_bucket)


ANALYSIS_CONFIGS = {
    "ModelBias": {"label": "y", "label_values_or_threshold": [1], "facet": [{"name_or_index": "sex"}], "headers": ["y", "sex", "x"]},
    "ModelExplainability": {"methods": {"shap": {"baseline": [[1, 2]]}}, "headers": ["sex", "x"],
                            "predictor": {"model_name": "m", "instance_type": "ml.m5.large", "initial_instance_count": 1}},
}


def clarify_definition(kind: str, name: str, endpoint: str, bucket: str) -> dict[str, Any]:
    boto3.client("s3").put_object(Bucket=bucket, Key=f"config/{kind}/analysis_config.json", Body=json.dumps(ANALYSIS_CONFIGS[kind]).encode())
    job_input: dict[str, Any] = {"EndpointInput": {"EndpointName": endpoint, "LocalPath": "/opt/ml/processing/input/endpoint"}}
    if kind == "ModelBias":
        job_input["GroundTruthS3Input"] = {"S3Uri": f"s3://{bucket}/gt"}
    return {
        "JobDefinitionName": name,
        f"{kind}AppSpecification": {"ImageUri": CLARIFY, "ConfigUri": f"s3://{bucket}/config/{kind}/analysis_config.json"},
        f"{kind}JobInput": job_input,
        f"{kind}JobOutputConfig": {"MonitoringOutputs": [{"S3Output": {"S3Uri": f"s3://{bucket}/out", "LocalPath": "/opt/ml/processing/output"}}]},
        "JobResources": {"ClusterConfig": flows.CLUSTER}, "RoleArn": flows.ROLE,
        "Tags": [{"Key": "team", "Value": "ml"}],
    }


def test_every_definition_family_creates_describes_lists_and_deletes(sagemaker: Any, monitoring_bucket: str, endpoint: str) -> None:
    data = flows.unique("dq")
    arn = sagemaker.create_data_quality_job_definition(**flows.data_quality_definition(data, endpoint, monitoring_bucket))["JobDefinitionArn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:123456789012:data-quality-job-definition/{data}"
    described = sagemaker.describe_data_quality_job_definition(JobDefinitionName=data)
    assert described["JobDefinitionArn"] == arn and described["JobDefinitionName"] == data
    assert described["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == endpoint
    listed = sagemaker.list_data_quality_job_definitions(EndpointName=endpoint)["JobDefinitionSummaries"]
    assert [(s["MonitoringJobDefinitionName"], s["EndpointName"]) for s in listed] == [(data, endpoint)]
    assert sagemaker.list_data_quality_job_definitions(NameContains=data[3:])["JobDefinitionSummaries"][0]["MonitoringJobDefinitionArn"] == arn
    for kind, create, describe in (
        ("ModelBias", sagemaker.create_model_bias_job_definition, sagemaker.describe_model_bias_job_definition),
        ("ModelExplainability", sagemaker.create_model_explainability_job_definition, sagemaker.describe_model_explainability_job_definition),
    ):
        name = flows.unique(kind.lower())
        made = create(**clarify_definition(kind, name, endpoint, monitoring_bucket))["JobDefinitionArn"]
        assert describe(JobDefinitionName=name)[f"{kind}AppSpecification"]["ConfigUri"].endswith("analysis_config.json")
        assert sagemaker.list_tags(ResourceArn=made)["Tags"] == [{"Key": "team", "Value": "ml"}]
    with pytest.raises(ClientError) as raised:
        sagemaker.create_data_quality_job_definition(**flows.data_quality_definition(data, endpoint, monitoring_bucket))
    assert raised.value.response["Error"]["Code"] == "ResourceInUse"
    bias = clarify_definition("ModelBias", flows.unique("bias"), endpoint, monitoring_bucket)
    del bias["ModelBiasJobInput"]["GroundTruthS3Input"]["S3Uri"]
    with pytest.raises(ClientError) as raised:
        sagemaker.create_model_bias_job_definition(**bias)
    assert "GroundTruthS3Input.S3Uri is required" in raised.value.response["Error"]["Message"]
    sagemaker.delete_data_quality_job_definition(JobDefinitionName=data)
    assert sagemaker.list_data_quality_job_definitions(EndpointName=endpoint)["JobDefinitionSummaries"] == []


def test_schedule_lifecycle_and_filters(sagemaker: Any, monitoring_bucket: str, endpoint: str) -> None:
    definition, name = flows.unique("dq"), flows.unique("hourly")
    sagemaker.create_data_quality_job_definition(**flows.data_quality_definition(definition, endpoint, monitoring_bucket))
    arn = sagemaker.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig={
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"}, "MonitoringJobDefinitionName": definition,
        "MonitoringType": "DataQuality"}, Tags=[{"Key": "k", "Value": "v"}])["MonitoringScheduleArn"]
    assert arn.endswith(f":monitoring-schedule/{name}")
    described = wait_status(sagemaker, name, "Scheduled")
    assert (described["MonitoringType"], described["EndpointName"]) == ("DataQuality", endpoint)
    assert "LastMonitoringExecutionSummary" not in described  # hourly: nothing ran yet
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    summaries = sagemaker.list_monitoring_schedules(EndpointName=endpoint, MonitoringJobDefinitionName=definition)["MonitoringScheduleSummaries"]
    assert [(s["MonitoringScheduleName"], s["MonitoringScheduleStatus"], s["MonitoringType"]) for s in summaries] == [
        (name, "Scheduled", "DataQuality")]
    assert sagemaker.list_monitoring_schedules(EndpointName=endpoint, MonitoringTypeEquals="ModelQuality")["MonitoringScheduleSummaries"] == []
    with pytest.raises(ClientError) as raised:
        sagemaker.delete_data_quality_job_definition(JobDefinitionName=definition)
    assert raised.value.response["Error"]["Code"] == "ResourceInUse"

    sagemaker.stop_monitoring_schedule(MonitoringScheduleName=name)
    assert sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)["MonitoringScheduleStatus"] == "Stopped"
    assert [s["MonitoringScheduleName"] for s in sagemaker.list_monitoring_schedules(
        StatusEquals="Stopped", EndpointName=endpoint)["MonitoringScheduleSummaries"]] == [name]
    sagemaker.start_monitoring_schedule(MonitoringScheduleName=name)
    wait_status(sagemaker, name, "Scheduled")
    sagemaker.update_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig={
        "ScheduleConfig": {"ScheduleExpression": "cron(0 0/6 ? * * *)"}, "MonitoringJobDefinitionName": definition,
        "MonitoringType": "DataQuality"})
    updated = wait_status(sagemaker, name, "Scheduled")
    assert updated["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] == "cron(0 0/6 ? * * *)"
    assert updated["LastModifiedTime"] > described["LastModifiedTime"]
    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=name)
    with pytest.raises(ClientError) as raised:
        sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"
    sagemaker.delete_data_quality_job_definition(JobDefinitionName=definition)


def test_an_inline_job_definition(sagemaker: Any, monitoring_bucket: str, endpoint: str) -> None:
    """The older form: the job defined inside the schedule (always data quality)."""
    name = flows.unique("inline")
    definition = flows.data_quality_definition("unused", endpoint, monitoring_bucket)
    sagemaker.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig={
        "ScheduleConfig": {"ScheduleExpression": "cron(0 12 ? * * *)"},
        "MonitoringJobDefinition": {
            "MonitoringInputs": [definition["DataQualityJobInput"]],
            "MonitoringOutputConfig": definition["DataQualityJobOutputConfig"],
            "MonitoringResources": definition["JobResources"],
            "MonitoringAppSpecification": {"ImageUri": flows.ANALYZER},
            "RoleArn": flows.ROLE,
        }})
    described = wait_status(sagemaker, name, "Scheduled")
    assert described["MonitoringType"] == "DataQuality"
    assert described["MonitoringScheduleConfig"]["MonitoringJobDefinition"]["MonitoringInputs"][0]["EndpointInput"]["EndpointName"] == endpoint
    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=name)


def wait_status(sagemaker: Any, name: str, status: str, timeout: float = 15) -> dict[str, Any]:
    import time

    deadline = time.time() + timeout
    while True:
        described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
        if described["MonitoringScheduleStatus"] == status or time.time() > deadline:
            assert described["MonitoringScheduleStatus"] == status, described
            return described
        time.sleep(0.1)
