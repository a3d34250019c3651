"""Managed spot training and CheckpointConfig on one machine, through boto3: the request
checks SageMaker makes, checkpoints restored at the start and synced while the job runs,
and the billable time of a spot job. (Node loss and the restart from a checkpoint are in
tests/scale_out/test_spot_and_faults.py, on a real Ray cluster.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.training.jobs import unique, wait_for
from tests.services.training.multi_host_jobs import multi_host_job, tar_members
from tests.services.tuning.conftest import config, definition

# Reads the restored checkpoint, writes the next one, and waits until the server has
# synced it to S3Uri while the job still runs (the job's own S3 calls reach the server).
CHECKPOINT_SCRIPT = """
import json, os, pathlib, time
import boto3
folder = pathlib.Path(os.environ["SM_CHECKPOINT_DIR"])
restored = json.loads((folder / "state.json").read_text())["step"] if (folder / "state.json").exists() else None
(folder / "state.json.tmp").write_text(json.dumps({"step": (restored or 0) + 1}))
(folder / "state.json.tmp").rename(folder / "state.json")
bucket, prefix = os.environ["CHECKPOINT_URI"].removeprefix("s3://").split("/", 1)
s3, synced = boto3.client("s3"), False
for _ in range(100):
    body = s3.get_object(Bucket=bucket, Key=prefix + "/state.json")["Body"].read()
    if json.loads(body)["step"] == (restored or 0) + 1:
        synced = True
        break
    time.sleep(0.1)
pathlib.Path(os.environ["SM_MODEL_DIR"], "seen.json").write_text(json.dumps({"restored": restored, "synced": synced}))
"""


def _spot_request(
    s3: Any, bucket: str, script: str = "print('ok')", **overrides: Any
) -> dict[str, Any]:
    for key in ("multi/sharded/part-0.csv", "multi/full/a.csv"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"1,2\n")
    request = multi_host_job(s3, bucket, script, count=1)
    request.update(
        EnableManagedSpotTraining=True,
        StoppingCondition={"MaxRuntimeInSeconds": 120, "MaxWaitTimeInSeconds": 240},
    )
    request.update(overrides)
    return request


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    name = unique("spot")
    s3.create_bucket(Bucket=name)
    return name


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"StoppingCondition": {"MaxRuntimeInSeconds": 120}},
            "Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to "
            "MaxRuntimeInSeconds (MaxWaitTimeInSeconds None, MaxRuntimeInSeconds 120)",
        ),
        (
            {"StoppingCondition": {"MaxRuntimeInSeconds": 120, "MaxWaitTimeInSeconds": 60}},
            "(MaxWaitTimeInSeconds 60, MaxRuntimeInSeconds 120)",
        ),
        (
            {"EnableManagedSpotTraining": False},
            "Invalid MaxWaitTimeInSeconds. It is only supported when EnableManagedSpotTraining is set to true",
        ),
        (
            {"CheckpointConfig": {"S3Uri": "s3://b/c", "LocalPath": "/tmp/checkpoints"}},
            "CheckpointConfig.LocalPath '/tmp/checkpoints': sagebox lays each host's /opt/ml out",
        ),
        ({"CheckpointConfig": {"S3Uri": "https://b/c"}}, "CheckpointConfig.S3Uri"),
    ],
)
def test_spot_requests_are_checked_as_sagemaker_checks_them(
    s3: Any, sagemaker: Any, bucket: str, overrides: dict[str, Any], message: str
) -> None:
    request = _spot_request(s3, bucket, **overrides)
    with pytest.raises(ClientError) as caught:
        sagemaker.create_training_job(**request)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert message in caught.value.response["Error"]["Message"]


def test_a_tuning_job_whose_trials_would_be_refused_is_refused(sagemaker: Any, bucket: str) -> None:
    job_definition = {
        **definition(bucket),
        "StoppingCondition": {"MaxRuntimeInSeconds": 600, "MaxWaitTimeInSeconds": 900},
    }
    with pytest.raises(ClientError) as caught:
        sagemaker.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=unique("tune")[:32],
            HyperParameterTuningJobConfig=config(),
            TrainingJobDefinition=job_definition,
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert (
        "It is only supported when EnableManagedSpotTraining is set to true"
        in caught.value.response["Error"]["Message"]
    )


def test_checkpoints_are_restored_at_the_start_and_synced_while_the_job_runs(
    s3: Any, sagemaker: Any, bucket: str
) -> None:
    checkpoint_uri = f"s3://{bucket}/checkpoints/{unique('job')}"
    prefix = checkpoint_uri.removeprefix(f"s3://{bucket}/")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/state.json", Body=json.dumps({"step": 41}).encode())
    request = _spot_request(
        s3,
        bucket,
        CHECKPOINT_SCRIPT,
        CheckpointConfig={"S3Uri": checkpoint_uri},
        Environment={"CHECKPOINT_URI": checkpoint_uri},
    )
    sagemaker.create_training_job(**request)
    job = wait_for(sagemaker, request["TrainingJobName"], timeout=120)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    model = tar_members(s3, bucket, f"output/{request['TrainingJobName']}/output/model.tar.gz")
    assert json.loads(model["seen.json"]) == {"restored": 41, "synced": True}
    final = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}/state.json")["Body"].read())
    assert final == {"step": 42}
    assert job["CheckpointConfig"] == {"S3Uri": checkpoint_uri}
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"]["MaxWaitTimeInSeconds"] == 240
    # Billed: only while the hosts ran (not the staging before them).
    assert 0 <= job["BillableTimeInSeconds"] <= job["TrainingTimeInSeconds"]
    statuses = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert statuses == ["Starting", "Downloading", "Training", "Uploading", "Completed"]


def test_a_spot_job_still_running_at_its_max_wait_time_fails_max_wait_time_exceeded(
    s3: Any, sagemaker: Any, bucket: str
) -> None:
    request = _spot_request(
        s3,
        bucket,
        "import time\ntime.sleep(60)\n",
        StoppingCondition={"MaxRuntimeInSeconds": 4, "MaxWaitTimeInSeconds": 4},
    )
    sagemaker.create_training_job(**request)
    job = wait_for(sagemaker, request["TrainingJobName"], timeout=60)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Failed", "MaxWaitTimeExceeded")
    assert job["FailureReason"].startswith("MaxWaitTimeExceeded: ")
    assert "MaxWaitTimeInSeconds (4 s)" in job["FailureReason"]
    assert job["BillableTimeInSeconds"] <= job["TrainingTimeInSeconds"] <= 15
