"""Running executions through boto3: stop, failure propagation, parallelism, retries.

The steps are processing jobs whose whole program is a line of Python, so each takes a
second or two; what is tested is what the engine does with them.
"""

from __future__ import annotations

import io
import tarfile
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.pipelines.conftest import (
    create_and_start,
    steps_of,
    token,
    unique,
    wait_execution,
    wait_step,
)
from tests.services.pipelines.definitions import definition, get, parameter, s3_input
from tests.services.pipelines.definitions import processing as processing_step

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def processing(name: str, code: str = "print(1)", **extra: Any) -> dict[str, Any]:
    """A processing step without outputs: here only what the job's program does matters."""
    return processing_step(name, code, outputs=(), **extra)


def job_name(step: dict[str, Any]) -> str:
    return next(iter(step["Metadata"].values()))["Arn"].split("/")[-1]


def test_stopping_an_execution_stops_its_running_job(sagemaker: Any) -> None:
    steps = [
        processing("Sleep", "import time; time.sleep(120)"),
        processing("After", DependsOn=["Sleep"]),
    ]
    arn = create_and_start(sagemaker, unique("stop"), definition(steps))
    running = wait_step(sagemaker, arn, "Sleep", ("Executing",))
    job = job_name(running)
    deadline = time.time() + 60
    while (
        sagemaker.describe_processing_job(ProcessingJobName=job)["ProcessingJobStatus"]
        != "InProgress"
    ):
        assert time.time() < deadline
        time.sleep(0.2)
    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)[
        "PipelineExecutionStatus"
    ] in ("Stopping", "Stopped")
    described = wait_execution(sagemaker, arn, timeout=60)
    assert described["PipelineExecutionStatus"] == "Stopped"
    steps_now = steps_of(sagemaker, arn)
    assert steps_now["Sleep"]["StepStatus"] == "Stopped" and "After" not in steps_now
    assert (
        sagemaker.describe_processing_job(ProcessingJobName=job)["ProcessingJobStatus"] == "Stopped"
    )
    with pytest.raises(ClientError, match="only an Executing execution can be stopped"):
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())


def test_a_failed_step_stops_what_needs_it_and_names_itself(sagemaker: Any) -> None:
    steps = [
        processing("Breaks", "import sys, time; time.sleep(0.5); sys.exit('the data is bad')"),
        processing("Slow", "import time; time.sleep(3)"),
        processing("NeedsBreaks", DependsOn=["Breaks"]),
        processing("NeedsSlow", DependsOn=["Slow"]),
    ]
    arn = create_and_start(sagemaker, unique("failure"), definition(steps))
    described = wait_execution(sagemaker, arn)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"].startswith("Step failure: Breaks failed: AlgorithmError")
    listed = steps_of(sagemaker, arn)
    assert (
        listed["Breaks"]["StepStatus"] == "Failed"
        and "the data is bad" in listed["Breaks"]["FailureReason"]
    )
    assert listed["Slow"]["StepStatus"] == "Succeeded"  # a running step finishes
    assert (
        "NeedsBreaks" not in listed and "NeedsSlow" not in listed
    )  # nothing new starts after a failure
    summary = sagemaker.list_pipeline_executions(PipelineName=arn.split("/")[-3])[
        "PipelineExecutionSummaries"
    ][0]
    assert summary["PipelineExecutionFailureReason"] == described["FailureReason"]


def test_max_parallel_execution_steps_bounds_the_steps_running_at_once(sagemaker: Any) -> None:
    steps = [processing(f"Wave{i}", "import time; time.sleep(1)") for i in range(3)]
    arn = create_and_start(
        sagemaker,
        unique("parallel"),
        definition(steps),
        ParallelismConfiguration={"MaxParallelExecutionSteps": 1},
    )
    assert wait_execution(sagemaker, arn)["PipelineExecutionStatus"] == "Succeeded"
    listed = sorted(steps_of(sagemaker, arn).values(), key=lambda s: s["StartTime"])
    for earlier, later in zip(listed, listed[1:], strict=False):
        assert later["StartTime"] >= earlier["EndTime"], (earlier["StepName"], later["StepName"])
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 1}


def test_retry_reruns_only_the_failed_steps(sagemaker: Any, s3: Any, pipelines_bucket: str) -> None:
    flag = f"s3://{pipelines_bucket}/flags/{unique('flag')}/"
    s3.put_object(Bucket=pipelines_bucket, Key=flag.split("/", 3)[3] + "flag.txt", Body=b"wait")
    check = "import sys; sys.exit(0 if open('/opt/ml/processing/flag/flag.txt').read() == 'go' else 'not yet')"
    steps = [
        processing("First"),
        processing("Checks", check, inputs=[s3_input("flag", flag)], DependsOn=["First"]),
        processing("Last", DependsOn=["Checks"]),
    ]
    arn = create_and_start(sagemaker, unique("retry"), definition(steps))
    assert wait_execution(sagemaker, arn)["PipelineExecutionStatus"] == "Failed"
    before = steps_of(sagemaker, arn)
    s3.put_object(Bucket=pipelines_bucket, Key=flag.split("/", 3)[3] + "flag.txt", Body=b"go")
    sagemaker.retry_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())
    described = wait_execution(sagemaker, arn)
    assert described["PipelineExecutionStatus"] == "Succeeded" and "FailureReason" not in described
    after = steps_of(sagemaker, arn)
    assert (
        after["First"]["Metadata"] == before["First"]["Metadata"]
        and after["First"]["AttemptCount"] == 1
    )
    assert after["Checks"]["AttemptCount"] == 2 and job_name(after["Checks"]) != job_name(
        before["Checks"]
    )
    assert after["Last"]["StepStatus"] == "Succeeded"
    with pytest.raises(ClientError, match="only a Failed or Stopped execution can be retried"):
        sagemaker.retry_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())


def test_a_retry_policy_backs_off_and_gives_up_after_max_attempts(
    sagemaker: Any, s3: Any, pipelines_bucket: str
) -> None:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        tar.addfile(tarfile.TarInfo("empty"), io.BytesIO(b""))
    s3.put_object(Bucket=pipelines_bucket, Key="retry/model.tar.gz", Body=archive.getvalue())
    model = {
        "Name": "Model",
        "Type": "Model",
        "Arguments": {
            "ExecutionRoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
            "PrimaryContainer": {
                "Image": XGBOOST_IMAGE,
                "ModelDataUrl": f"s3://{pipelines_bucket}/retry/model.tar.gz",
            },
        },
    }
    transform = {
        "Name": "Score",
        "Type": "Transform",
        "Arguments": {
            "ModelName": get("Steps.Model.ModelName"),
            "TransformInput": {
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{pipelines_bucket}/abalone/batch",
                    }
                }
            },
            "TransformOutput": {"S3OutputPath": f"s3://{pipelines_bucket}/retry/out"},
            "TransformResources": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": get("Parameters.Instances"),
            },
        },
        "RetryPolicies": [
            {
                "ExceptionType": ["SageMaker.RESOURCE_LIMIT"],
                "IntervalSeconds": 1,
                "BackoffRate": 2.0,
                "MaxAttempts": 2,
            }
        ],
    }
    started = time.time()
    arn = create_and_start(
        sagemaker,
        unique("limits"),
        definition([model, transform], [parameter("Instances", "Integer", 20)]),
    )
    described = wait_execution(sagemaker, arn)
    assert described["PipelineExecutionStatus"] == "Failed"
    score = steps_of(sagemaker, arn)["Score"]
    assert score["AttemptCount"] == 3  # the first attempt and two retries
    assert score["FailureReason"].startswith(
        "ResourceLimitExceeded: TransformResources.InstanceCount 20"
    )
    assert score["EndTime"].timestamp() - started >= 3  # waited 1 s, then 2 s


def test_execution_updates_and_listing(sagemaker: Any) -> None:
    name = unique("listing")
    arn = create_and_start(
        sagemaker, name, definition([processing("Only")]), PipelineExecutionDisplayName="first-run"
    )
    sagemaker.update_pipeline_execution(
        PipelineExecutionArn=arn,
        PipelineExecutionDescription="described later",
        ParallelismConfiguration={"MaxParallelExecutionSteps": 2},
    )
    wait_execution(sagemaker, arn)
    second = sagemaker.start_pipeline_execution(PipelineName=name, ClientRequestToken=token())[
        "PipelineExecutionArn"
    ]
    wait_execution(sagemaker, second)
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionDescription"] == "described later"
    assert described["PipelineExecutionDisplayName"] == "first-run"
    assert described["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 2}
    newest = sagemaker.list_pipeline_executions(PipelineName=name, MaxResults=1)
    assert (
        newest["PipelineExecutionSummaries"][0]["PipelineExecutionArn"] == second
        and newest["NextToken"]
    )
    oldest = sagemaker.list_pipeline_executions(PipelineName=name, SortOrder="Ascending")[
        "PipelineExecutionSummaries"
    ]
    assert [s["PipelineExecutionArn"] for s in oldest] == [arn, second]
    same = token()
    third = sagemaker.start_pipeline_execution(PipelineName=name, ClientRequestToken=same)[
        "PipelineExecutionArn"
    ]
    assert (
        sagemaker.start_pipeline_execution(PipelineName=name, ClientRequestToken=same)[
            "PipelineExecutionArn"
        ]
        == third
    )
    wait_execution(sagemaker, third)
    with pytest.raises(ClientError, match="does not exist"):
        sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn[:-3] + "zzz")


def test_a_job_stopped_outside_the_pipeline_fails_its_execution(sagemaker: Any) -> None:
    steps = [
        processing("Sleep", "import time; time.sleep(120)"),
        processing("After", DependsOn=["Sleep"]),
    ]
    arn = create_and_start(sagemaker, unique("stopped-job"), definition(steps))
    job = job_name(wait_step(sagemaker, arn, "Sleep", ("Executing",)))
    deadline = time.time() + 60
    while True:
        try:
            sagemaker.stop_processing_job(ProcessingJobName=job)
            break
        except ClientError:  # not running yet
            assert time.time() < deadline
            time.sleep(0.2)
    described = wait_execution(sagemaker, arn, timeout=60)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == "Step failure: Sleep failed: its job was stopped"
    assert "After" not in steps_of(sagemaker, arn)
