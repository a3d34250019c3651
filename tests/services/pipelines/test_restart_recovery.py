"""An execution running when the server stops goes on after a restart, where it was.

A graceful stop interrupts the step's job; the restarted server runs that step again (a
new attempt) and goes on. A crash (SIGKILL) while a callback step waits for its token
leaves the step waiting: the restarted server takes the token and finishes the execution.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from sagebox.cli.server_process import ServerProcess
from tests.services.pipelines.conftest import create_and_start, steps_of, wait_execution, wait_step
from tests.services.pipelines.definitions import definition, get, processing


@pytest.fixture()
def restartable(tmp_path: Path) -> Iterator[Any]:
    servers: list[ServerProcess] = []

    def start() -> tuple[ServerProcess, Any]:
        server = ServerProcess(tmp_path / "home", {"SAGEBOX_STOP_GRACE_SECONDS": "1"}).start()
        servers.append(server)
        client = boto3.client(
            "sagemaker",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        return server, client

    yield start
    for server in servers:
        server.stop()


def test_an_execution_resumes_after_a_stop_and_after_a_crash(restartable: Any) -> None:
    server, sagemaker = restartable()
    steps = [
        processing("Slow", "import time; time.sleep(5)", outputs=()),
        {
            "Name": "Approve",
            "Type": "Callback",
            "Arguments": {"after": get("Steps.Slow.ProcessingJobStatus")},
            "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals",
            "OutputParameters": [{"OutputName": "approved_by", "OutputType": "String"}],
        },
        processing("Finish", outputs=(), DependsOn=["Approve"]),
    ]
    arn = create_and_start(sagemaker, "resumed", definition(steps))
    interrupted = wait_step(sagemaker, arn, "Slow", ("Executing",))
    server.stop()  # graceful: the Slow job is interrupted

    server, sagemaker = restartable()
    waiting = wait_step(sagemaker, arn, "Approve", ("Executing",), timeout=90)
    slow = steps_of(sagemaker, arn)["Slow"]
    assert slow["StepStatus"] == "Succeeded" and slow["AttemptCount"] == 2
    first_job = interrupted["Metadata"]["ProcessingJob"]["Arn"].split("/")[-1]
    assert slow["Metadata"]["ProcessingJob"]["Arn"].split("/")[-1] != first_job
    assert (
        "the sagebox server stopped"
        in sagemaker.describe_processing_job(ProcessingJobName=first_job)["FailureReason"]
    )
    server.kill()  # a crash while the callback waits for its token

    _, sagemaker = restartable()
    assert (
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        == "Executing"
    )
    sagemaker.send_pipeline_execution_step_success(
        CallbackToken=waiting["Metadata"]["Callback"]["CallbackToken"],
        OutputParameters=[{"Name": "approved_by", "Value": "me"}],
    )
    assert wait_execution(sagemaker, arn, timeout=90)["PipelineExecutionStatus"] == "Succeeded"
    assert steps_of(sagemaker, arn)["Finish"]["StepStatus"] == "Succeeded"
