"""Processing jobs on several instances: one process per host, sharded inputs, gathered outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.services.processing.jobs import (
    CODE,
    job_request,
    python_job,
    s3_input,
    s3_output,
    unique,
    wait_for,
)


@pytest.fixture(scope="module")
def parts(s3: Any, processing_bucket: str) -> str:
    """The processing bucket (with the test scripts under code/) and five parts under parts/."""
    for n in range(5):
        s3.put_object(Bucket=processing_bucket, Key=f"parts/part-{n}.csv", Body=f"{n}\n".encode())
    return processing_bucket


def _reports(s3: Any, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {
        item["Key"].rsplit("/", 1)[1]: json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        for item in listed
    }


@pytest.mark.parametrize("distribution", ["ShardedByS3Key", "FullyReplicated"])
def test_each_instance_runs_with_its_share_and_uploads_its_outputs(
    sagemaker: Any, s3: Any, parts: str, distribution: str
) -> None:
    name = unique("three-hosts")
    request = job_request(
        name, ["python3", f"{CODE}/report_instance.py"],
        inputs=[s3_input("code", f"s3://{parts}/code/", CODE),
                s3_input("parts", f"s3://{parts}/parts/", "/opt/ml/processing/parts",
                         S3DataDistributionType=distribution)],
        outputs=[s3_output("reports", f"s3://{parts}/{name}/", "/opt/ml/processing/output")],
        ProcessingResources={"ClusterConfig": {"InstanceCount": 3, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}},
    )
    sagemaker.create_processing_job(**request)
    described = wait_for(sagemaker, name, timeout=120)
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    reports = _reports(s3, parts, f"{name}/")
    assert sorted(reports) == ["algo-1.json", "algo-2.json", "algo-3.json"]
    everything = [f"part-{n}.csv" for n in range(5)]
    for host, report in reports.items():
        assert report["host"] == host.removesuffix(".json")
        assert report["hosts"] == ["algo-1", "algo-2", "algo-3"]
    if distribution == "FullyReplicated":
        assert all(report["files"] == everything for report in reports.values())
    else:  # host i of 3 gets the keys at positions i, i+3, ...
        assert [reports[f"algo-{i}.json"]["files"] for i in (1, 2, 3)] == [
            ["part-0.csv", "part-3.csv"], ["part-1.csv", "part-4.csv"], ["part-2.csv"]]
    streams = [s["logStreamName"].split("/")[1].rsplit("-", 1)[0] for s in _streams(name)]
    assert sorted(streams) == ["algo-1", "algo-2", "algo-3"]


def _streams(name: str) -> list[dict[str, Any]]:
    import boto3

    logs = boto3.client("logs")
    return logs.describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs", logStreamNamePrefix=name)[
        "logStreams"
    ]


def test_a_failing_instance_ends_the_others_and_is_named(sagemaker: Any) -> None:
    name = unique("one-fails")
    code = (
        "import json, pathlib, sys, time\n"
        "host = json.loads(pathlib.Path('/opt/ml/config/resourceconfig.json').read_text())['current_host']\n"
        "if host == 'algo-2':\n    print('algo-2 gives up', flush=True); sys.exit(4)\n"
        "time.sleep(60)\n"
    )
    request = python_job(
        name, code,
        ProcessingResources={"ClusterConfig": {"InstanceCount": 2, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}},
    )
    sagemaker.create_processing_job(**request)
    described = wait_for(sagemaker, name, timeout=60)
    assert described["ProcessingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("AlgorithmError: Host algo-2: ")
    assert "algo-2 gives up" in described["FailureReason"]
