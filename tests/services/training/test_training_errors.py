"""Bad input to the training API: each answered with a specific AWS-shaped error."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.services.training.jobs import channel, job_request, unique, wait_for


@pytest.fixture(scope="module")
def unchecked(sagebox_server: Any) -> Any:
    """A client that sends requests botocore itself would reject, to test the server's checks."""
    return boto3.client("sagemaker", config=Config(parameter_validation=False))


def _error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response


def _request(bucket: str, **overrides: Any) -> dict[str, Any]:
    return job_request(unique("bad"), bucket, [channel("train", f"s3://{bucket}/diabetes/train/")], **overrides)


def test_missing_required_member_names_it(unchecked: Any, diabetes_bucket: str) -> None:
    request = _request(diabetes_bucket)
    del request["RoleArn"]
    error = _error(unchecked.create_training_job, **request)
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Message"] == (
        "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_pattern_enum_and_range_violations_are_all_reported(unchecked: Any, diabetes_bucket: str) -> None:
    request = _request(diabetes_bucket, TrainingJobName="bad_name")
    request["AlgorithmSpecification"]["TrainingInputMode"] = "Sometimes"
    request["StoppingCondition"]["MaxRuntimeInSeconds"] = 0
    message = _error(unchecked.create_training_job, **request)["Error"]["Message"]
    assert message.startswith("3 validation errors detected: ")
    assert "Value 'bad_name' at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern" in message
    assert "at 'algorithmSpecification.trainingInputMode' failed to satisfy constraint: Member must satisfy enum value set: [Pipe, File, FastFile]" in message
    assert "Value '0' at 'stoppingCondition.maxRuntimeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 1" in message


def test_wrong_type_is_reported(unchecked: Any, diabetes_bucket: str) -> None:
    request = _request(diabetes_bucket)
    request["StoppingCondition"]["MaxRuntimeInSeconds"] = "soon"
    message = _error(unchecked.create_training_job, **request)["Error"]["Message"]
    assert "'stoppingCondition.maxRuntimeInSeconds'" in message and "must be an integer" in message


@pytest.mark.parametrize(
    ("hyperparameters", "expected"),
    [
        ({"num_round": "10", "max_dept": "3"}, "max_dept"),
        ({"num_round": "10", "max_depth": "-1"}, "max_depth"),
        ({"objective": "reg:squarederror"}, "num_round"),
        ({"num_round": "10", "objective": "multi:softmax"}, "num_class"),
        ({"num_round": "10", "objective": "reg:nonsense"}, "objective"),
    ],
)
def test_bad_hyperparameters_fail_at_create_time(
    sagemaker: Any, diabetes_bucket: str, hyperparameters: dict[str, str], expected: str
) -> None:
    request = _request(diabetes_bucket, HyperParameters=hyperparameters)
    error = _error(sagemaker.create_training_job, **request)["Error"]
    assert error["Code"] == "ValidationException"
    assert f"'{expected}'" in error["Message"]
    with pytest.raises(ClientError):
        sagemaker.describe_training_job(TrainingJobName=request["TrainingJobName"])


def test_unknown_image_and_channel_and_content_type(sagemaker: Any, diabetes_bucket: str) -> None:
    request = _request(diabetes_bucket)
    request["AlgorithmSpecification"]["TrainingImage"] = "123.dkr.ecr.us-east-1.amazonaws.com/my-own:latest"
    assert "my-own:latest" in _error(sagemaker.create_training_job, **request)["Error"]["Message"]
    request = _request(diabetes_bucket)
    request["InputDataConfig"].append(channel("extra", f"s3://{diabetes_bucket}/diabetes/train/"))
    assert "channel 'extra'" in _error(sagemaker.create_training_job, **request)["Error"]["Message"]
    request = _request(diabetes_bucket)
    request["InputDataConfig"][0]["ContentType"] = "image/png"
    assert "image/png" in _error(sagemaker.create_training_job, **request)["Error"]["Message"]


def test_output_bucket_must_exist(sagemaker: Any, diabetes_bucket: str) -> None:
    request = _request(diabetes_bucket, OutputDataConfig={"S3OutputPath": "s3://no-such-bucket-here/out"})
    assert "no-such-bucket-here" in _error(sagemaker.create_training_job, **request)["Error"]["Message"]


def test_duplicate_name_is_resource_in_use(sagemaker: Any, diabetes_bucket: str) -> None:
    request = _request(diabetes_bucket)
    sagemaker.create_training_job(**request)
    error = _error(sagemaker.create_training_job, **request)["Error"]
    assert error["Code"] == "ResourceInUse"
    wait_for(sagemaker, request["TrainingJobName"])


def test_unknown_job_answers_as_sagemaker_does(sagemaker: Any) -> None:
    for call in (sagemaker.describe_training_job, sagemaker.stop_training_job):
        error = _error(call, TrainingJobName="never-created")["Error"]
        assert error == {"Code": "ValidationException", "Message": "Requested resource not found."}


def test_stopping_a_finished_job_is_rejected(sagemaker: Any, diabetes_bucket: str) -> None:
    request = _request(diabetes_bucket)
    sagemaker.create_training_job(**request)
    wait_for(sagemaker, request["TrainingJobName"])
    error = _error(sagemaker.stop_training_job, TrainingJobName=request["TrainingJobName"])["Error"]
    assert error["Code"] == "ValidationException"
    assert "Completed" in error["Message"]


def test_empty_channel_fails_the_job_naming_channel_and_uri(sagemaker: Any, diabetes_bucket: str) -> None:
    uri = f"s3://{diabetes_bucket}/nothing-here/"
    name = unique("empty")
    sagemaker.create_training_job(**job_request(name, diabetes_bucket, [channel("train", uri)]))
    job = wait_for(sagemaker, name)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["SecondaryStatus"] == "Failed"
    assert "'train'" in job["FailureReason"] and uri in job["FailureReason"]


def test_malformed_csv_row_fails_with_file_and_line(sagemaker: Any, s3: Any, diabetes_bucket: str) -> None:
    rows = "1,2,3\n4,5,6\n7,eight,9\n"
    s3.put_object(Bucket=diabetes_bucket, Key="broken/train/data.csv", Body=rows.encode())
    name = unique("broken")
    sagemaker.create_training_job(
        **job_request(name, diabetes_bucket, [channel("train", f"s3://{diabetes_bucket}/broken/train/")])
    )
    job = wait_for(sagemaker, name)
    assert job["TrainingJobStatus"] == "Failed"
    assert "data.csv" in job["FailureReason"] and "line 3" in job["FailureReason"]


def test_unimplemented_operation_is_named(sagemaker: Any) -> None:
    error = _error(sagemaker.list_compilation_jobs)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "ListCompilationJobs" in error["Error"]["Message"]


def test_tags_on_unknown_resource(sagemaker: Any) -> None:
    arn = "arn:aws:sagemaker:us-east-1:123456789012:training-job/never-created"
    error = _error(sagemaker.list_tags, ResourceArn=arn)["Error"]
    assert error["Code"] == "ValidationException" and arn in error["Message"]
