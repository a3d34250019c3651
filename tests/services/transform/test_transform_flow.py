"""Batch transform through boto3: splitting, batching, assembly, inputs, instances, data processing."""

from __future__ import annotations

import gzip
import json
from typing import Any

import numpy as np

from sagebox.cli.server_process import ServerProcess
from sagebox.formats import recordio
from tests.services.training.jobs import unique
from tests.services.transform.jobs import (
    TrainedModel,
    as_float32,
    features_csv,
    read,
    transform_request,
    wait_for_transform,
)


def run_job(sagemaker: Any, request: dict[str, Any]) -> dict[str, Any]:
    sagemaker.create_transform_job(**request)
    job = wait_for_transform(sagemaker, request["TransformJobName"])
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    return job


def test_line_split_multi_record_over_several_files(sagemaker: Any, s3: Any, trained: TrainedModel) -> None:
    bucket, prefix = trained.bucket, unique("multi")
    parts = np.array_split(trained.features, 3)
    for number, rows in enumerate(parts):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/in/nested/part-{number}.csv", Body=features_csv(rows))
    name = unique("tf-multi")
    request = transform_request(
        name, trained, f"s3://{bucket}/{prefix}/in/", f"s3://{bucket}/{prefix}/out",
        BatchStrategy="MultiRecord", MaxPayloadInMB=1, Tags=[{"Key": "team", "Value": "ml"}],
    )
    arn = sagemaker.create_transform_job(**request)["TransformJobArn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:123456789012:transform-job/{name}"
    job = wait_for_transform(sagemaker, name)
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    for number, rows in enumerate(parts):
        lines = read(s3, f"s3://{bucket}/{prefix}/out/nested/part-{number}.csv.out").decode().splitlines()
        np.testing.assert_array_equal(as_float32(lines), trained.predict(rows))
    assert job["TransformJobArn"] == arn and job["ModelName"] == trained.name
    assert job["CreationTime"] <= job["TransformStartTime"] <= job["TransformEndTime"]
    assert job["BatchStrategy"] == "MultiRecord" and job["MaxPayloadInMB"] == 1
    assert job["MaxConcurrentTransforms"] >= 1
    assert job["TransformInput"]["CompressionType"] == "None"
    assert job["DataProcessing"] == {"InputFilter": "$", "OutputFilter": "$", "JoinSource": "None"}
    assert job["TransformResources"] == {"InstanceType": "ml.m5.large", "InstanceCount": 1}
    assert "FailureReason" not in job
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]


def test_single_record_and_defaults_from_the_container(sagemaker: Any, s3: Any, trained: TrainedModel) -> None:
    bucket, prefix = trained.bucket, unique("single")
    rows = trained.features[:25]
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/rows.csv", Body=features_csv(rows))
    name = unique("tf-single")
    job = run_job(sagemaker, transform_request(
        name, trained, f"s3://{bucket}/{prefix}/in/rows.csv", f"s3://{bucket}/{prefix}/out/",
        BatchStrategy="SingleRecord", MaxConcurrentTransforms=4,
    ))
    lines = read(s3, f"s3://{bucket}/{prefix}/out/rows.csv.out").decode().splitlines()
    np.testing.assert_array_equal(as_float32(lines), trained.predict(rows))
    assert job["MaxConcurrentTransforms"] == 4 and job["MaxPayloadInMB"] == 6


def test_split_none_sends_each_object_whole(sagemaker: Any, s3: Any, trained: TrainedModel) -> None:
    bucket, prefix = trained.bucket, unique("whole")
    rows = trained.features[:30]
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/a.csv", Body=features_csv(rows))
    request = transform_request(
        unique("tf-none"), trained, f"s3://{bucket}/{prefix}/in/", f"s3://{bucket}/{prefix}/out",
        TransformInput={"SplitType": "None"}, TransformOutput={"AssembleWith": "None", "Accept": "application/json"},
    )
    job = run_job(sagemaker, request)
    answer = json.loads(read(s3, f"s3://{bucket}/{prefix}/out/a.csv.out"))
    scores = np.array([p["score"] for p in answer["predictions"]], dtype=np.float32)
    np.testing.assert_array_equal(scores, trained.predict(rows))
    assert job["TransformInput"]["SplitType"] == "None"


def test_gzip_input_is_decompressed(sagemaker: Any, s3: Any, trained: TrainedModel) -> None:
    bucket, prefix = trained.bucket, unique("gzip")
    rows = trained.features[:100]
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/rows.csv.gz", Body=gzip.compress(features_csv(rows)))
    run_job(sagemaker, transform_request(
        unique("tf-gzip"), trained, f"s3://{bucket}/{prefix}/in/", f"s3://{bucket}/{prefix}/out",
        TransformInput={"CompressionType": "Gzip"},
    ))
    lines = read(s3, f"s3://{bucket}/{prefix}/out/rows.csv.gz.out").decode().splitlines()
    np.testing.assert_array_equal(as_float32(lines), trained.predict(rows))


def test_manifest_file_input(sagemaker: Any, s3: Any, trained: TrainedModel) -> None:
    bucket, prefix = trained.bucket, unique("manifest")
    first, second = trained.features[:10], trained.features[10:17]
    s3.put_object(Bucket=bucket, Key=f"{prefix}/data/one.csv", Body=features_csv(first))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/data/sub/two.csv", Body=features_csv(second))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/data/unlisted.csv", Body=b"not,used\n")
    manifest = [{"prefix": f"s3://{bucket}/{prefix}/data/"}, "one.csv", "sub/two.csv"]
    s3.put_object(Bucket=bucket, Key=f"{prefix}/input.manifest", Body=json.dumps(manifest).encode())
    request = transform_request(
        unique("tf-manifest"), trained, f"s3://{bucket}/{prefix}/input.manifest", f"s3://{bucket}/{prefix}/out",
    )
    request["TransformInput"]["DataSource"]["S3DataSource"]["S3DataType"] = "ManifestFile"
    run_job(sagemaker, request)
    for relative, rows in (("one.csv", first), ("sub/two.csv", second)):
        lines = read(s3, f"s3://{bucket}/{prefix}/out/{relative}.out").decode().splitlines()
        np.testing.assert_array_equal(as_float32(lines), trained.predict(rows))
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/out/")["Contents"]
    assert len(listed) == 2


def test_two_instances_share_the_work(
    sagemaker: Any, s3: Any, trained: TrainedModel, sagebox_server: ServerProcess
) -> None:
    bucket, prefix = trained.bucket, unique("instances")
    rows = np.tile(trained.features, (20, 1))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/many.csv", Body=features_csv(rows))
    name = unique("tf-two")
    run_job(sagemaker, transform_request(
        name, trained, f"s3://{bucket}/{prefix}/in/", f"s3://{bucket}/{prefix}/out",
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 2}, MaxPayloadInMB=1,
    ))
    lines = read(s3, f"s3://{bucket}/{prefix}/out/many.csv.out").decode().splitlines()
    np.testing.assert_array_equal(as_float32(lines), trained.predict(rows))
    logs = sorted(p.name for p in (sagebox_server.home / "jobs" / "transform" / name / "logs").iterdir())
    assert logs == ["instance-1-container-1.jsonl", "instance-2-container-1.jsonl"]


def test_csv_id_column_filtered_out_and_joined_back(sagemaker: Any, s3: Any, trained: TrainedModel) -> None:
    bucket, prefix = trained.bucket, unique("join")
    rows = trained.features[:40]
    body = "".join(f"id-{i}," + features_csv(row).decode() for i, row in enumerate(rows)).encode()
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/ids.csv", Body=body)
    job = run_job(sagemaker, transform_request(
        unique("tf-join"), trained, f"s3://{bucket}/{prefix}/in/", f"s3://{bucket}/{prefix}/out",
        BatchStrategy="MultiRecord",
        DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"},
    ))
    lines = read(s3, f"s3://{bucket}/{prefix}/out/ids.csv.out").decode().splitlines()
    assert [line.split(",")[0] for line in lines] == [f"id-{i}" for i in range(40)]
    np.testing.assert_array_equal(as_float32([line.split(",")[1] for line in lines]), trained.predict(rows))
    assert job["DataProcessing"]["JoinSource"] == "Input"


def test_json_lines_with_a_features_filter(sagemaker: Any, s3: Any, trained: TrainedModel) -> None:
    bucket, prefix = trained.bucket, unique("jsonl")
    rows = trained.features[:12]
    body = "".join(json.dumps({"id": i, "features": row.tolist()}) + "\n" for i, row in enumerate(rows))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/rows.jsonl", Body=body.encode())
    run_job(sagemaker, transform_request(
        unique("tf-jsonl"), trained, f"s3://{bucket}/{prefix}/in/", f"s3://{bucket}/{prefix}/out",
        TransformInput={"ContentType": "application/jsonlines"},
        TransformOutput={"Accept": "application/jsonlines"},
        BatchStrategy="MultiRecord",
        DataProcessing={"InputFilter": "$.features", "JoinSource": "Input", "OutputFilter": "$['id','SageMakerOutput']"},
    ))
    records = [json.loads(line) for line in read(s3, f"s3://{bucket}/{prefix}/out/rows.jsonl.out").splitlines()]
    assert [r["id"] for r in records] == list(range(12))
    assert all(set(r) == {"id", "SageMakerOutput"} for r in records)
    scores = np.array([r["SageMakerOutput"]["score"] for r in records], dtype=np.float32)
    np.testing.assert_array_equal(scores, trained.predict(rows))


def test_recordio_protobuf_records_split_by_frame(sagemaker: Any, s3: Any, trained: TrainedModel) -> None:
    bucket, prefix = trained.bucket, unique("recordio")
    rows = np.tile(trained.features, (40, 1))  # about 1.1 MB: two requests
    s3.put_object(Bucket=bucket, Key=f"{prefix}/in/rows.rec", Body=recordio.write_dense(rows.astype(np.float32)))
    run_job(sagemaker, transform_request(
        unique("tf-recordio"), trained, f"s3://{bucket}/{prefix}/in/", f"s3://{bucket}/{prefix}/out",
        TransformInput={"ContentType": "application/x-recordio-protobuf", "SplitType": "RecordIO"},
        BatchStrategy="MultiRecord", MaxPayloadInMB=1,
    ))
    lines = read(s3, f"s3://{bucket}/{prefix}/out/rows.rec.out").decode().splitlines()
    np.testing.assert_array_equal(as_float32(lines), trained.predict(rows.astype(np.float32)))
