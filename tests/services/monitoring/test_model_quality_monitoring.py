"""Model quality monitoring through boto3: captured inferences merged with ground truth by
inference id, regression metrics checked against our own computation, CloudWatch metrics,
and ground truth whose ids match nothing reported by the execution."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import numpy as np
import pytest

from tests.services.hosting.conftest import TrainedModel
from tests.services.monitoring import flows
from tests.services.processing.jobs import wait_for


def upload_ground_truth(s3: Any, bucket: str, prefix: str, ids: list[str], labels: np.ndarray) -> str:
    now = datetime.now(UTC)
    lines = [json.dumps({"groundTruthData": {"data": f"{label:.4f}", "encoding": "CSV"},
                         "eventMetadata": {"eventId": event}, "eventVersion": "0"}) for event, label in zip(ids, labels, strict=True)]
    s3.put_object(Bucket=bucket, Key=f"{prefix}/{now:%Y/%m/%d/%H}/labels.jsonl", Body="\n".join(lines).encode())
    return f"s3://{bucket}/{prefix}"


@pytest.fixture(scope="module")
def quality_baseline(sagemaker: Any, s3: Any, monitoring_bucket: str, regressor: TrainedModel, diabetes_data: Any) -> str:
    features, labels = diabetes_data
    rows = np.column_stack([regressor.booster.inplace_predict(features[:200]), labels[:200]])
    key = f"mq-baseline/{flows.unique('data')}/validation.csv"
    s3.put_object(Bucket=monitoring_bucket, Key=key, Body=("prediction,label\n" + "\n".join(f"{p:.6f},{t:.1f}" for p, t in rows)).encode())
    name = flows.unique("mq-baseline")
    sagemaker.create_processing_job(
        ProcessingJobName=name, RoleArn=flows.ROLE, AppSpecification={"ImageUri": flows.ANALYZER},
        ProcessingResources={"ClusterConfig": flows.CLUSTER},
        ProcessingInputs=[{"InputName": "baseline_dataset_input", "S3Input": {
            "S3Uri": f"s3://{monitoring_bucket}/{key}", "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        ProcessingOutputConfig={"Outputs": [{"OutputName": "out", "S3Output": {
            "S3Uri": f"s3://{monitoring_bucket}/mq-baselines/{name}", "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
        Environment={"dataset_format": json.dumps({"csv": {"header": True}}), "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
                     "output_path": "/opt/ml/processing/output", "analysis_type": "MODEL_QUALITY", "problem_type": "Regression",
                     "inference_attribute": "prediction", "ground_truth_attribute": "label"},
    )
    described = wait_for(sagemaker, name, timeout=120)
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    constraints = flows.read_json(s3, f"s3://{monitoring_bucket}/mq-baselines/{name}/constraints.json")
    assert constraints["regression_constraints"]["mae"]["comparison_operator"] == "GreaterThanThreshold"
    assert constraints["regression_constraints"]["r2"]["comparison_operator"] == "LessThanThreshold"
    statistics = flows.read_json(s3, f"s3://{monitoring_bucket}/mq-baselines/{name}/statistics.json")
    expected_mae = float(np.mean(np.abs(rows[:, 0] - np.round(rows[:, 1], 1))))
    assert statistics["regression_metrics"]["mae"]["value"] == pytest.approx(expected_mae, rel=1e-6)
    assert isinstance(statistics["regression_metrics"]["mae"]["standard_deviation"], float)  # 200 samples
    return f"s3://{monitoring_bucket}/mq-baselines/{name}/constraints.json"


def quality_definition(name: str, endpoint: str, bucket: str, ground_truth: str, constraints: str) -> dict[str, Any]:
    return {
        "JobDefinitionName": name,
        "ModelQualityBaselineConfig": {"ConstraintsResource": {"S3Uri": constraints}},
        "ModelQualityAppSpecification": {"ImageUri": flows.ANALYZER, "ProblemType": "Regression",
                                         "Environment": {"publish_cloudwatch_metrics": "Enabled"}},
        "ModelQualityJobInput": {
            "EndpointInput": {"EndpointName": endpoint, "LocalPath": "/opt/ml/processing/input/endpoint", "InferenceAttribute": "0"},
            "GroundTruthS3Input": {"S3Uri": ground_truth}},
        "ModelQualityJobOutputConfig": {"MonitoringOutputs": [{"S3Output": {
            "S3Uri": f"s3://{bucket}/mq-reports", "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
        "JobResources": {"ClusterConfig": flows.CLUSTER}, "RoleArn": flows.ROLE,
    }


def test_ground_truth_is_merged_by_inference_id(
    sagemaker: Any, s3: Any, runtime: Any, monitoring_bucket: str, regressor: TrainedModel, diabetes_data: Any, quality_baseline: str,
) -> None:
    features, labels = diabetes_data
    endpoint = flows.deploy_capturing(sagemaker, regressor, monitoring_bucket)
    rows, truth = features[200:240], labels[200:240]
    ids = [f"req-{i}" for i in range(len(rows))]
    predictions = np.array(flows.send(runtime, endpoint, rows, ids))
    flows.send(runtime, endpoint, features[240:245])  # no inference id and no label: left out
    labelled = upload_ground_truth(s3, monitoring_bucket, f"ground-truth/{endpoint}", ids[:30], truth[:30])
    flows.wait_capture(s3, monitoring_bucket, endpoint, len(rows) + 5)
    definition, schedule = flows.unique("mq"), flows.unique("mq-schedule")
    sagemaker.create_model_quality_job_definition(**quality_definition(definition, endpoint, monitoring_bucket, labelled, quality_baseline))
    sagemaker.create_monitoring_schedule(**flows.now_schedule(schedule, definition, "ModelQuality"))
    execution = flows.wait_execution(sagemaker, schedule)
    assert execution["MonitoringExecutionStatus"] in ("Completed", "CompletedWithViolations"), execution
    report = flows.output_uri(sagemaker, execution)
    metrics = flows.read_json(s3, f"{report}/statistics.json")["regression_metrics"]
    expected = np.abs(predictions[:30] - np.round(truth[:30], 4))
    assert metrics["mae"]["value"] == pytest.approx(float(expected.mean()), rel=1e-6)
    assert metrics["rmse"]["value"] == pytest.approx(float(np.sqrt(np.mean(expected**2))), rel=1e-6)
    assert metrics["mae"]["standard_deviation"] == "NaN"  # fewer than 200 samples, as Model Monitor says
    job = sagemaker.describe_processing_job(ProcessingJobName=execution["ProcessingJobArn"].rsplit("/", 1)[1])
    assert "15 of 45 captured inferences had no ground truth label" in job["ExitMessage"]
    violations = flows.read_json(s3, f"{report}/constraint_violations.json")["violations"]
    assert all(v["constraint_check_type"] in ("LessThanThreshold", "GreaterThanThreshold") for v in violations)
    assert (execution["MonitoringExecutionStatus"] == "CompletedWithViolations") == bool(violations)

    now = datetime.now(UTC)
    points = boto3.client("cloudwatch").get_metric_statistics(
        Namespace="aws/sagemaker/Endpoints/model-metrics", MetricName="mae",
        Dimensions=[{"Name": "Endpoint", "Value": endpoint}, {"Name": "MonitoringSchedule", "Value": schedule}],
        StartTime=now - timedelta(hours=2), EndTime=now + timedelta(minutes=5), Period=3600, Statistics=["Average"],
    )["Datapoints"]
    assert points[0]["Average"] == pytest.approx(metrics["mae"]["value"])

    unmatched = upload_ground_truth(s3, monitoring_bucket, f"ground-truth-other/{endpoint}", ["nobody"] * 3, truth[:3])
    other_definition, other_schedule = flows.unique("mq"), flows.unique("mq-schedule")
    sagemaker.create_model_quality_job_definition(**quality_definition(other_definition, endpoint, monitoring_bucket, unmatched, quality_baseline))
    sagemaker.create_monitoring_schedule(**flows.now_schedule(other_schedule, other_definition, "ModelQuality"))
    failed = flows.wait_execution(sagemaker, other_schedule)
    assert failed["MonitoringExecutionStatus"] == "Failed"
    assert "None of the 45 captured inferences in the window has a ground truth label" in failed["FailureReason"]
    assert "1 ground truth records were read" in failed["FailureReason"]
    sagemaker.delete_endpoint(EndpointName=endpoint)
