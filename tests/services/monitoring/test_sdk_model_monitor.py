"""The SageMaker Python SDK v2's Model Monitor flows, unmodified: DefaultModelMonitor
(suggest_baseline, a NOW schedule on drifted traffic, its violations, stop / start / delete)
and ModelQualityMonitor with ground truth uploaded to S3."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest

from tests.services.hosting.conftest import TrainedModel
from tests.services.monitoring import flows

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
sagemaker = pytest.importorskip("sagemaker", reason="the SageMaker Python SDK is a dev dependency")

from sagemaker.model_monitor import (  # noqa: E402
    CronExpressionGenerator,
    DefaultModelMonitor,
    EndpointInput,
    ModelQualityMonitor,
)
from sagemaker.model_monitor.dataset_format import DatasetFormat  # noqa: E402

SDK_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}


@pytest.fixture(scope="module")
def session(sagebox_server: Any, monitoring_bucket: str) -> Any:
    return sagemaker.Session(boto_session=boto3.Session(region_name="us-east-1"), default_bucket=monitoring_bucket,
                             sagemaker_config=SDK_CONFIG)


def ended(monitor: Any, timeout: float = 120) -> Any:
    """The monitor's latest execution once it has ended."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        executions = monitor.list_executions()
        if executions and executions[-1].describe()["ProcessingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return executions[-1]
        time.sleep(0.5)
    raise TimeoutError("no monitoring execution ended")


def test_default_model_monitor_reports_drift(session: Any, s3: Any, runtime: Any, monitoring_bucket: str,
                                            regressor: TrainedModel, tmp_path: Path) -> None:
    rows = regressor.features[:300]
    dataset = tmp_path / "training-dataset-with-header.csv"
    dataset.write_bytes(flows.baseline_csv(rows, regressor.booster.inplace_predict(rows)))
    monitor = DefaultModelMonitor(role=flows.ROLE, instance_count=1, instance_type="ml.m5.xlarge", volume_size_in_gb=5,
                                  max_runtime_in_seconds=600, sagemaker_session=session)
    monitor.suggest_baseline(baseline_dataset=str(dataset), dataset_format=DatasetFormat.csv(header=True),
                             output_s3_uri=f"s3://{monitoring_bucket}/sdk/baseline", wait=True, logs=False)
    statistics, constraints = monitor.baseline_statistics(), monitor.suggested_constraints()
    assert statistics.body_dict["dataset"]["item_count"] == 300
    assert constraints.body_dict["monitoring_config"]["evaluate_constraints"] == "Enabled"
    assert {f["name"] for f in constraints.body_dict["features"]} == {"prediction", *flows.FEATURES}

    endpoint = flows.deploy_capturing(session.sagemaker_client, regressor, monitoring_bucket)
    drifted = regressor.features[300:350].copy()
    drifted[:, flows.FEATURES.index("s5")] -= 0.5
    flows.send(runtime, endpoint, drifted)
    flows.wait_capture(s3, monitoring_bucket, endpoint, len(drifted))
    monitor.create_monitoring_schedule(
        monitor_schedule_name=flows.unique("sdk-dq"), endpoint_input=endpoint,
        output_s3_uri=f"s3://{monitoring_bucket}/sdk/reports", statistics=statistics, constraints=constraints,
        schedule_cron_expression=CronExpressionGenerator.now(), data_analysis_start_time="-PT1H",
        data_analysis_end_time="-PT0H", enable_cloudwatch_metrics=True,
    )
    execution = ended(monitor)
    assert execution.describe()["ProcessingJobStatus"] == "Completed"
    violations = monitor.latest_monitoring_constraint_violations().body_dict["violations"]
    assert "s5" in {v["feature_name"] for v in violations if v["constraint_check_type"] == "baseline_drift_check"}
    assert monitor.latest_monitoring_statistics().body_dict["dataset"]["item_count"] == len(drifted)
    summary = session.sagemaker_client.list_monitoring_executions(MonitoringScheduleName=monitor.monitoring_schedule_name)
    assert summary["MonitoringExecutionSummaries"][0]["MonitoringExecutionStatus"] == "CompletedWithViolations"

    monitor.stop_monitoring_schedule()
    assert monitor.describe_schedule()["MonitoringScheduleStatus"] == "Stopped"
    monitor.start_monitoring_schedule()
    assert monitor.describe_schedule()["MonitoringScheduleStatus"] == "Scheduled"
    attached = DefaultModelMonitor.attach(monitor.monitoring_schedule_name, sagemaker_session=session)
    assert attached.job_definition_name == monitor.job_definition_name
    definition = monitor.job_definition_name
    monitor.delete_monitoring_schedule()
    assert session.sagemaker_client.list_data_quality_job_definitions(NameContains=definition)["JobDefinitionSummaries"] == []
    session.sagemaker_client.delete_endpoint(EndpointName=endpoint)


def test_model_quality_monitor_with_ground_truth(session: Any, s3: Any, runtime: Any, monitoring_bucket: str,
                                                 regressor: TrainedModel, diabetes_data: Any, tmp_path: Path) -> None:
    features, labels = diabetes_data
    predictions = regressor.booster.inplace_predict(features[:200])
    dataset = tmp_path / "validation.csv"
    dataset.write_text("prediction,label\n" + "\n".join(f"{p:.6f},{t:.1f}" for p, t in zip(predictions, labels[:200], strict=True)))
    monitor = ModelQualityMonitor(role=flows.ROLE, instance_count=1, instance_type="ml.m5.xlarge", volume_size_in_gb=5,
                                  max_runtime_in_seconds=600, sagemaker_session=session)
    monitor.suggest_baseline(baseline_dataset=str(dataset), dataset_format=DatasetFormat.csv(header=True),
                             problem_type="Regression", inference_attribute="prediction", ground_truth_attribute="label",
                             output_s3_uri=f"s3://{monitoring_bucket}/sdk/mq-baseline", wait=True, logs=False)
    assert set(monitor.suggested_constraints().body_dict["regression_constraints"]) == {"mae", "mse", "rmse", "r2"}

    endpoint = flows.deploy_capturing(session.sagemaker_client, regressor, monitoring_bucket)
    ids = [f"sdk-{i}" for i in range(20)]
    answers = np.array(flows.send(runtime, endpoint, features[200:220], ids))
    now = datetime.now(UTC)
    lines = [json.dumps({"groundTruthData": {"data": str(label), "encoding": "CSV"}, "eventMetadata": {"eventId": event},
                         "eventVersion": "0"}) for event, label in zip(ids, labels[200:220], strict=True)]
    s3.put_object(Bucket=monitoring_bucket, Key=f"sdk/ground-truth/{now:%Y/%m/%d/%H}/gt.jsonl", Body="\n".join(lines).encode())
    flows.wait_capture(s3, monitoring_bucket, endpoint, len(ids))
    monitor.create_monitoring_schedule(
        monitor_schedule_name=flows.unique("sdk-mq"),
        endpoint_input=EndpointInput(endpoint_name=endpoint, destination="/opt/ml/processing/input/endpoint", inference_attribute="0"),
        ground_truth_input=f"s3://{monitoring_bucket}/sdk/ground-truth", problem_type="Regression",
        output_s3_uri=f"s3://{monitoring_bucket}/sdk/mq-reports", schedule_cron_expression=CronExpressionGenerator.now(),
        data_analysis_start_time="-PT1H", data_analysis_end_time="-PT0H",
    )
    execution = ended(monitor)
    assert execution.describe()["ProcessingJobStatus"] == "Completed", execution.describe().get("FailureReason")
    metrics = execution.statistics().body_dict["regression_metrics"]
    assert metrics["mae"]["value"] == pytest.approx(float(np.mean(np.abs(answers - labels[200:220]))), rel=1e-6)
    monitor.delete_monitoring_schedule()
    session.sagemaker_client.delete_endpoint(EndpointName=endpoint)
