"""Deploying from the registry with boto3: CreateModel on a model package, endpoints, transform."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.services.registry.conftest import (
    ROLE,
    RegistryModel,
    csv_rows,
    inference_specification,
    predictions,
)
from tests.services.training.jobs import XGBOOST_IMAGE, unique


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_an_approved_version_deploys_to_an_endpoint(
    sagemaker: Any, runtime: Any, group: str, registry_model: RegistryModel
) -> None:
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        InferenceSpecification=inference_specification(registry_model.model_data),
    )["ModelPackageArn"]
    model = unique("from-registry")
    code, message = error_of(
        sagemaker.create_model, ModelName=model, ExecutionRoleArn=ROLE, Containers=[{"ModelPackageName": arn}]
    )
    assert code == "ValidationException"
    assert "Containers[0].ModelPackageName" in message and "PendingManualApproval" in message

    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    sagemaker.create_model(ModelName=model, ExecutionRoleArn=ROLE, Containers=[{"ModelPackageName": arn}])
    (container,) = sagemaker.describe_model(ModelName=model)["Containers"]
    assert container["ModelPackageName"] == arn
    assert (container["Image"], container["ModelDataUrl"]) == (XGBOOST_IMAGE, registry_model.model_data)

    config, endpoint = unique("config"), unique("endpoint")
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
        ],
    )
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    try:
        sagemaker.get_waiter("endpoint_in_service").wait(
            EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        rows = registry_model.features[:5]
        answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_rows(rows))
        np.testing.assert_allclose(predictions(answer["Body"].read()), registry_model.predict(rows), rtol=1e-6)
    finally:
        sagemaker.delete_endpoint(EndpointName=endpoint)


def test_an_unversioned_package_serves_batch_transform_with_its_environment(
    sagemaker: Any, s3: Any, registry_bucket: str, registry_model: RegistryModel
) -> None:
    name = unique("solo")
    specification = inference_specification(
        registry_model.model_data,
        SupportedRealtimeInferenceInstanceTypes=["ml.m5.large"],
        SupportedTransformInstanceTypes=["ml.m5.large"],
    )
    specification["Containers"][0]["Environment"] = {"FROM_PACKAGE": "1", "OVERRIDDEN": "package"}
    sagemaker.create_model_package(ModelPackageName=name, InferenceSpecification=specification)
    model = unique("solo-model")
    sagemaker.create_model(
        ModelName=model, ExecutionRoleArn=ROLE,
        PrimaryContainer={"ModelPackageName": name, "Environment": {"OVERRIDDEN": "model"}},
    )
    container = sagemaker.describe_model(ModelName=model)["PrimaryContainer"]
    assert container["ModelPackageName"] == name
    assert container["Environment"] == {"FROM_PACKAGE": "1", "OVERRIDDEN": "model"}

    rows = registry_model.features[:7]
    s3.put_object(Bucket=registry_bucket, Key=f"{model}/input/rows.csv", Body=csv_rows(rows))
    job = unique("solo-transform")
    sagemaker.create_transform_job(
        TransformJobName=job,
        ModelName=model,
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{registry_bucket}/{model}/input/"}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": f"s3://{registry_bucket}/{model}/output", "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    deadline = time.time() + 90
    while (described := sagemaker.describe_transform_job(TransformJobName=job))["TransformJobStatus"] == "InProgress":
        assert time.time() < deadline
        time.sleep(0.2)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    body = s3.get_object(Bucket=registry_bucket, Key=f"{model}/output/rows.csv.out")["Body"].read()
    np.testing.assert_allclose(predictions(body), registry_model.predict(rows), rtol=1e-6)


def test_create_model_refuses_what_a_package_cannot_serve(
    sagemaker: Any, group: str, registry_model: RegistryModel
) -> None:
    approved = sagemaker.create_model_package(
        ModelPackageGroupName=group, ModelApprovalStatus="Approved",
        InferenceSpecification=inference_specification(registry_model.model_data),
        AdditionalInferenceSpecifications=[
            {"Name": "same-again", **inference_specification(registry_model.model_data)}
        ],
    )["ModelPackageArn"]
    described_only = sagemaker.create_model_package(
        ModelPackageGroupName=group, ModelApprovalStatus="Approved", SourceUri="s3://somewhere/model.tar.gz",
    )["ModelPackageArn"]
    missing = approved.rsplit("/", 1)[0] + "/42"
    cases = [
        ({"ModelPackageName": missing}, f"ModelPackage {missing} does not exist."),
        ({"ModelPackageName": approved, "Image": XGBOOST_IMAGE}, "Image cannot be given with ModelPackageName"),
        ({"ModelPackageName": approved, "InferenceSpecificationName": "nope"}, "same-again"),
        ({"ModelPackageName": described_only}, "has no InferenceSpecification"),
    ]
    for container, wording in cases:
        code, message = error_of(
            sagemaker.create_model, ModelName=unique("refused"), ExecutionRoleArn=ROLE, Containers=[container]
        )
        assert code == "ValidationException" and wording in message, message
    model = unique("additional")
    sagemaker.create_model(
        ModelName=model, ExecutionRoleArn=ROLE,
        Containers=[{"ModelPackageName": approved, "InferenceSpecificationName": "same-again"}],
    )
    (container,) = sagemaker.describe_model(ModelName=model)["Containers"]
    assert container["InferenceSpecificationName"] == "same-again"
    assert container["ModelDataUrl"] == registry_model.model_data
