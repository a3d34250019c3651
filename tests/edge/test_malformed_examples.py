"""One example of each class of malformed request that used to get a 500 or stall the server."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sagebox.cli.server_process import ServerProcess
from sagebox.edge.body_limits import JSON_BODY_LIMIT
from sagebox.edge.json_requests import LARGE_BODY_BYTES
from tests.edge.wire import check_json_error_shape, json_target
from tests.services.training.jobs import ROLE, XGBOOST_IMAGE, unique

ARN = "arn:aws:sagemaker:us-east-1:123456789012:training-job/x"


@pytest.fixture(scope="module")
def client(sagebox_server: ServerProcess) -> Any:
    with httpx.Client(base_url=sagebox_server.endpoint_url, timeout=60) as http:
        yield http


def error_of(response: httpx.Response) -> tuple[str, str]:
    document = check_json_error_shape(response)
    return str(document["__type"]), str(document["message"])


def client_error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


@pytest.mark.parametrize("value", [1e20, "inf", -1e15, "nan", "1e400"])
def test_list_timestamps_out_of_range_name_the_member(client: httpx.Client, value: object) -> None:
    body = json.dumps({"CreationTimeBefore": value}).encode()
    code, message = error_of(json_target(client, "SageMaker.ListTrainingJobs", body))
    assert code == "ValidationException"
    assert "at 'creationTimeBefore' failed to satisfy constraint: Member must be a timestamp between" in message


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"[" * 200_000, "levels deep"),
        (b'{"TrainingJobName": "caf\xe9"}', "not valid UTF-8"),
        (b'{"TrainingJobName": "\\ud800"}', "unpaired surrogate"),
        (b'{"MaxResults": NaN}', "not valid JSON"),
    ],
)
def test_unreadable_bodies_are_serialization_exceptions(client: httpx.Client, body: bytes, says: str) -> None:
    response = json_target(client, "SageMaker.ListTrainingJobs", body)
    code, message = error_of(response)
    assert response.status_code == 400 and code == "SerializationException" and says in message


def test_training_job_without_algorithm_or_resources_is_a_validation_error(sagemaker: Any) -> None:
    request = {
        "TrainingJobName": unique("no-algorithm"), "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": "s3://nowhere/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
    }
    with pytest.raises(ClientError) as caught:
        sagemaker.create_training_job(**request)
    assert client_error(caught)[0] == "ValidationException" and "AlgorithmSpecification is required" in client_error(caught)[1]
    del request["ResourceConfig"]
    request["AlgorithmSpecification"] = {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"}
    with pytest.raises(ClientError) as caught:
        sagemaker.create_training_job(**request)
    assert client_error(caught)[0] == "ValidationException" and "ResourceConfig is required" in client_error(caught)[1]


def test_variants_without_a_model_are_validation_errors(sagemaker: Any, client: httpx.Client) -> None:
    model = unique("bring-your-own")
    sagemaker.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGBOOST_IMAGE})
    serving = {"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    without_model = {"VariantName": "NoModel", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    for variants, shadows in (([without_model], None), ([serving], [without_model])):
        extra = {"ShadowProductionVariants": shadows} if shadows else {}
        with pytest.raises(ClientError) as caught:
            sagemaker.create_endpoint_config(EndpointConfigName=unique("config"), ProductionVariants=variants, **extra)
        code, message = client_error(caught)
        assert code == "ValidationException" and "'NoModel': ModelName is required" in message
    body = json.dumps({"EndpointConfigName": unique("config"), "ProductionVariants": [{**without_model, "ModelName": None}]})
    code, message = error_of(json_target(client, "SageMaker.CreateEndpointConfig", body.encode()))
    assert code == "ValidationException" and "ModelName is required" in message


def test_warm_start_parent_without_a_name_is_a_validation_error(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sagemaker.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=unique("warm")[:32],
            HyperParameterTuningJobConfig={
                "Strategy": "Random", "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            },
            WarmStartConfig={"ParentHyperParameterTuningJobs": [{}], "WarmStartType": "IdenticalDataAndAlgorithm"},
        )
    code, message = client_error(caught)
    assert code == "ValidationException"
    assert "WarmStartConfig.ParentHyperParameterTuningJobs[0]: HyperParameterTuningJobName is required" in message


@pytest.mark.parametrize("unit", ["../", "./", "/"])
def test_keys_of_dot_segments_are_refused_without_leaving_folders(s3: Any, sagebox_server: ServerProcess, unit: str) -> None:
    bucket = unique("dots")
    s3.create_bucket(Bucket=bucket)
    key = (unit * 1024)[:1024]
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    assert caught.value.response["Error"]["Code"] == "KeyTooLongError"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    folder = sagebox_server.home / "objects" / bucket
    if folder.is_dir():  # the local object store (not an S3 backend): no empty folders left behind
        assert list(folder.iterdir()) == []
    s3.delete_bucket(Bucket=bucket)


def test_custom_attributes_over_1024_characters_are_a_validation_error(sagebox_server: ServerProcess) -> None:
    runtime = boto3.client("sagemaker-runtime", config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName="any-endpoint", Body=b"1,2", ContentType="text/csv", CustomAttributes="a" * 9000)
    code, message = client_error(caught)
    assert code == "ValidationError"
    assert "at 'customAttributes' failed to satisfy constraint: Member must have length less than or equal to 1024" in message
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_bodies_over_the_limit_are_refused_before_they_are_read(client: httpx.Client) -> None:
    tags = json.dumps([{"Key": "\u0007", "Value": "v"}] * 800_000).encode()
    body = b'{"ResourceArn": "' + ARN.encode() + b'", "Tags": ' + tags + b"}"
    assert len(body) > 19_000_000
    started = time.perf_counter()
    response = json_target(client, "SageMaker.AddTags", body)
    assert response.status_code == 413 and error_of(response)[0] == "ValidationException"
    assert str(JSON_BODY_LIMIT) in error_of(response)[1]
    name = json.dumps({"TrainingJobName": "x" * 20_000_000}).encode()
    response = json_target(client, "SageMaker.DescribeTrainingJob", name)
    assert response.status_code == 413 and len(response.content) < 1000
    assert time.perf_counter() - started < 30


def test_errors_quote_at_most_200_characters(client: httpx.Client) -> None:
    body = json.dumps({"TrainingJobName": "x" * 3_000_000}).encode()
    response = json_target(client, "SageMaker.DescribeTrainingJob", body)
    code, message = error_of(response)
    assert code == "ValidationException" and len(response.content) < 1000
    assert f"Value '{'x' * 200}' at 'trainingJobName'" in message



def test_large_bodies_are_read_like_small_ones(client: httpx.Client) -> None:
    """Bodies past json_requests.LARGE_BODY_BYTES are read in another process, with the same answers."""
    tags = [{"Key": "!", "Value": "v"}] * 20_000
    body = json.dumps({"ResourceArn": ARN, "Tags": tags}).encode()
    assert len(body) > LARGE_BODY_BYTES
    code, message = error_of(json_target(client, "SageMaker.AddTags", body))
    assert code == "ValidationException" and message.startswith("20001 validation errors detected: ")
    padded = json.dumps({"ModelName": "no-such-model", "SageboxPadding": "x" * 1_000_000}).encode()
    code, message = error_of(json_target(client, "SageMaker.DescribeModel", padded))
    assert code == "ValidationException" and "Could not find model" in message
    deep = b'{"ModelName": "m", "Padding": "' + b"x" * LARGE_BODY_BYTES + b'", "Deep": ' + b"[" * 100 + b"]" * 100 + b"}"
    code, message = error_of(json_target(client, "SageMaker.DescribeModel", deep))
    assert code == "SerializationException" and "levels deep" in message
