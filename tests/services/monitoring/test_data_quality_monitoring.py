"""Data quality monitoring through boto3: a baselining job on the analyzer image, a schedule
run with NOW over drifted captured traffic, its violations and its CloudWatch metrics."""

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


def baselining_job(sagemaker: Any, s3: Any, bucket: str, model: TrainedModel, rows: np.ndarray) -> str:
    key = f"baseline/{flows.unique('data')}/train.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=flows.baseline_csv(rows, model.booster.inplace_predict(rows)))
    name = flows.unique("baseline")
    sagemaker.create_processing_job(
        ProcessingJobName=name, RoleArn=flows.ROLE, AppSpecification={"ImageUri": flows.ANALYZER},
        ProcessingResources={"ClusterConfig": flows.CLUSTER},
        ProcessingInputs=[{"InputName": "baseline_dataset_input", "S3Input": {
            "S3Uri": f"s3://{bucket}/{key}", "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        ProcessingOutputConfig={"Outputs": [{"OutputName": "monitoring_output", "S3Output": {
            "S3Uri": f"s3://{bucket}/baselines/{name}", "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
        Environment={"dataset_format": json.dumps({"csv": {"header": True, "output_columns_position": "START"}}),
                     "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
                     "output_path": "/opt/ml/processing/output", "publish_cloudwatch_metrics": "Disabled"},
    )
    described = wait_for(sagemaker, name, timeout=120)
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    assert described["ExitMessage"].startswith("Completed: ")
    return name


@pytest.fixture(scope="module")
def baseline(sagemaker: Any, s3: Any, monitoring_bucket: str, regressor: TrainedModel) -> str:
    return baselining_job(sagemaker, s3, monitoring_bucket, regressor, regressor.features[:300])


def test_baselining_writes_statistics_and_constraints(sagemaker: Any, s3: Any, monitoring_bucket: str, baseline: str) -> None:
    statistics = flows.read_json(s3, f"s3://{monitoring_bucket}/baselines/{baseline}/statistics.json")
    constraints = flows.read_json(s3, f"s3://{monitoring_bucket}/baselines/{baseline}/constraints.json")
    assert statistics["dataset"]["item_count"] == 300
    names = [f["name"] for f in statistics["features"]]
    assert names == ["prediction", *flows.FEATURES]
    bmi = next(f for f in statistics["features"] if f["name"] == "bmi")
    assert bmi["inferred_type"] == "Fractional"
    numbers = bmi["numerical_statistics"]
    assert numbers["common"] == {"num_present": 300, "num_missing": 0}
    assert sum(b["count"] for b in numbers["distribution"]["kll"]["buckets"]) == 300
    assert numbers["distribution"]["kll"]["sketch"]["parameters"] == {"c": 0.64, "k": 2048.0}
    assert [f["name"] for f in constraints["features"]] == names
    assert constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] == 0.1


def test_drifted_traffic_is_reported_with_its_feature(
    sagemaker: Any, s3: Any, runtime: Any, monitoring_bucket: str, regressor: TrainedModel, baseline: str,
) -> None:
    endpoint = flows.deploy_capturing(sagemaker, regressor, monitoring_bucket)
    drifted = regressor.features[300:360].copy()
    drifted[:, flows.FEATURES.index("bmi")] = drifted[:, flows.FEATURES.index("bmi")] * 5 + 0.3
    flows.send(runtime, endpoint, drifted)
    flows.wait_capture(s3, monitoring_bucket, endpoint, len(drifted))
    definition, schedule = flows.unique("dq"), flows.unique("dq-schedule")
    sagemaker.create_data_quality_job_definition(**flows.data_quality_definition(
        definition, endpoint, monitoring_bucket, baseline={"BaseliningJobName": baseline}))
    sagemaker.create_monitoring_schedule(**flows.now_schedule(schedule, definition))
    execution = flows.wait_execution(sagemaker, schedule)
    assert execution["MonitoringExecutionStatus"] == "CompletedWithViolations", execution
    assert execution["MonitoringType"] == "DataQuality" and execution["EndpointName"] == endpoint
    report = flows.output_uri(sagemaker, execution)
    assert f"/reports/{endpoint}/{schedule}/" in report
    violations = flows.read_json(s3, f"{report}/constraint_violations.json")["violations"]
    drift = {v["feature_name"] for v in violations if v["constraint_check_type"] == "baseline_drift_check"}
    assert "bmi" in drift
    assert "age" not in drift
    statistics = flows.read_json(s3, f"{report}/statistics.json")
    assert statistics["dataset"]["item_count"] == len(drifted)
    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=schedule)
    assert described["MonitoringScheduleStatus"] == "Scheduled"
    assert described["LastMonitoringExecutionSummary"]["MonitoringExecutionStatus"] == "CompletedWithViolations"
    job = sagemaker.describe_processing_job(ProcessingJobName=execution["ProcessingJobArn"].rsplit("/", 1)[1])
    assert job["MonitoringScheduleArn"] == described["MonitoringScheduleArn"]
    assert job["Environment"]["sagemaker_monitoring_schedule_name"] == schedule
    assert job["ExitMessage"].startswith("CompletedWithViolations: Job completed successfully with")

    cloudwatch = boto3.client("cloudwatch")
    dims = [{"Name": "Endpoint", "Value": endpoint}, {"Name": "MonitoringSchedule", "Value": schedule}]
    now = datetime.now(UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace="aws/sagemaker/Endpoints/data-metrics", MetricName="feature_baseline_drift_bmi", Dimensions=dims,
        StartTime=now - timedelta(hours=2), EndTime=now + timedelta(minutes=5), Period=3600, Statistics=["Maximum"],
    )["Datapoints"]
    assert points and points[0]["Maximum"] > 0.1
    completeness = cloudwatch.get_metric_statistics(
        Namespace="aws/sagemaker/Endpoints/data-metrics", MetricName="feature_non_null_age", Dimensions=dims,
        StartTime=now - timedelta(hours=2), EndTime=now + timedelta(minutes=5), Period=3600, Statistics=["Sum"],
    )["Datapoints"]
    assert completeness[0]["Sum"] == 1.0
    listed = cloudwatch.list_metrics(Namespace="aws/sagemaker/Endpoints/data-metrics", Dimensions=dims)["Metrics"]
    assert {"feature_data_bmi", "feature_non_null_bmi", "feature_baseline_drift_bmi"} <= {m["MetricName"] for m in listed}
    sagemaker.delete_endpoint(EndpointName=endpoint)
