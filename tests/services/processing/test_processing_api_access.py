"""A processing job reaches this server's API as a SageMaker container reaches AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.edge.auth_server import client, create_key, start_server
from tests.services.processing.jobs import python_job, s3_output, unique, wait_for, wait_for_object

CODE = (  # ContainerEntrypoint members are at most 256 characters
    "import boto3,os;e=os.environ;d=boto3.client('sagemaker').describe_processing_job("
    "ProcessingJobName=e['SAGEBOX_PROCESSING_JOB_NAME']);open('/opt/ml/processing/output/seen.txt','w')"
    ".write(e['AWS_ENDPOINT_URL']+' '+d['ProcessingJobStatus'])"
)


def test_a_job_calls_the_sagemaker_api_through_aws_endpoint_url(sagemaker: Any, s3: Any, processing_bucket: str) -> None:
    name = unique("api-access")
    sagemaker.create_processing_job(
        **python_job(name, CODE, ProcessingOutputConfig={"Outputs": [s3_output("out", f"s3://{processing_bucket}/{name}", "/opt/ml/processing/output")]})
    )
    described = wait_for(sagemaker, name)
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    seen = wait_for_object(s3, processing_bucket, f"{name}/seen.txt").decode()
    assert seen.startswith("http://127.0.0.1:") and seen.endswith(" InProgress")


def test_with_auth_a_job_signs_as_the_sagebox_jobs_user(tmp_path: Path) -> None:
    home = tmp_path / "home"
    key = create_key(home, "tester")
    server = start_server(home, "--auth")
    try:
        sagemaker, s3 = client("sagemaker", server.endpoint_url, key), client("s3", server.endpoint_url, key)
        bucket, name = unique("auth-jobs"), unique("signed")
        s3.create_bucket(Bucket=bucket)
        code = "import boto3;open('/opt/ml/processing/output/who.txt','w').write(boto3.client('sts').get_caller_identity()['Arn'])"
        sagemaker.create_processing_job(
            **python_job(name, code, ProcessingOutputConfig={"Outputs": [s3_output("out", f"s3://{bucket}/{name}", "/opt/ml/processing/output")]})
        )
        described = wait_for(sagemaker, name)
        assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
        assert wait_for_object(s3, bucket, f"{name}/who.txt") == b"arn:aws:iam::123456789012:user/sagebox-jobs"
    finally:
        server.stop()
