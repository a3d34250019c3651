"""Bad input to the processing API: each answered with a ValidationException that says what is wrong."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.services.processing.jobs import (
    job_request,
    python_job,
    s3_input,
    s3_output,
    unique,
    wait_for,
)


@pytest.fixture(scope="module")
def unchecked(sagebox_server: Any) -> Any:
    """A client that sends requests botocore itself would reject, to test the server's checks."""
    return boto3.client("sagemaker", config=Config(parameter_validation=False))


def _message(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException", error
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Message"]


def test_a_missing_entrypoint_is_named(sagemaker: Any) -> None:
    request = python_job(unique("noentry"), "print(1)")
    request["AppSpecification"] = {"ImageUri": "my-image:latest", "ContainerArguments": ["--x"]}
    message = _message(sagemaker.create_processing_job, **request)
    assert message.startswith("AppSpecification.ContainerEntrypoint is required by sagebox")
    assert "my-image:latest" in message


def test_missing_required_members_are_reported_from_the_model(unchecked: Any) -> None:
    request = python_job(unique("norole"), "print(1)")
    del request["RoleArn"]
    message = _message(unchecked.create_processing_job, **request)
    assert "Value null at 'roleArn' failed to satisfy constraint: Member must not be null" in message


@pytest.mark.parametrize(
    ("local_path", "why"),
    [
        ("/tmp/data", "requires local paths to begin with /opt/ml/processing/"),
        ("/opt/ml/processing", "requires local paths to begin with /opt/ml/processing/"),
        ("/opt/ml/processing/../input", "requires local paths to begin with /opt/ml/processing/"),
        ("relative/data", "must be an absolute path under /opt/ml/processing/"),
    ],
)
def test_an_input_local_path_outside_opt_ml_processing_is_refused(
    sagemaker: Any, processing_bucket: str, local_path: str, why: str
) -> None:
    request = python_job(unique("badpath"), "print(1)", inputs=[s3_input("data", f"s3://{processing_bucket}/data/raw", local_path)])
    message = _message(sagemaker.create_processing_job, **request)
    assert message.startswith(f"ProcessingInputs[0] (InputName 'data').S3Input.LocalPath '{local_path}' is not valid")
    assert why in message


def test_an_output_local_path_outside_opt_ml_processing_is_refused(sagemaker: Any, processing_bucket: str) -> None:
    outputs = [s3_output("out", f"s3://{processing_bucket}/out", "/opt/ml/output/data")]
    message = _message(sagemaker.create_processing_job, **python_job(unique("badout"), "print(1)", outputs=outputs))
    assert message.startswith(
        "ProcessingOutputConfig.Outputs[0] (OutputName 'out').S3Output.LocalPath '/opt/ml/output/data' is not valid"
    )


def test_a_duplicate_job_name_is_refused(sagemaker: Any) -> None:
    request = python_job(unique("twice"), "print(1)")
    arn = sagemaker.create_processing_job(**request)["ProcessingJobArn"]
    message = _message(sagemaker.create_processing_job, **request)
    assert message == (
        "Job name must be unique within an AWS account and region, and a job with this name "
        f"already exists ({arn})"
    )
    wait_for(sagemaker, request["ProcessingJobName"])


def test_unknown_jobs(sagemaker: Any) -> None:
    name = unique("never")
    assert _message(sagemaker.describe_processing_job, ProcessingJobName=name) == (
        f"Could not find requested job with name {name}"
    )
    assert _message(sagemaker.stop_processing_job, ProcessingJobName=name) == (
        f"Could not find requested job with name {name}"
    )


def test_what_sagebox_cannot_run_is_refused_with_the_member(sagemaker: Any, processing_bucket: str) -> None:
    bucket = processing_bucket
    data = f"s3://{bucket}/data/raw"
    cases = {
        "S3InputMode 'Pipe' is not supported by sagebox yet; supported: File": python_job(
            unique("pipe"), "print(1)", inputs=[s3_input("data", data, "/opt/ml/processing/in", S3InputMode="Pipe")]
        ),
        "ProcessingInputs: InputName 'data' is used more than once": python_job(
            unique("dupin"), "print(1)",
            inputs=[s3_input("data", data, "/opt/ml/processing/a"), s3_input("data", data, "/opt/ml/processing/b")],
        ),
        "LocalPath '/opt/ml/processing/same' is used by both input 'data' and output 'out'": python_job(
            unique("samepath"), "print(1)",
            inputs=[s3_input("data", data, "/opt/ml/processing/same")],
            outputs=[s3_output("out", f"s3://{bucket}/out", "/opt/ml/processing/same")],
        ),
        "ProcessingResources.ClusterConfig.InstanceCount 9: sagebox runs a processing job on 1 to 8 instances": job_request(
            unique("nine"), ["python3", "-c", "print(1)"],
            ProcessingResources={"ClusterConfig": {"InstanceCount": 9, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}},
        ),
        "names bucket 'no-such-bucket-for-sagebox', which does not exist": python_job(
            unique("nobucket"), "print(1)",
            outputs=[s3_output("out", "s3://no-such-bucket-for-sagebox/out", "/opt/ml/processing/out")],
        ),
        "ProcessingInputs[0] (InputName 'query'): DatasetDefinition (Athena and Redshift queries) is not supported": python_job(
            unique("athena"), "print(1)",
            inputs=[{
                "InputName": "query",
                "DatasetDefinition": {
                    "AthenaDatasetDefinition": {
                        "Catalog": "c", "Database": "d", "QueryString": "select 1",
                        "OutputS3Uri": f"s3://{bucket}/athena", "OutputFormat": "PARQUET",
                    },
                    "LocalPath": "/opt/ml/processing/query",
                },
            }],
        ),
        "S3Input.S3Uri 'https://example.com/data' is not valid": python_job(
            unique("https"), "print(1)", inputs=[s3_input("data", "https://example.com/data", "/opt/ml/processing/in")]
        ),
    }
    for expected, request in cases.items():
        assert expected in _message(sagemaker.create_processing_job, **request), expected
        with pytest.raises(ClientError):
            sagemaker.describe_processing_job(ProcessingJobName=request["ProcessingJobName"])
