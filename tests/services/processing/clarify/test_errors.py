"""Bad input fails a Clarify job with a FailureReason that says what is wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sagemaker import image_uris
from sagemaker.clarify import BiasConfig, DataConfig, ModelConfig, ModelPredictedLabelConfig
from sagemaker.exceptions import UnexpectedStatusException

from tests.services.processing.clarify.conftest import FEATURES, ROLE, ClarifyData, processor
from tests.services.processing.jobs import wait_for
from tests.services.training.jobs import unique


def failure(session: Any, sagemaker: Any, run: Any) -> str:
    clarify = processor(session)
    with pytest.raises(UnexpectedStatusException):
        run(clarify)
    described = sagemaker.describe_processing_job(ProcessingJobName=clarify.latest_job.job_name)
    assert described["ProcessingJobStatus"] == "Failed"
    return described["FailureReason"]


def data(clarify_data: ClarifyData, **overrides: Any) -> DataConfig:
    arguments: dict[str, Any] = {
        "s3_data_input_path": clarify_data.data_uri,
        "s3_output_path": f"s3://{clarify_data.bucket}/{unique('bad')}",
        "label": "Target",
        "headers": ["Target", *FEATURES],
    }
    return DataConfig(**{**arguments, **overrides})


def test_a_facet_column_that_does_not_exist(sdk_session: Any, sagemaker: Any, clarify_data: ClarifyData) -> None:
    reason = failure(sdk_session, sagemaker, lambda c: c.run_pre_training_bias(data(clarify_data), BiasConfig([1], "Nationality"), wait=True, logs=False))
    assert "Unable to locate the facet 'Nationality'" in reason and "'Gender'" in reason


def test_a_label_column_that_does_not_exist(sdk_session: Any, sagemaker: Any, clarify_data: ClarifyData) -> None:
    reason = failure(sdk_session, sagemaker, lambda c: c.run_pre_training_bias(data(clarify_data, label="Approved"), BiasConfig([1], "Gender"), wait=True, logs=False))
    assert "Unable to locate the label 'Approved'" in reason


def test_headers_that_do_not_fit_the_columns(sdk_session: Any, sagemaker: Any, clarify_data: ClarifyData) -> None:
    config = data(clarify_data, headers=["Target", "Age", "Gender"])
    reason = failure(sdk_session, sagemaker, lambda c: c.run_pre_training_bias(config, BiasConfig([1], "Gender"), wait=True, logs=False))
    assert "Headers in config do not match with the number of columns in the dataset: 3 headers" in reason


def test_a_model_that_does_not_exist(sdk_session: Any, sagemaker: Any, clarify_data: ClarifyData) -> None:
    model = ModelConfig(model_name="no-such-model", instance_type="ml.m5.large", instance_count=1)
    reason = failure(
        sdk_session, sagemaker,
        lambda c: c.run_post_training_bias(data(clarify_data), BiasConfig([1], "Gender"), model, ModelPredictedLabelConfig(), wait=True, logs=False),
    )
    assert "Could not create the shadow endpoint for predictor.model_name 'no-such-model'" in reason


def test_an_unknown_metric_and_an_unreadable_configuration(s3: Any, sagemaker: Any, clarify_data: ClarifyData) -> None:
    reasons = []
    for body in (b"{not json", json.dumps({"dataset_type": "text/csv", "label": "Target", "label_values_or_threshold": [1],
                                            "facet": [{"name_or_index": "Gender"}], "methods": {"pre_training_bias": {"methods": ["CI", "XYZ"]}}}).encode()):
        prefix = unique("config")
        s3.put_object(Bucket=clarify_data.bucket, Key=f"{prefix}/analysis_config.json", Body=body)
        name = unique("clarify-bad")
        sagemaker.create_processing_job(
            ProcessingJobName=name,
            RoleArn=ROLE,
            AppSpecification={"ImageUri": image_uris.retrieve("clarify", "eu-west-1")},
            ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}},
            ProcessingInputs=[
                {"InputName": "dataset", "S3Input": {"S3Uri": clarify_data.data_uri, "LocalPath": "/opt/ml/processing/input/data", "S3DataType": "S3Prefix", "S3InputMode": "File"}},
                {"InputName": "analysis_config", "S3Input": {"S3Uri": f"s3://{clarify_data.bucket}/{prefix}/analysis_config.json", "LocalPath": "/opt/ml/processing/input/config", "S3DataType": "S3Prefix", "S3InputMode": "File"}},
            ],
            ProcessingOutputConfig={"Outputs": [{"OutputName": "analysis_result", "S3Output": {"S3Uri": f"s3://{clarify_data.bucket}/{prefix}/out", "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
        )
        described = wait_for(sagemaker, name, timeout=120)
        assert described["ProcessingJobStatus"] == "Failed"
        reasons.append(described["FailureReason"])
    assert "Unable to load analysis configuration as JSON" in reasons[0]
    assert "'methods.pre_training_bias.methods' names unknown metrics ['XYZ']" in reasons[1]
