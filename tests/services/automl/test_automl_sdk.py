"""The SageMaker Python SDK v2's AutoML, unmodified: fit, best_candidate, deploy and predict (a regression)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.services.automl.conftest import wait_automl
from tests.services.training.jobs import ROLE

sagemaker_sdk = pytest.importorskip(
    "sagemaker", reason="the SageMaker Python SDK is a dev dependency"
)

# Rows without the target ('mean area'): radius, texture, perimeter, smoothness, compactness, band, date, diagnosis.
ROWS = "17.99,10.38,122.8,0.1184,0.2776,large,2020-01-01,malignant\n11.42,,77.58,0.1425,0.2839,small,,benign\n"


def test_sdk_fit_best_candidate_deploy_and_predict(sagebox_server: Any, automl_bucket: str) -> None:
    from sagemaker.automl.automl import AutoML
    from sagemaker.deserializers import CSVDeserializer
    from sagemaker.predictor import Predictor
    from sagemaker.serializers import CSVSerializer

    session = sagemaker_sdk.Session()
    automl = AutoML(
        role=ROLE,
        target_attribute_name="mean area",
        output_path=f"s3://{automl_bucket}/sdk-output",
        max_candidates=1,
        mode="HYPERPARAMETER_TUNING",
        sagemaker_session=session,
        base_job_name="sdk-automl",
    )
    automl.fit(inputs=f"s3://{automl_bucket}/cancer/", wait=True, logs=False)
    described = automl.describe_auto_ml_job()
    assert described["AutoMLJobStatus"] == "Completed", described.get("FailureReason")
    assert described["ResolvedAttributes"]["ProblemType"] == "Regression"
    best = automl.best_candidate()
    assert best["FinalAutoMLJobObjectiveMetric"]["MetricName"] == "MSE"
    assert len(best["InferenceContainers"]) == 2  # regression: no label container
    assert [c["CandidateName"] for c in automl.list_candidates()] == [best["CandidateName"]]
    predictor = automl.deploy(
        initial_instance_count=1,
        instance_type="ml.m5.large",
        predictor_cls=Predictor,
        serializer=CSVSerializer(),
        deserializer=CSVDeserializer(),
        wait=False,
    )
    # The SDK's own wait polls every 30 s; boto3's waiter asks every second.
    session.sagemaker_client.get_waiter("endpoint_in_service").wait(
        EndpointName=predictor.endpoint_name, WaiterConfig={"Delay": 1, "MaxAttempts": 90}
    )
    try:
        values = [float(v) for row in predictor.predict(ROWS) for v in row]
        assert len(values) == 2
        assert 700 < values[0] < 1300  # the first row's mean area is 1001
        assert 250 < values[1] < 600  # the second's is 386
    finally:
        predictor.delete_endpoint()


def test_sdk_automl_v2_fits_a_tabular_job(sagebox_server: Any, automl_bucket: str) -> None:
    from sagemaker.automl.automlv2 import AutoMLDataChannel, AutoMLTabularConfig, AutoMLV2

    automl = AutoMLV2(
        problem_config=AutoMLTabularConfig(
            target_attribute_name="diagnosis", max_candidates=1, mode="HYPERPARAMETER_TUNING"
        ),
        role=ROLE,
        output_path=f"s3://{automl_bucket}/sdk-v2-output",
        base_job_name="sdk-automlv2",
        sagemaker_session=sagemaker_sdk.Session(),
    )
    channel = AutoMLDataChannel(
        s3_data_type="S3Prefix", s3_uri=f"s3://{automl_bucket}/cancer/", channel_type="training"
    )
    # fit(wait=True) fails in this SDK release before any request (AutoMLJobV2.wait passes
    # job_name= to Session.wait_for_auto_ml_job, which takes job=), so the test waits itself.
    automl.fit(inputs=[channel], wait=False, logs=False)
    described = wait_automl(boto3.client("sagemaker"), automl.current_job_name)
    assert described["AutoMLJobStatus"] == "Completed", described.get("FailureReason")
    described = automl.describe_auto_ml_job()
    assert described["AutoMLJobStatus"] == "Completed", described.get("FailureReason")
    assert described["ResolvedAttributes"]["AutoMLProblemTypeResolvedAttributes"][
        "TabularResolvedAttributes"
    ] == {"ProblemType": "BinaryClassification"}
    best = automl.best_candidate()
    assert best["FinalAutoMLJobObjectiveMetric"]["MetricName"] == "F1"
    assert len(best["InferenceContainers"]) == 3
