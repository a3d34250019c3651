"""Transform failures, StopTransformJob, ListTransformJobs and request validation, through boto3."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from sagebox.cli.server_process import ServerProcess
from tests.services.training.jobs import unique
from tests.services.transform.jobs import (
    TrainedModel,
    features_csv,
    transform_request,
    wait_for_transform,
)


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_a_malformed_record_fails_the_job_naming_file_and_line(sagemaker: Any, s3: Any, trained: TrainedModel) -> None:
    bucket, prefix = trained.bucket, unique("malformed")
    good = features_csv(trained.features[:30])
    bad = features_csv(trained.features[:6]) + b"0.1,abc,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0\n" + good
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/bad.csv", Body=bad)
    name = unique("tf-bad")
    sagemaker.create_transform_job(**transform_request(
        name, trained, f"s3://{bucket}/{prefix}/in/", f"s3://{bucket}/{prefix}/out", BatchStrategy="MultiRecord",
    ))
    job = wait_for_transform(sagemaker, name)
    assert job["TransformJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(f"ClientError: s3://{bucket}/{prefix}/in/bad.csv, line 7: ")
    assert "400" in job["FailureReason"]
    assert "TransformEndTime" in job
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/out/").get("KeyCount") == 0


def test_a_record_larger_than_max_payload_fails(sagemaker: Any, s3: Any, trained: TrainedModel) -> None:
    bucket, prefix = trained.bucket, unique("big-record")
    huge = ",".join(["0.5"] * 300_000).encode() + b"\n"
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/big.csv", Body=features_csv(trained.features[:3]) + huge)
    name = unique("tf-big")
    sagemaker.create_transform_job(**transform_request(
        name, trained, f"s3://{bucket}/{prefix}/in/", f"s3://{bucket}/{prefix}/out", MaxPayloadInMB=1,
        BatchStrategy="MultiRecord",
    ))
    job = wait_for_transform(sagemaker, name)
    assert job["TransformJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(f"ClientError: s3://{bucket}/{prefix}/in/big.csv, line 4: ")
    assert "MaxPayloadInMB" in job["FailureReason"]


def test_stop_a_running_job(
    sagemaker: Any, s3: Any, trained: TrainedModel, sagebox_server: ServerProcess
) -> None:
    bucket, prefix = trained.bucket, unique("stop")
    rows = np.tile(trained.features, (30, 1))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/slow.csv", Body=features_csv(rows))
    name = unique("tf-stop")
    sagemaker.create_transform_job(**transform_request(
        name, trained, f"s3://{bucket}/{prefix}/in/", f"s3://{bucket}/{prefix}/out",
        BatchStrategy="SingleRecord", MaxConcurrentTransforms=1,
    ))
    partial = sagebox_server.home / "jobs" / "transform" / name / "scratch" / "0.out"
    deadline = time.time() + 30
    while not (partial.exists() and partial.stat().st_size > 0):  # predictions are being written
        assert time.time() < deadline
        time.sleep(0.05)
    sagemaker.stop_transform_job(TransformJobName=name)
    assert sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"] in ("Stopping", "Stopped")
    job = wait_for_transform(sagemaker, name, timeout=30)
    assert job["TransformJobStatus"] == "Stopped"
    assert "FailureReason" not in job
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/out/").get("KeyCount") == 0
    code, message = error_of(sagemaker.stop_transform_job, TransformJobName=name)
    assert code == "ValidationException" and "Stopped" in message


def test_list_transform_jobs_filters_sorts_and_pages(sagemaker: Any, s3: Any, trained: TrainedModel) -> None:
    bucket, prefix = trained.bucket, unique("list")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/rows.csv", Body=features_csv(trained.features[:5]))
    marker = unique("lst")
    names = [f"{marker}-{suffix}" for suffix in ("b", "a", "c")]
    before = datetime.now(UTC) - timedelta(seconds=1)
    for name in names:
        sagemaker.create_transform_job(**transform_request(
            name, trained, f"s3://{bucket}/{prefix}/in/", f"s3://{bucket}/{prefix}/out/{name}",
        ))
    for name in names:
        assert wait_for_transform(sagemaker, name)["TransformJobStatus"] == "Completed"

    listed = sagemaker.list_transform_jobs(NameContains=marker, SortBy="Name", SortOrder="Ascending")
    assert [s["TransformJobName"] for s in listed["TransformJobSummaries"]] == sorted(names)
    summary = listed["TransformJobSummaries"][0]
    assert {"TransformJobArn", "CreationTime", "TransformEndTime", "LastModifiedTime"} <= set(summary)
    assert summary["TransformJobStatus"] == "Completed"

    default_order = sagemaker.list_transform_jobs(NameContains=marker)["TransformJobSummaries"]
    assert [s["TransformJobName"] for s in default_order] == names[::-1]  # newest first

    seen, token = [], None
    while True:
        page = sagemaker.list_transform_jobs(
            NameContains=marker, SortBy="Name", SortOrder="Ascending", MaxResults=1, **({"NextToken": token} if token else {})
        )
        seen += [s["TransformJobName"] for s in page["TransformJobSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == sorted(names)

    assert sagemaker.list_transform_jobs(NameContains=marker, StatusEquals="Failed")["TransformJobSummaries"] == []
    after = sagemaker.list_transform_jobs(NameContains=marker, CreationTimeAfter=before)["TransformJobSummaries"]
    assert len(after) == 3
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert sagemaker.list_transform_jobs(NameContains=marker, CreationTimeAfter=later)["TransformJobSummaries"] == []


def test_unknown_job(sagemaker: Any) -> None:
    name = unique("tf-missing")
    assert error_of(sagemaker.describe_transform_job, TransformJobName=name) == (
        "ValidationException", f"Could not find requested job with name {name}",
    )
    assert error_of(sagemaker.stop_transform_job, TransformJobName=name)[0] == "ValidationException"


def test_create_validation(sagemaker: Any, s3: Any, trained: TrainedModel) -> None:
    bucket, prefix = trained.bucket, unique("validation")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/rows.csv", Body=features_csv(trained.features[:5]))
    source, out = f"s3://{bucket}/{prefix}/in/", f"s3://{bucket}/{prefix}/out"

    missing = unique("no-such-model")
    request = transform_request(unique("tf-v"), trained, source, out, ModelName=missing)
    code, message = error_of(sagemaker.create_transform_job, **request)
    assert code == "ValidationException" and missing in message

    request = transform_request(unique("tf-v"), trained, source, out, TransformInput={"SplitType": "TFRecord"})
    code, message = error_of(sagemaker.create_transform_job, **request)
    assert code == "ValidationException" and "TFRecord" in message

    request = transform_request(unique("tf-v"), trained, f"s3://{bucket}/{prefix}/nothing/", out)
    code, message = error_of(sagemaker.create_transform_job, **request)
    assert code == "ValidationException" and "No S3 objects found" in message

    request = transform_request(unique("tf-v"), trained, source, out, MaxPayloadInMB=50, MaxConcurrentTransforms=4)
    assert "MaxConcurrentTransforms * MaxPayloadInMB" in error_of(sagemaker.create_transform_job, **request)[1]

    request = transform_request(unique("tf-v"), trained, source, out, DataProcessing={"InputFilter": "$..x"})
    assert error_of(sagemaker.create_transform_job, **request) == (
        "ValidationException", "DataProcessing: '$..x': recursive descent '..' is not supported",
    )

    name = unique("tf-dup")
    sagemaker.create_transform_job(**transform_request(name, trained, source, out))
    code, message = error_of(sagemaker.create_transform_job, **transform_request(name, trained, source, out))
    assert code == "ResourceInUse" and name in message
    wait_for_transform(sagemaker, name)
