"""Helpers for Model Monitor tests: endpoints that capture, traffic, baselines, waiting."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import numpy as np

from tests.services.hosting.conftest import TrainedModel, csv_rows
from tests.services.training.jobs import ROLE, unique

ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
CLUSTER = {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}
TERMINAL = ("Completed", "CompletedWithViolations", "Failed", "Stopped")

__all__ = ["ANALYZER", "CLUSTER", "FEATURES", "ROLE", "unique"]


def deploy_capturing(sagemaker: Any, model: TrainedModel, bucket: str, capture: bool = True) -> str:
    endpoint = unique("monitored")
    config: dict[str, Any] = {"EndpointConfigName": endpoint, "ProductionVariants": [{
        "VariantName": "AllTraffic", "ModelName": model.model_name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]}
    if capture:
        config["DataCaptureConfig"] = {
            "EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": f"s3://{bucket}/capture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
        }
    sagemaker.create_endpoint_config(**config)
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=endpoint)
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return endpoint


def send(runtime: Any, endpoint: str, rows: np.ndarray, inference_ids: list[str] | None = None) -> list[float]:
    answers = []
    for index, row in enumerate(rows):
        extra = {"InferenceId": inference_ids[index]} if inference_ids else {}
        body = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_rows(row), **extra)["Body"].read()
        answers.append(float(body.decode().strip()))
    return answers


def baseline_csv(features: np.ndarray, first: np.ndarray, first_name: str = "prediction") -> bytes:
    buffer = io.StringIO()
    buffer.write(",".join([first_name, *FEATURES]) + "\n")
    np.savetxt(buffer, np.column_stack([first, features]), delimiter=",", fmt="%.6f")
    return buffer.getvalue().encode()


def wait_capture(s3: Any, bucket: str, endpoint: str, records: int, timeout: float = 20) -> None:
    """Until `records` captured records of the endpoint are in S3."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"capture/{endpoint}/").get("Contents", [])
        count = sum(len(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().splitlines()) for o in listed)
        if count >= records:
            return
        time.sleep(0.3)
    raise TimeoutError(f"{endpoint}: fewer than {records} captured records in S3")


def wait_execution(sagemaker: Any, schedule: str, count: int = 1, timeout: float = 120) -> dict[str, Any]:
    """The newest execution of `schedule` once `count` executions exist and the newest has ended."""
    deadline = time.time() + timeout
    latest: dict[str, Any] = {}
    while time.time() < deadline:
        found = sagemaker.list_monitoring_executions(MonitoringScheduleName=schedule)["MonitoringExecutionSummaries"]
        if len(found) >= count:
            latest = found[0]
            if latest["MonitoringExecutionStatus"] in TERMINAL:
                return latest
        time.sleep(0.3)
    raise TimeoutError(f"schedule {schedule}: no ended execution ({latest})")


def read_json(s3: Any, uri: str) -> dict[str, Any]:
    bucket, key = uri[len("s3://"):].split("/", 1)
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def output_uri(sagemaker: Any, execution: dict[str, Any]) -> str:
    job = sagemaker.describe_processing_job(ProcessingJobName=execution["ProcessingJobArn"].rsplit("/", 1)[1])
    return job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]


def data_quality_definition(name: str, endpoint: str, bucket: str, baseline: dict[str, Any] | None = None,
                            environment: dict[str, str] | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "JobDefinitionName": name,
        "DataQualityAppSpecification": {"ImageUri": ANALYZER, "Environment": environment or {"publish_cloudwatch_metrics": "Enabled"}},
        "DataQualityJobInput": {"EndpointInput": {"EndpointName": endpoint, "LocalPath": "/opt/ml/processing/input/endpoint"}},
        "DataQualityJobOutputConfig": {"MonitoringOutputs": [{"S3Output": {
            "S3Uri": f"s3://{bucket}/reports", "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
        "JobResources": {"ClusterConfig": CLUSTER},
        "RoleArn": ROLE,
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    if baseline:
        request["DataQualityBaselineConfig"] = baseline
    return request


def now_schedule(name: str, definition: str, monitoring_type: str = "DataQuality") -> dict[str, Any]:
    return {"MonitoringScheduleName": name, "MonitoringScheduleConfig": {
        "ScheduleConfig": {"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H", "DataAnalysisEndTime": "PT1M"},
        "MonitoringJobDefinitionName": definition, "MonitoringType": monitoring_type}}
