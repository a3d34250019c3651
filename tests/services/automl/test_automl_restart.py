"""An AutoML job survives a server restart: it finds the step jobs it made and goes on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from sagebox.cli.server_process import ServerProcess
from tests.services.automl.conftest import SECONDARY_ORDER, csv_of, request, table, wait_automl
from tests.services.training.jobs import unique


@pytest.fixture()
def restartable(tmp_path: Path) -> Iterator[Any]:
    servers: list[ServerProcess] = []

    def start() -> tuple[ServerProcess, Any, Any]:
        server = ServerProcess(tmp_path / "home", {}).start()
        servers.append(server)
        args = {
            "endpoint_url": server.endpoint_url,
            "region_name": "us-east-1",
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        }
        return server, boto3.client("sagemaker", **args), boto3.client("s3", **args)

    yield start
    for server in servers:
        server.stop()


@pytest.mark.parametrize(
    "ending, status",
    [("crash", "ModelTuning"), ("shutdown", "GeneratingModelInsightsReport")],
)
def test_an_automl_job_goes_on_after_a_restart(restartable: Any, ending: str, status: str) -> None:
    server, sagemaker, s3 = restartable()
    bucket = unique("automl-restart")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="cancer/train.csv", Body=csv_of(table()))
    name = unique("aml-restart")[:32]
    sagemaker.create_auto_ml_job(
        **request(bucket, name, AutoMLJobConfig={"CompletionCriteria": {"MaxCandidates": 3}})
    )
    deadline = time.time() + 120
    while sagemaker.describe_auto_ml_job(AutoMLJobName=name)["AutoMLJobSecondaryStatus"] != status:
        assert time.time() < deadline
        time.sleep(0.1)
    if ending == "crash":
        server.kill()
    else:  # a graceful shutdown leaves the job InProgress for the next server
        server.stop()

    _, sagemaker, _ = restartable()
    # The new run goes through the steps made before without entering their statuses again.
    seen: list[str] = []
    described = wait_automl(sagemaker, name, seen=seen)
    earlier = SECONDARY_ORDER[: SECONDARY_ORDER.index(status)]
    assert not [s for s in seen if s in earlier], seen
    assert described["AutoMLJobStatus"] == "Completed", described.get("FailureReason")
    assert described["AutoMLJobSecondaryStatus"] == "MaxCandidatesReached"
    partial = described.get("PartialFailureReasons", [])
    assert all(
        "failed" in p["PartialFailureMessage"] for p in partial
    )  # trials the restart cut short
    processing = sagemaker.list_processing_jobs(NameContains=name)["ProcessingJobSummaries"]
    jobs = {job["ProcessingJobName"]: job for job in processing}
    steps = sorted(job.removeprefix(name).split("-")[1] for job in jobs)
    # Each step once: those that ran before the restart are not made again; a report job the
    # shutdown interrupted ended Failed, saying so, and the report was made again (attempt 2).
    again = [job for job in jobs if job.removeprefix(name).split("-")[2] == "2"]
    assert steps == ["db", "dpp0", "explainability", "insights", *(["insights"] if again else [])]
    for job in again:
        first = sagemaker.describe_processing_job(
            ProcessingJobName=job.replace("-insights-2-", "-insights-1-")
        )
        assert first["ProcessingJobStatus"] == "Failed"
        assert "server stopped" in first["FailureReason"]
        assert jobs[job]["ProcessingJobStatus"] == "Completed"
    locations = described["BestCandidate"]["CandidateProperties"]["CandidateArtifactLocations"]
    assert {"Explainability", "ModelInsights"} <= set(locations)
    candidates = sagemaker.list_candidates_for_auto_ml_job(AutoMLJobName=name)["Candidates"]
    assert len(candidates) == 3
    assert "BestCandidate" in described
