"""A bucket with the tiny data set, and helpers to run pipelines through boto3."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.services.pipelines.abalone import upload_data

ENDED = ("Succeeded", "Failed", "Stopped")


@pytest.fixture(scope="session")
def pipelines_bucket(s3: Any) -> str:
    bucket = f"pipelines-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    upload_data(s3, bucket)
    return bucket


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def token() -> str:
    return uuid.uuid4().hex


def wait_execution(
    sagemaker: Any, arn: str, statuses: tuple[str, ...] = ENDED, timeout: float = 300
) -> dict[str, Any]:
    deadline = time.time() + timeout
    while True:
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
        if described["PipelineExecutionStatus"] in statuses:
            return described
        if time.time() > deadline:
            raise TimeoutError(
                f"{arn} did not reach {statuses}: {described['PipelineExecutionStatus']}"
            )
        time.sleep(0.25)


def steps_of(sagemaker: Any, arn: str) -> dict[str, dict[str, Any]]:
    listed = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
        "PipelineExecutionSteps"
    ]
    return {step["StepName"]: step for step in listed}


def wait_step(
    sagemaker: Any, arn: str, step: str, statuses: tuple[str, ...], timeout: float = 120
) -> dict[str, Any]:
    deadline = time.time() + timeout
    while True:
        found = steps_of(sagemaker, arn).get(step)
        if found is not None and found["StepStatus"] in statuses:
            return found
        if time.time() > deadline:
            raise TimeoutError(f"step {step} of {arn} did not reach {statuses}: {found}")
        time.sleep(0.2)


def create_and_start(
    sagemaker: Any,
    name: str,
    definition: str,
    parameters: dict[str, str] | None = None,
    **start: Any,
) -> str:
    sagemaker.create_pipeline(
        PipelineName=name,
        PipelineDefinition=definition,
        RoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
        ClientRequestToken=token(),
    )
    given = [{"Name": k, "Value": v} for k, v in (parameters or {}).items()]
    return sagemaker.start_pipeline_execution(
        PipelineName=name, PipelineParameters=given, ClientRequestToken=token(), **start
    )["PipelineExecutionArn"]
