"""Hosting requests SageMaker refuses or accepts, answered the same way through boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.training.jobs import ROLE, XGBOOST_IMAGE, unique


def validation_message(caught: pytest.ExceptionInfo[ClientError]) -> str:
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    return str(caught.value.response["Error"]["Message"])


@pytest.fixture(scope="module")
def model_without_data(sagemaker: Any) -> str:
    """A built-in algorithm's model with no ModelDataUrl: CreateModel accepts it, as SageMaker does."""
    name = unique("no-model-data")
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGBOOST_IMAGE})
    assert "ModelDataUrl" not in sagemaker.describe_model(ModelName=name)["PrimaryContainer"]
    return name


@pytest.mark.parametrize("memory", [1111, 1025, 6143])
def test_serverless_memory_comes_in_1024_mb_steps(sagemaker: Any, model_without_data: str, memory: int) -> None:
    variant = {"VariantName": "AllTraffic", "ModelName": model_without_data,
               "ServerlessConfig": {"MemorySizeInMB": memory, "MaxConcurrency": 1}}
    with pytest.raises(ClientError) as caught:
        sagemaker.create_endpoint_config(EndpointConfigName=unique("serverless"), ProductionVariants=[variant])
    assert f"ServerlessConfig.MemorySizeInMB {memory} is not a serverless memory size" in validation_message(caught)
    variant["ServerlessConfig"]["MemorySizeInMB"] = 2048
    sagemaker.create_endpoint_config(EndpointConfigName=unique("serverless"), ProductionVariants=[variant])


def test_weights_and_capacities_name_each_variant_once(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName=unique("endpoint"),
            DesiredWeightsAndCapacities=[
                {"VariantName": "AllTraffic", "DesiredWeight": 1.0},
                {"VariantName": "AllTraffic", "DesiredWeight": 2.0},
            ],
        )
    assert 'The variant name(s) "[AllTraffic]" is/are non-unique within the request.' in validation_message(caught)


def test_endpoint_of_a_built_in_model_without_data_fails_with_a_reason(sagemaker: Any, model_without_data: str) -> None:
    config = unique("no-data")
    sagemaker.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": model_without_data, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    endpoint = unique("no-data")
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    waiter = sagemaker.get_waiter("endpoint_in_service")
    with pytest.raises(Exception, match="Failed"):
        waiter.wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "Failed"
    assert "has no ModelDataUrl, and the built-in xgboost algorithm serves a trained model" in described["FailureReason"]
    sagemaker.delete_endpoint(EndpointName=endpoint)
