"""Helpers to create processing jobs through boto3 in tests."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from tests.services.training.jobs import ROLE, unique

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
TERMINAL = ("Completed", "Failed", "Stopped")
CODE = "/opt/ml/processing/input/code"

__all__ = ["IMAGE", "ROLE", "job_request", "python_job", "s3_input", "s3_output", "unique", "wait_for"]


def s3_input(name: str, uri: str, local_path: str, **extra: Any) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {"S3Uri": uri, "LocalPath": local_path, "S3DataType": "S3Prefix", "S3InputMode": "File", **extra},
    }


def s3_output(name: str, uri: str, local_path: str, mode: str = "EndOfJob") -> dict[str, Any]:
    return {"OutputName": name, "S3Output": {"S3Uri": uri, "LocalPath": local_path, "S3UploadMode": mode}}


def job_request(
    name: str,
    command: list[str],
    arguments: list[str] | None = None,
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    app: dict[str, Any] = {"ImageUri": IMAGE, "ContainerEntrypoint": command}
    if arguments:
        app["ContainerArguments"] = arguments
    request: dict[str, Any] = {
        "ProcessingJobName": name,
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}
        },
        "AppSpecification": app,
        "RoleArn": ROLE,
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }
    if inputs:
        request["ProcessingInputs"] = inputs
    if outputs:
        request["ProcessingOutputConfig"] = {"Outputs": outputs}
    request.update(overrides)
    return request


def python_job(name: str, code: str, **overrides: Any) -> dict[str, Any]:
    """A job whose whole program is `python3 -c <code>`."""
    return job_request(name, ["python3", "-c", code], **overrides)


def wait_for(sagemaker: Any, name: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 60) -> dict[str, Any]:
    deadline = time.time() + timeout
    while True:
        described = sagemaker.describe_processing_job(ProcessingJobName=name)
        if described["ProcessingJobStatus"] in statuses:
            return described
        if time.time() > deadline:
            raise TimeoutError(f"processing job {name} did not reach {statuses}: {described['ProcessingJobStatus']}")
        time.sleep(0.1)


def wait_for_object(s3: Any, bucket: str, key: str, timeout: float = 30) -> bytes:
    deadline = time.time() + timeout
    while True:
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
