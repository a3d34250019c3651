"""Bias and explainability drift monitors run the Clarify image, configured as SageMaker
configures it: the processing job their executions start, built in-process (the Clarify
image itself is another module; its end-to-end runs are tested where it is built)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sagebox.config import Settings
from sagebox.services.monitoring import jobs
from sagebox.services.monitoring.execution_plans import ExecutionPlanner
from sagebox.services.monitoring.windows import Window
from sagebox.services.platform import Platform
from tests.services.monitoring import flows

CLARIFY = "205585389593.dkr.ecr.us-east-1.amazonaws.com/sagemaker-clarify-processing:1.0"
BUCKET = "clarify-wiring"
ANALYSIS_CONFIG = {"label": "y", "label_values_or_threshold": [1], "facet": [{"name_or_index": "sex"}],
                   "methods": {"shap": {"baseline": [[1, 2]]}}, "predictor": {"model_name": "m", "instance_type": "ml.m5.large",
                                                                         "initial_instance_count": 1}}


@pytest.fixture()
def platform(tmp_path: Path) -> Any:
    made = Platform(Settings(home=tmp_path / "home"))
    made.objects.create_bucket(BUCKET)
    yield made
    made.close()


def put(platform: Platform, key: str, body: bytes) -> str:
    platform.objects.put_object(BUCKET, key, body)
    return f"s3://{BUCKET}/{key}"


def definition(kind: str, config: str, constraints: str) -> dict[str, Any]:
    job_input: dict[str, Any] = {"BatchTransformInput": {
        "DataCapturedDestinationS3Uri": f"s3://{BUCKET}/transform-capture", "LocalPath": "/opt/ml/processing/input/data",
        "DatasetFormat": {"Json": {"Line": True}}, "FeaturesAttribute": "features", "InferenceAttribute": "0",
        "ProbabilityThresholdAttribute": 0.8}}
    if kind == "ModelBias":
        job_input["GroundTruthS3Input"] = {"S3Uri": f"s3://{BUCKET}/ground-truth"}
    return {
        "JobDefinitionName": f"{kind.lower()}-wiring",
        f"{kind}BaselineConfig": {"ConstraintsResource": {"S3Uri": constraints}},
        f"{kind}AppSpecification": {"ImageUri": CLARIFY, "ConfigUri": config, "Environment": {"custom": "kept"}},
        f"{kind}JobInput": job_input,
        f"{kind}JobOutputConfig": {"MonitoringOutputs": [{"S3Output": {
            "S3Uri": f"s3://{BUCKET}/reports", "LocalPath": "/opt/ml/processing/output"}}]},
        "JobResources": {"ClusterConfig": flows.CLUSTER}, "RoleArn": flows.ROLE,
    }


@pytest.mark.parametrize("kind", ["ModelBias", "ModelExplainability"])
def test_executions_run_the_clarify_image_with_its_configuration(platform: Platform, kind: str) -> None:
    now = datetime.now(UTC)
    config = put(platform, "definitions/analysis_config.json", json.dumps(ANALYSIS_CONFIG).encode())
    constraints = put(platform, "baseline/analysis.json", b'{"version": "1.0"}')
    put(platform, f"transform-capture/{now:%Y/%m/%d/%H}/data.jsonl", b'{"features": [1, 2]}\n')
    put(platform, f"ground-truth/{now:%Y/%m/%d/%H}/labels.jsonl", b'{"groundTruthData": {"data": "1", "encoding": "CSV"}}\n')
    service = {"ModelBias": platform.model_bias_job_definitions, "ModelExplainability": platform.model_explainability_job_definitions}[kind]  # type: ignore[attr-defined]
    service.create(definition(kind, config, constraints))
    job = jobs.resolve({"MonitoringJobDefinitionName": f"{kind.lower()}-wiring", "MonitoringType": kind}, platform.store)
    planner = ExecutionPlanner(platform.objects, platform.processing, platform.endpoints)
    schedule = {"MonitoringScheduleArn": platform.settings.arn("monitoring-schedule/s"), "MonitoringScheduleName": "s",
                "CreationTime": now.timestamp()}
    plan = planner.plan(job, schedule, now, Window(now - timedelta(hours=1), now), now)
    request = plan.request
    assert request["AppSpecification"] == {"ImageUri": CLARIFY}
    inputs = {i["InputName"]: (i["S3Input"]["S3Uri"], i["S3Input"]["LocalPath"]) for i in request["ProcessingInputs"]}
    assert inputs["analysis_config"] == (config, "/opt/ml/processing/input/config")
    assert inputs["baseline_constraints"] == (constraints, "/opt/ml/processing/baseline/constraints")
    assert inputs["batch_input_1"][1] == f"/opt/ml/processing/input/data/{now:%Y/%m/%d/%H}"
    environment = request["Environment"]
    assert environment["analysis_type"] == {"ModelBias": "MODEL_BIAS", "ModelExplainability": "MODEL_EXPLAINABILITY"}[kind]
    assert environment["analysis_config"] == "/opt/ml/processing/input/config/analysis_config.json"
    assert environment["baseline_constraints"] == "/opt/ml/processing/baseline/constraints/analysis.json"
    assert environment["dataset_format"] == '{"json":{"lines":true}}'
    assert (environment["features_attribute"], environment["inference_attribute"], environment["probability_threshold_attribute"]) == (
        "features", "0", "0.8")
    assert environment["custom"] == "kept" and environment["monitoring_input_type"] == "BATCH_TRANSFORM_INPUT"
    assert ("ground_truth_source" in environment) == (kind == "ModelBias")
    assert plan.namespace == f"aws/sagemaker/ModelMonitoring/{'bias' if kind == 'ModelBias' else 'explainability'}-metrics"
    assert request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == f"s3://{BUCKET}/reports/s/{now:%Y/%m/%d/%H}"
