"""The SageMaker Python SDK v2's registry flow, unmodified: train, register, approve, deploy."""

from __future__ import annotations

import io
import json
import os
import tarfile
from typing import Any

import boto3
import numpy as np
import pytest
import xgboost
from sklearn.datasets import load_diabetes

from tests.services.registry.conftest import ROLE, csv_rows
from tests.services.training.jobs import unique

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
sagemaker = pytest.importorskip("sagemaker", reason="the SageMaker Python SDK is a dev dependency")

from sagemaker import ModelPackage, image_uris  # noqa: E402
from sagemaker.estimator import Estimator  # noqa: E402
from sagemaker.inputs import TrainingInput  # noqa: E402
from sagemaker.model_card import ModelPackageModelCard  # noqa: E402
from sagemaker.predictor import Predictor  # noqa: E402
from sagemaker.serializers import CSVSerializer  # noqa: E402


def booster_at(s3: Any, uri: str) -> xgboost.Booster:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) as tar:
        member = tar.extractfile("xgboost-model")
        assert member is not None
        return xgboost.Booster(model_file=bytearray(member.read()))


# What `sagebox env` writes for the SDK: no telemetry calls home; the bucket is given, so the
# SDK never asks AWS's own STS for an account id to name one.
SDK_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}


def test_register_three_versions_approve_and_deploy(sagebox_server: Any, s3: Any, registry_bucket: str) -> None:
    session = sagemaker.Session(
        boto_session=boto3.Session(region_name="us-east-1"), default_bucket=registry_bucket, sagemaker_config=SDK_CONFIG
    )
    client = session.sagemaker_client
    bucket = session.default_bucket()
    data = load_diabetes()
    x, y = data.data[:150], data.target[:150]
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([y, x]), delimiter=",", fmt="%.10g")
    s3.put_object(Bucket=bucket, Key="sdk-registry/train/data.csv", Body=buffer.getvalue().encode())

    estimator = Estimator(
        image_uris.retrieve("xgboost", session.boto_region_name, "1.7-1"),
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path=f"s3://{bucket}/sdk-registry/output",
        sagemaker_session=session,
        hyperparameters={"objective": "reg:squarederror", "num_round": "6", "max_depth": "3"},
    )
    estimator.fit({"train": TrainingInput(f"s3://{bucket}/sdk-registry/train/", content_type="text/csv")}, logs=False)

    group = unique("sdk-group")
    # Given a model card, it is kept with the version as its JSON content; without one (the
    # third version), register() looks the training job up with Search to write its own.
    card = ModelPackageModelCard(model_card_content={"model_overview": {"model_creator": "sagebox"}}, model_card_status="Draft")
    packages = [
        estimator.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            model_package_group_name=group,
            customer_metadata_properties={"run": str(run)},
            model_card=card if run < 2 else None,
        )
        for run in range(3)
    ]
    arns = [package.model_package_arn for package in packages]
    assert [arn.rsplit("/", 2)[1:] for arn in arns] == [[group.lower(), str(v)] for v in (1, 2, 3)]
    described = client.describe_model_package(ModelPackageName=arns[0])
    assert described["ModelPackageGroupName"] == group
    assert described["ModelApprovalStatus"] == "PendingManualApproval"
    specification = described["InferenceSpecification"]
    assert specification["Containers"][0]["ModelDataUrl"] == estimator.model_data
    assert specification["SupportedRealtimeInferenceInstanceTypes"] == ["ml.m5.large"]
    assert specification["SupportedTransformInstanceTypes"] == ["ml.m5.large"]
    assert specification["SupportedContentTypes"] == ["text/csv"]
    assert json.loads(described["ModelCard"]["ModelCardContent"]) == {"model_overview": {"model_creator": "sagebox"}}
    assert described["CustomerMetadataProperties"] == {"run": "0"}

    # ModelPackage.create approves a pending version before it creates the model, as it does on AWS.
    first = ModelPackage(role=ROLE, model_package_arn=arns[0], sagemaker_session=session)
    first.create(instance_type="ml.m5.large")
    assert client.describe_model_package(ModelPackageName=arns[0])["ModelApprovalStatus"] == "Approved"
    (container,) = client.describe_model(ModelName=first.name)["Containers"]  # the SDK sends Containers
    assert container["ModelPackageName"] == arns[0]

    client.update_model_package(ModelPackageArn=arns[2], ModelApprovalStatus="Approved")
    approved = client.describe_model_package(ModelPackageName=arns[2])
    assert approved["ModelApprovalStatus"] == "Approved"
    assert approved["LastModifiedTime"] >= approved["CreationTime"]
    assert client.describe_model_package(ModelPackageName=arns[1])["ModelApprovalStatus"] == "PendingManualApproval"

    model = ModelPackage(role=ROLE, model_package_arn=arns[2], sagemaker_session=session)
    model.deploy(1, "ml.m5.large", wait=False)
    endpoint = model.endpoint_name
    try:
        client.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        predictor = Predictor(endpoint, sagemaker_session=session, serializer=CSVSerializer())
        rows = x[:4]
        answer = predictor.predict(csv_rows(rows).decode())
        values = np.array([float(v) for v in answer.decode().replace("\n", ",").split(",") if v.strip()])
        expected = booster_at(s3, estimator.model_data).predict(xgboost.DMatrix(rows))
        np.testing.assert_allclose(values, expected, rtol=1e-6)
    finally:
        client.delete_endpoint(EndpointName=endpoint)
