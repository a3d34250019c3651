"""Bias drift and feature attribution drift through the SageMaker Python SDK v2, unmodified:
ModelBiasMonitor and ModelExplainabilityMonitor baselines (Clarify jobs), NOW schedules on an
endpoint's captured traffic (with ground truth for bias), the executions' analysis.json checked
against a reference computed here, their violations; and what each monitor refuses."""

from __future__ import annotations

import io
import json
import os
import tarfile
from datetime import UTC, datetime
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest
import xgboost
from botocore.exceptions import ClientError
from sklearn.metrics import ndcg_score

from tests.services.hosting.conftest import TrainedModel
from tests.services.monitoring import flows
from tests.services.training.jobs import XGBOOST_IMAGE, channel, csv_bytes, job_request, wait_for

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
sagemaker_sdk = pytest.importorskip(
    "sagemaker", reason="the SageMaker Python SDK is a dev dependency"
)

from sagemaker.clarify import (  # noqa: E402
    BiasConfig,
    DataConfig,
    ModelConfig,
    ModelPredictedLabelConfig,
    SHAPConfig,
)
from sagemaker.model_monitor import (  # noqa: E402
    CronExpressionGenerator,
    ModelBiasMonitor,
    ModelExplainabilityMonitor,
)

FEATURES = ["Age", "Gender", "Income", "Dept"]
HEADERS = ["Target", *FEATURES]
CLARIFY = "205585389593.dkr.ecr.us-east-1.amazonaws.com/sagemaker-clarify-processing:1.0"
SDK_CONFIG = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


def loans(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "Age": rng.integers(18, 80, rows),
            "Gender": rng.integers(0, 2, rows),
            "Income": np.round(rng.normal(50, 15, rows), 2),
            "Dept": rng.integers(0, 3, rows),
        }
    )
    logit = (
        -3.0
        + 0.03 * frame["Age"]
        + 0.8 * frame["Gender"]
        + 0.02 * frame["Income"]
        - 0.3 * frame["Dept"]
    )
    frame.insert(0, "Target", (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int))
    return frame


@pytest.fixture(scope="module")
def session(sagebox_server: Any, monitoring_bucket: str) -> Any:
    return sagemaker_sdk.Session(
        boto_session=boto3.Session(region_name="us-east-1"),
        default_bucket=monitoring_bucket,
        sagemaker_config=SDK_CONFIG,
    )


@pytest.fixture(scope="module")
def classifier(sagemaker: Any, s3: Any, monitoring_bucket: str) -> TrainedModel:
    """A binary XGBoost model of the loan data, trained through the training API."""
    frame = loans(300, seed=11)
    prefix = flows.unique("loans")
    s3.put_object(
        Bucket=monitoring_bucket,
        Key=f"{prefix}/train/data.csv",
        Body=csv_bytes(frame[FEATURES].to_numpy(float), frame["Target"].to_numpy(float)),
    )
    job = flows.unique("loan-train")
    sagemaker.create_training_job(
        **job_request(
            job,
            monitoring_bucket,
            [channel("train", f"s3://{monitoring_bucket}/{prefix}/train/")],
            HyperParameters={"objective": "binary:logistic", "num_round": "15", "max_depth": "3"},
        )
    )
    described = wait_for(sagemaker, job)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    model_data = described["ModelArtifacts"]["S3ModelArtifacts"]
    with tarfile.open(
        fileobj=io.BytesIO(
            s3.get_object(Bucket=monitoring_bucket, Key=model_data.split("/", 3)[3])["Body"].read()
        )
    ) as tar:
        member = tar.extractfile("xgboost-model")
        assert member is not None
        booster = xgboost.Booster(model_file=bytearray(member.read()))
    name = flows.unique("loan-model")
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=flows.ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": model_data},
    )
    s3.put_object(
        Bucket=monitoring_bucket,
        Key=f"{prefix}/baseline/loans.csv",
        Body=frame.to_csv(index=False).encode(),
    )
    return TrainedModel(
        name,
        f"s3://{monitoring_bucket}/{prefix}/baseline/loans.csv",
        booster,
        frame[FEATURES].to_numpy(float),
    )


@pytest.fixture(scope="module")
def endpoint(sagemaker: Any, monitoring_bucket: str, classifier: TrainedModel) -> str:
    return flows.deploy_capturing(sagemaker, classifier, monitoring_bucket)


def model_config(classifier: TrainedModel) -> ModelConfig:
    return ModelConfig(
        model_name=classifier.model_name,
        instance_type="ml.m5.large",
        instance_count=1,
        content_type="text/csv",
        accept_type="text/csv",
    )


def data_config(classifier: TrainedModel, bucket: str, uri: str | None = None) -> DataConfig:
    # classifier.model_data holds the baseline data set's URI (see the fixture)
    return DataConfig(
        s3_data_input_path=uri or classifier.model_data,
        s3_output_path=f"s3://{bucket}/{flows.unique('clarify-baseline')}",
        label="Target",
        headers=HEADERS,
        dataset_type="text/csv",
    )


def monitor_of(kind: Any, session: Any) -> Any:
    return kind(
        role=flows.ROLE,
        instance_count=1,
        instance_type="ml.m5.xlarge",
        volume_size_in_gb=5,
        max_runtime_in_seconds=600,
        sagemaker_session=session,
    )


def ended(monitor: Any) -> tuple[Any, str]:
    """The monitor's execution once it has ended, and its status."""
    summary = flows.wait_execution(
        monitor.sagemaker_session.sagemaker_client, monitor.monitoring_schedule_name
    )
    return monitor.list_executions()[-1], summary["MonitoringExecutionStatus"]


def send(
    runtime: Any, endpoint: str, rows: pd.DataFrame, ids: list[str] | None = None
) -> np.ndarray:
    return np.array(flows.send(runtime, endpoint, rows[FEATURES].to_numpy(float), ids))


def upload_ground_truth(
    s3: Any, bucket: str, prefix: str, ids: list[str], labels: list[int]
) -> str:
    now = datetime.now(UTC)
    lines = [
        json.dumps(
            {
                "groundTruthData": {"data": str(label), "encoding": "CSV"},
                "eventMetadata": {"eventId": event},
                "eventVersion": "0",
            }
        )
        for event, label in zip(ids, labels, strict=True)
    ]
    s3.put_object(
        Bucket=bucket,
        Key=f"{prefix}/{now:%Y/%m/%d/%H}/labels.jsonl",
        Body="\n".join(lines).encode(),
    )
    return f"s3://{bucket}/{prefix}"


def test_model_bias_monitor_reports_bias_drift(
    session: Any,
    s3: Any,
    runtime: Any,
    monitoring_bucket: str,
    classifier: TrainedModel,
    endpoint: str,
) -> None:
    monitor = monitor_of(ModelBiasMonitor, session)
    bias = BiasConfig(
        label_values_or_threshold=[1], facet_name="Gender", facet_values_or_threshold=[0]
    )
    monitor.suggest_baseline(
        data_config(classifier, monitoring_bucket),
        bias,
        model_config(classifier),
        ModelPredictedLabelConfig(probability_threshold=0.5),
        wait=True,
        logs=False,
    )
    baseline = monitor.latest_baselining_job.suggested_constraints().body_dict
    assert {"pre_training_bias_metrics", "post_training_bias_metrics"} <= set(baseline)

    # drifted traffic: the sensitive group (Gender 0) young and poor, the others old and rich
    traffic = loans(
        60, seed=5
    )  # 50 labelled rows: 0/1 labels and facets are 4% distinct, categories as Clarify decides
    women = traffic["Gender"] == 0
    traffic.loc[women, "Age"], traffic.loc[women, "Income"] = 20, 15.0
    traffic.loc[~women, "Age"], traffic.loc[~women, "Income"] = 75, 90.0
    ids = [f"bias-{i}" for i in range(len(traffic))]
    scores = send(runtime, endpoint, traffic, ids)
    labelled = 50  # the last ten inferences get no label: left out
    truth = upload_ground_truth(
        s3,
        monitoring_bucket,
        f"bias-truth/{endpoint}",
        ids[:labelled],
        traffic["Target"].tolist()[:labelled],
    )
    flows.wait_capture(s3, monitoring_bucket, endpoint, len(traffic))
    monitor.create_monitoring_schedule(
        endpoint_input=endpoint,
        ground_truth_input=truth,
        output_s3_uri=f"s3://{monitoring_bucket}/bias-reports",
        schedule_cron_expression=CronExpressionGenerator.now(),
        data_analysis_start_time="-PT1H",
        data_analysis_end_time="-PT0H",
    )
    execution, status = ended(monitor)
    described = execution.describe()
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    assert status == "CompletedWithViolations"
    assert "10 of 60 captured records had no ground truth label" in described["ExitMessage"]
    analysis = flows.read_json(s3, f"{execution.output.destination}/analysis.json")

    # the reference: the developer guide's definitions, computed from what was sent and labelled
    predicted, label, facet = (
        scores[:labelled] > 0.5,
        traffic["Target"].to_numpy()[:labelled] == 1,
        women.to_numpy()[:labelled],
    )
    q_a, q_d = predicted[~facet].mean(), predicted[facet].mean()
    n_a, n_d = (~facet).sum(), facet.sum()
    post = {
        m["name"]: m["value"]
        for m in analysis["post_training_bias_metrics"]["facets"]["Gender"][0]["metrics"]
    }
    pre = {
        m["name"]: m["value"]
        for m in analysis["pre_training_bias_metrics"]["facets"]["Gender"][0]["metrics"]
    }
    assert post["DPPL"] == pytest.approx(q_a - q_d, abs=1e-9)
    assert pre["CI"] == pytest.approx((n_a - n_d) / (n_a + n_d), abs=1e-9)
    assert pre["DPL"] == pytest.approx(label[~facet].mean() - label[facet].mean(), abs=1e-9)
    baseline_dppl = next(
        m["value"]
        for m in baseline["post_training_bias_metrics"]["facets"]["Gender"][0]["metrics"]
        if m["name"] == "DPPL"
    )
    assert abs(q_a - q_d) > abs(baseline_dppl)

    violations = monitor.latest_monitoring_constraint_violations().body_dict["violations"]
    assert {
        "facet": "Gender",
        "facet_value": "0",
        "metric_name": "DPPL",
        "constraint_check_type": "bias_drift_check",
        "description": f"Value {post['DPPL']} does not meet the constraint requirement",
    } in violations
    assert (
        monitor.describe_schedule()["LastMonitoringExecutionSummary"]["MonitoringExecutionStatus"]
        == status
    )
    points = boto3.client("cloudwatch").list_metrics(
        Namespace="aws/sagemaker/Endpoints/bias-metrics", MetricName="bias_metric_DPPL"
    )["Metrics"]
    assert any({"Name": "Facet", "Value": "Gender"} in p["Dimensions"] for p in points)
    listed = monitor.sagemaker_session.sagemaker_client.list_monitoring_executions(
        EndpointName=endpoint, MonitoringTypeEquals="ModelBias"
    )["MonitoringExecutionSummaries"]
    assert [(e["MonitoringType"], e["MonitoringExecutionStatus"]) for e in listed] == [
        ("ModelBias", "CompletedWithViolations")
    ]


def test_model_explainability_monitor_reports_attribution_drift(
    sagemaker: Any,
    session: Any,
    s3: Any,
    runtime: Any,
    monitoring_bucket: str,
    classifier: TrainedModel,
) -> None:
    endpoint = flows.deploy_capturing(sagemaker, classifier, monitoring_bucket)
    frame = loans(100, seed=11)
    reference_row = frame[FEATURES].mean().round(2).tolist()
    # in the baseline data Gender and Dept sit at the SHAP baseline (they explain nothing), in the
    # traffic Age and Income do: the ranking of the attributions is reversed
    quiet, loud = ["Gender", "Dept"], ["Age", "Income"]
    for feature in quiet:
        frame[feature] = reference_row[FEATURES.index(feature)]
    key = f"{flows.unique('explain-baseline')}/loans.csv"
    s3.put_object(Bucket=monitoring_bucket, Key=key, Body=frame.to_csv(index=False).encode())
    monitor = monitor_of(ModelExplainabilityMonitor, session)
    shap = SHAPConfig(baseline=[reference_row], num_samples=16, agg_method="mean_abs", seed=3)
    monitor.suggest_baseline(
        data_config(classifier, monitoring_bucket, f"s3://{monitoring_bucket}/{key}"),
        shap,
        model_config(classifier),
        model_scores=0,  # the score's column: kept in the EndpointInput's InferenceAttribute
        wait=True,
        logs=False,
    )
    baseline = monitor.latest_baselining_job.suggested_constraints().body_dict
    importance = baseline["explanations"]["kernel_shap"]["label0"]["global_shap_values"]
    assert all(importance[f] == pytest.approx(0.0, abs=1e-9) for f in quiet) and all(
        importance[f] > 0.01 for f in loud
    )

    traffic = loans(20, seed=9)
    for feature in loud:
        traffic[feature] = reference_row[FEATURES.index(feature)]
    send(runtime, endpoint, traffic)
    flows.wait_capture(s3, monitoring_bucket, endpoint, len(traffic))
    monitor.create_monitoring_schedule(
        endpoint_input=endpoint,
        output_s3_uri=f"s3://{monitoring_bucket}/explainability-reports",
        schedule_cron_expression=CronExpressionGenerator.now(),
        data_analysis_start_time="-PT1H",
        data_analysis_end_time="-PT0H",
    )
    execution, status = ended(monitor)
    described = execution.describe()
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    assert status == "CompletedWithViolations"
    current = flows.read_json(s3, f"{execution.output.destination}/analysis.json")["explanations"][
        "kernel_shap"
    ]["label0"]
    for feature in loud:
        assert current["global_shap_values"][feature] == pytest.approx(0.0, abs=1e-9)
    published = boto3.client("cloudwatch").list_metrics(
        Namespace="aws/sagemaker/Endpoints/explainability-metrics",
        Dimensions=[{"Name": "Endpoint", "Value": endpoint}],
    )["Metrics"]
    assert {f"feature_{f}" for f in FEATURES} | {"ExpectedValue"} == {
        m["MetricName"] for m in published
    }
    features = sorted(importance)
    expected = ndcg_score(
        [[importance[f] for f in features]], [[current["global_shap_values"][f] for f in features]]
    )
    assert expected < 0.9
    [violation] = monitor.latest_monitoring_constraint_violations().body_dict["violations"]
    assert violation == {
        "label": "label0",
        "metric_name": "shap",
        "constraint_check_type": "feature_attribution_drift_check",
        "description": f"Feature attribution drift {expected} exceeds threshold 0.9",
    }

    # traffic like the baseline's, on an endpoint of its own: the same ranking, no violation
    monitor.delete_monitoring_schedule()
    alike = flows.deploy_capturing(sagemaker, classifier, monitoring_bucket)
    traffic = loans(20, seed=10)
    for feature in quiet:
        traffic[feature] = reference_row[FEATURES.index(feature)]
    send(runtime, alike, traffic)
    flows.wait_capture(s3, monitoring_bucket, alike, len(traffic))
    monitor.create_monitoring_schedule(
        endpoint_input=alike,
        output_s3_uri=f"s3://{monitoring_bucket}/explainability-reports",
        schedule_cron_expression=CronExpressionGenerator.now(),
        data_analysis_start_time="-PT1H",
        data_analysis_end_time="-PT0H",
    )
    execution, status = ended(monitor)
    assert status == "Completed", execution.describe().get("FailureReason")
    assert monitor.latest_monitoring_constraint_violations().body_dict["violations"] == []
    for name in (endpoint, alike):
        sagemaker.delete_endpoint(EndpointName=name)


def bias_definition(
    name: str, endpoint: str, bucket: str, config: str, truth: str, image: str = CLARIFY
) -> dict[str, Any]:
    return {
        "JobDefinitionName": name,
        "ModelBiasAppSpecification": {"ImageUri": image, "ConfigUri": config},
        "ModelBiasJobInput": {
            "EndpointInput": {
                "EndpointName": endpoint,
                "LocalPath": "/opt/ml/processing/input/endpoint",
                "ProbabilityThresholdAttribute": 0.5,
            },
            "GroundTruthS3Input": {"S3Uri": truth},
        },
        "ModelBiasJobOutputConfig": {
            "MonitoringOutputs": [
                {
                    "S3Output": {
                        "S3Uri": f"s3://{bucket}/bad-reports",
                        "LocalPath": "/opt/ml/processing/output",
                    }
                }
            ]
        },
        "JobResources": {"ClusterConfig": flows.CLUSTER},
        "RoleArn": flows.ROLE,
    }


def refused(call: Any, **request: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call(**request)
    assert raised.value.response["Error"]["Code"] == "ValidationException", raised.value.response
    return raised.value.response["Error"]["Message"]


def test_what_bias_and_explainability_monitors_refuse(
    sagemaker: Any,
    s3: Any,
    runtime: Any,
    monitoring_bucket: str,
    classifier: TrainedModel,
    endpoint: str,
) -> None:
    send(runtime, endpoint, loans(3, seed=1), ["refused-0", "refused-1", "refused-2"])
    config_key = f"{flows.unique('bad')}/analysis_config.json"
    s3.put_object(
        Bucket=monitoring_bucket,
        Key=config_key,
        Body=json.dumps(
            {
                "label": "Target",
                "label_values_or_threshold": [1],
                "facet": [{"name_or_index": "Gender"}],
                "headers": HEADERS,
            }
        ).encode(),
    )
    config = f"s3://{monitoring_bucket}/{config_key}"
    truth = f"s3://{monitoring_bucket}/no-truth-here/{flows.unique('gt')}"
    create = sagemaker.create_model_bias_job_definition

    message = refused(
        create,
        **bias_definition(flows.unique("b"), "no-such-endpoint", monitoring_bucket, config, truth),
    )
    assert "The endpoint no-such-endpoint to monitor does not exist" in message
    silent = flows.deploy_capturing(sagemaker, classifier, monitoring_bucket, capture=False)
    assert "Data capture is not enabled for endpoint" in refused(
        create, **bias_definition(flows.unique("b"), silent, monitoring_bucket, config, truth)
    )
    sagemaker.delete_endpoint(EndpointName=silent)
    missing = f"s3://{monitoring_bucket}/nothing/analysis_config.json"
    assert f"ConfigUri '{missing}' does not exist" in refused(
        create, **bias_definition(flows.unique("b"), endpoint, monitoring_bucket, missing, truth)
    )
    s3.put_object(
        Bucket=monitoring_bucket, Key="half/analysis_config.json", Body=b'{"label": "Target"}'
    )
    message = refused(
        create,
        **bias_definition(
            flows.unique("b"),
            endpoint,
            monitoring_bucket,
            f"s3://{monitoring_bucket}/half/analysis_config.json",
            truth,
        ),
    )
    assert "lacks 'label_values_or_threshold'" in message and "'facet'" in message
    message = refused(
        create,
        **bias_definition(
            flows.unique("b"), endpoint, monitoring_bucket, config, truth, image=flows.ANALYZER
        ),
    )
    assert "is not the SageMaker Clarify image" in message
    no_job = {
        **bias_definition(flows.unique("b"), endpoint, monitoring_bucket, config, truth),
        "ModelBiasBaselineConfig": {"BaseliningJobName": "never-ran"},
    }
    assert (
        "ModelBiasBaselineConfig.BaseliningJobName 'never-ran' does not name a processing job"
        in refused(create, **no_job)
    )
    gone = f"s3://{monitoring_bucket}/nothing/analysis.json"
    no_file = {
        **bias_definition(flows.unique("b"), endpoint, monitoring_bucket, config, truth),
        "ModelBiasBaselineConfig": {"ConstraintsResource": {"S3Uri": gone}},
    }
    assert f"ModelBiasBaselineConfig.ConstraintsResource.S3Uri '{gone}' does not exist" in refused(
        create, **no_file
    )
    explain = sagemaker.create_model_explainability_job_definition
    request = bias_definition(flows.unique("e"), endpoint, monitoring_bucket, config, truth)
    request = {
        key.replace("ModelBias", "ModelExplainability"): value for key, value in request.items()
    }
    del request["ModelExplainabilityJobInput"]["GroundTruthS3Input"]
    assert "lacks 'methods'" in refused(explain, **request)

    # a definition the service accepts, whose executions cannot run: no ground truth, then no configuration
    name = flows.unique("bias-def")
    create(**bias_definition(name, endpoint, monitoring_bucket, config, truth))
    schedule = flows.unique("bias-no-truth")
    sagemaker.create_monitoring_schedule(**flows.now_schedule(schedule, name, "ModelBias"))
    failed = flows.wait_execution(sagemaker, schedule)
    assert failed["MonitoringExecutionStatus"] == "Failed"
    assert f"No ground truth labels were found under {truth}" in failed["FailureReason"]
    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=schedule)
    upload_ground_truth(s3, monitoring_bucket, truth.split("/", 3)[3], ["nobody"], [1])
    schedule = flows.unique("bias-unmatched")
    sagemaker.create_monitoring_schedule(**flows.now_schedule(schedule, name, "ModelBias"))
    failed = flows.wait_execution(sagemaker, schedule)
    assert failed["MonitoringExecutionStatus"] == "Failed"
    assert "captured inferences in the window has a ground truth label" in failed["FailureReason"]
    assert "1 ground truth records were read" in failed["FailureReason"]
    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=schedule)
    s3.delete_object(Bucket=monitoring_bucket, Key=config_key)
    schedule = flows.unique("bias-no-config")
    sagemaker.create_monitoring_schedule(**flows.now_schedule(schedule, name, "ModelBias"))
    failed = flows.wait_execution(sagemaker, schedule)
    assert failed["MonitoringExecutionStatus"] == "Failed"
    assert (
        f"The analysis configuration {config} (ConfigUri) does not exist" in failed["FailureReason"]
    )
