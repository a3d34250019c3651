"""Failures, stops, MaxRuntimeInSeconds, listing and restarts of processing jobs, through boto3."""

from __future__ import annotations

import gzip
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from sagebox.cli.server_process import ServerProcess
from tests.services.processing.conftest import SCRIPTS
from tests.services.processing.jobs import (
    CODE,
    job_request,
    python_job,
    s3_input,
    s3_output,
    unique,
    wait_for,
    wait_for_object,
)


def _script_job(bucket: str, script: str, arguments: list[str] | None = None, **overrides: Any) -> dict[str, Any]:
    inputs = [s3_input("code", f"s3://{bucket}/code/{script}", CODE), *overrides.pop("inputs", [])]
    return job_request(unique(script.removesuffix(".py")), ["python3", f"{CODE}/{script}"], arguments, inputs=inputs, **overrides)


def test_a_failing_script_fails_with_its_exit_message(sagemaker: Any, processing_bucket: str) -> None:
    request = _script_job(processing_bucket, "fail.py", ["--with-message"])
    sagemaker.create_processing_job(**request)
    job = wait_for(sagemaker, request["ProcessingJobName"])
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"] == "AlgorithmError: bad input: column 'x3' is missing"
    assert job["ExitMessage"] == "bad input: column 'x3' is missing"
    assert job["ProcessingEndTime"] >= job["ProcessingStartTime"]


def test_a_crash_fails_with_the_exit_code_and_the_log_tail(sagemaker: Any, processing_bucket: str) -> None:
    request = _script_job(processing_bucket, "fail.py")
    sagemaker.create_processing_job(**request)
    job = wait_for(sagemaker, request["ProcessingJobName"])
    assert job["ProcessingJobStatus"] == "Failed"
    reason = job["FailureReason"]
    assert reason.startswith("AlgorithmError: the processing container exited with code 1.")
    assert "ValueError: no data in" in reason
    assert "ExitMessage" not in job


def test_a_missing_program_or_input_fails_with_a_client_error(sagemaker: Any, processing_bucket: str) -> None:
    missing_program = job_request(unique("noprogram"), ["no-such-program-here"])
    missing_input = python_job(
        unique("noinput"),
        "print('never runs')",
        inputs=[s3_input("data", f"s3://{processing_bucket}/nothing/here", "/opt/ml/processing/input/data")],
    )
    for request in (missing_program, missing_input):
        sagemaker.create_processing_job(**request)
    job = wait_for(sagemaker, missing_program["ProcessingJobName"])
    assert job["ProcessingJobStatus"] == "Failed"
    assert "'no-such-program-here' could not be started" in job["FailureReason"]
    job = wait_for(sagemaker, missing_input["ProcessingJobName"])
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: Failed to download data for input 'data'")
    assert f"s3://{processing_bucket}/nothing/here" in job["FailureReason"]


def test_stop_sends_sigterm_and_keeps_continuous_outputs(sagemaker: Any, s3: Any, processing_bucket: str) -> None:
    bucket = processing_bucket
    request = _script_job(
        bucket,
        "wait.py",
        ["/opt/ml/processing/progress"],
        outputs=[s3_output("progress", f"s3://{bucket}/stop/progress", "/opt/ml/processing/progress", "Continuous")],
    )
    name = request["ProcessingJobName"]
    sagemaker.create_processing_job(**request)
    # Continuous: the file is in S3 while the job still runs.
    assert wait_for_object(s3, bucket, "stop/progress/started.txt").strip().isdigit()
    assert sagemaker.describe_processing_job(ProcessingJobName=name)["ProcessingJobStatus"] == "InProgress"
    sagemaker.stop_processing_job(ProcessingJobName=name)
    assert sagemaker.describe_processing_job(ProcessingJobName=name)["ProcessingJobStatus"] in ("Stopping", "Stopped")
    job = wait_for(sagemaker, name)
    assert job["ProcessingJobStatus"] == "Stopped"
    assert "FailureReason" not in job
    # The script's SIGTERM handler wrote a file; the last sweep uploaded it.
    assert s3.get_object(Bucket=bucket, Key="stop/progress/terminated.txt")["Body"].read() == b"SIGTERM\n"


def test_max_runtime_stops_the_job_and_skips_end_of_job_outputs(sagemaker: Any, s3: Any, processing_bucket: str) -> None:
    bucket = processing_bucket
    request = _script_job(
        bucket,
        "wait.py",
        ["/opt/ml/processing/out"],
        outputs=[s3_output("out", f"s3://{bucket}/timeout/out", "/opt/ml/processing/out")],
        StoppingCondition={"MaxRuntimeInSeconds": 2},
    )
    sagemaker.create_processing_job(**request)
    job = wait_for(sagemaker, request["ProcessingJobName"])
    assert job["ProcessingJobStatus"] == "Stopped"
    assert (job["ProcessingEndTime"] - job["ProcessingStartTime"]).total_seconds() < 10
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="timeout/")


def test_manifest_and_gzip_inputs(sagemaker: Any, s3: Any, processing_bucket: str) -> None:
    bucket = processing_bucket
    prefix = unique("inputs")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/a/one.txt", Body=b"one")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/b/two.txt", Body=b"two")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/b/ignored.txt", Body=b"not listed")
    manifest = [{"prefix": f"s3://{bucket}/{prefix}/"}, "a/one.txt", "b/two.txt"]
    s3.put_object(Bucket=bucket, Key=f"{prefix}/manifest.json", Body=json.dumps(manifest).encode())
    s3.put_object(Bucket=bucket, Key=f"{prefix}/packed/rows.csv.gz", Body=gzip.compress(b"1,2\n3,4\n"))
    code = (
        "import json, os\n"
        "from pathlib import Path\n"
        "root = Path('/opt/ml/processing')\n"
        "found = {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob('*')) if p.is_file()}\n"
        "Path('/opt/ml/processing/out/found.json').write_text(json.dumps(found))\n"
    )
    request = python_job(
        unique("inputs"),
        code,
        inputs=[
            s3_input("listed", f"s3://{bucket}/{prefix}/manifest.json", "/opt/ml/processing/listed", S3DataType="ManifestFile"),
            s3_input(
                "packed", f"s3://{bucket}/{prefix}/packed/", "/opt/ml/processing/packed",
                S3CompressionType="Gzip", S3DataDistributionType="ShardedByS3Key",
            ),
        ],
        outputs=[s3_output("out", f"s3://{bucket}/{prefix}/out", "/opt/ml/processing/out")],
    )
    sagemaker.create_processing_job(**request)
    job = wait_for(sagemaker, request["ProcessingJobName"])
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    found = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}/out/found.json")["Body"].read())
    assert found == {"listed/a/one.txt": "one", "listed/b/two.txt": "two", "packed/rows.csv": "1,2\n3,4\n"}


def test_list_processing_jobs_filters_sorts_and_pages(sagemaker: Any) -> None:
    marker = unique("listing")
    before = datetime.now(UTC) - timedelta(seconds=1)
    names = [f"{marker}-{i}" for i in range(4)]
    for i, name in enumerate(names):
        code = "raise SystemExit(2)" if i == 3 else "print('ok')"
        sagemaker.create_processing_job(**python_job(name, code))
    for name in names:
        wait_for(sagemaker, name)

    listed = sagemaker.list_processing_jobs(NameContains=marker, MaxResults=100)["ProcessingJobSummaries"]
    assert [s["ProcessingJobName"] for s in listed] == names  # CreationTime, Ascending by default
    assert set(listed[0]) == {
        "ProcessingJobName", "ProcessingJobArn", "CreationTime", "ProcessingEndTime", "LastModifiedTime",
        "ProcessingJobStatus",
    }
    assert listed[3]["ProcessingJobStatus"] == "Failed" and "exited with code 2" in listed[3]["FailureReason"]

    failed = sagemaker.list_processing_jobs(NameContains=marker, StatusEquals="Failed")["ProcessingJobSummaries"]
    assert [s["ProcessingJobName"] for s in failed] == names[3:]
    by_name = sagemaker.list_processing_jobs(NameContains=marker, SortBy="Name", SortOrder="Descending")
    assert [s["ProcessingJobName"] for s in by_name["ProcessingJobSummaries"]] == names[::-1]
    by_status = sagemaker.list_processing_jobs(NameContains=marker, SortBy="Status")["ProcessingJobSummaries"]
    assert [s["ProcessingJobStatus"] for s in by_status] == ["Completed"] * 3 + ["Failed"]

    pages, token = [], None
    while True:
        page = sagemaker.list_processing_jobs(NameContains=marker, MaxResults=3, **({"NextToken": token} if token else {}))
        pages.append([s["ProcessingJobName"] for s in page["ProcessingJobSummaries"]])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [names[:3], names[3:]]
    paginated = sagemaker.get_paginator("list_processing_jobs").paginate(
        NameContains=marker, PaginationConfig={"PageSize": 1}
    )
    assert [s["ProcessingJobName"] for p in paginated for s in p["ProcessingJobSummaries"]] == names

    future = datetime.now(UTC) + timedelta(hours=1)
    assert len(sagemaker.list_processing_jobs(NameContains=marker, CreationTimeAfter=before)["ProcessingJobSummaries"]) == 4
    assert sagemaker.list_processing_jobs(NameContains=marker, CreationTimeAfter=future)["ProcessingJobSummaries"] == []
    assert sagemaker.list_processing_jobs(NameContains=marker, CreationTimeBefore=before)["ProcessingJobSummaries"] == []
    modified = sagemaker.list_processing_jobs(NameContains=marker, LastModifiedTimeBefore=future, LastModifiedTimeAfter=before)
    assert len(modified["ProcessingJobSummaries"]) == 4


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def test_a_restart_fails_the_running_job_and_ends_its_process(sagebox_server: Any, tmp_path: Path) -> None:
    """A server of the test's own (the session's fixture supplies the client credentials)."""
    servers: list[ServerProcess] = []
    try:
        server = ServerProcess(tmp_path / "home").start()
        servers.append(server)
        sagemaker = boto3.client("sagemaker", endpoint_url=server.endpoint_url)
        s3 = boto3.client("s3", endpoint_url=server.endpoint_url)
        bucket = unique("restart")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="code/wait.py", Body=(SCRIPTS / "wait.py").read_bytes())
        request = _script_job(
            bucket,
            "wait.py",
            ["/opt/ml/processing/progress"],
            outputs=[s3_output("progress", f"s3://{bucket}/progress", "/opt/ml/processing/progress", "Continuous")],
        )
        sagemaker.create_processing_job(**request)
        pid = int(wait_for_object(s3, bucket, "progress/started.txt"))
        assert _alive(pid)

        server.kill()  # the job's process outlives the server, as after a crash
        assert _alive(pid)
        server = ServerProcess(tmp_path / "home").start()
        servers.append(server)
        sagemaker = boto3.client("sagemaker", endpoint_url=server.endpoint_url)

        job = sagemaker.describe_processing_job(ProcessingJobName=request["ProcessingJobName"])
        assert job["ProcessingJobStatus"] == "Failed"
        assert "server stopped" in job["FailureReason"]
        deadline = time.time() + 10
        while _alive(pid):
            assert time.time() < deadline, "the orphaned job process was not ended"
            time.sleep(0.1)
    finally:
        for server in servers:
            server.stop()


def test_stop_after_the_end_is_refused(sagemaker: Any) -> None:
    request = python_job(unique("ended"), "print('fine')")
    sagemaker.create_processing_job(**request)
    wait_for(sagemaker, request["ProcessingJobName"])
    with pytest.raises(sagemaker.exceptions.ClientError) as info:
        sagemaker.stop_processing_job(ProcessingJobName=request["ProcessingJobName"])
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "is in status Completed and cannot be stopped" in error["Message"]


def test_delete_a_finished_job_and_reuse_its_name(sagemaker: Any, processing_bucket: str) -> None:
    request = _script_job(processing_bucket, "wait.py", ["/opt/ml/processing/w"], Tags=[{"Key": "k", "Value": "v"}])
    name = request["ProcessingJobName"]
    arn = sagemaker.create_processing_job(**request)["ProcessingJobArn"]
    with pytest.raises(sagemaker.exceptions.ResourceInUse) as info:
        sagemaker.delete_processing_job(ProcessingJobName=name)
    assert "only a job that has ended" in info.value.response["Error"]["Message"]
    sagemaker.stop_processing_job(ProcessingJobName=name)
    assert wait_for(sagemaker, name)["ProcessingJobStatus"] == "Stopped"

    sagemaker.delete_processing_job(ProcessingJobName=name)
    with pytest.raises(sagemaker.exceptions.ClientError, match="Could not find requested job"):
        sagemaker.describe_processing_job(ProcessingJobName=name)
    with pytest.raises(sagemaker.exceptions.ResourceNotFound):
        sagemaker.delete_processing_job(ProcessingJobName=name)
    again = python_job(name, "print('second life')")
    assert sagemaker.create_processing_job(**again)["ProcessingJobArn"] == arn
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == []
    assert wait_for(sagemaker, name)["ProcessingJobStatus"] == "Completed"
