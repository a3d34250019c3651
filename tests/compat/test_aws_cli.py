"""The AWS CLI v1 (`aws`), unmodified, against a live server: S3 transfers and SageMaker calls."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.services.training.jobs import channel, csv_bytes, job_request, unique, wait_for

AWS = Path(__file__).resolve().parents[2] / ".venv-awscli" / "bin" / "aws"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Cli:
    """The `aws` executable with only the server's endpoint and dummy credentials."""

    endpoint_url: str
    home: Path

    def environment(self) -> dict[str, str]:
        """os.environ without AWS_* settings, pointed at the server; HOME holds no config."""
        found = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        found.update(
            AWS_ENDPOINT_URL=self.endpoint_url,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_DEFAULT_REGION="us-east-1",
            HOME=str(self.home),
        )
        return found

    def __call__(self, *arguments: str) -> str:
        """Runs `aws <arguments>`; what it printed, after asserting it succeeded."""
        done = subprocess.run(
            [str(AWS), *arguments],
            capture_output=True,
            text=True,
            env=self.environment(),
            cwd=self.home,
            timeout=120,
        )
        assert done.returncode == 0, f"aws {' '.join(arguments)} failed:\n{done.stderr[-3000:]}"
        return done.stdout

    def json(self, *arguments: str) -> Any:
        """Runs `aws <arguments> --output json` and parses what it printed."""
        return json.loads(self(*arguments, "--output", "json"))


@pytest.fixture
def cli(sagebox_server: Any, tmp_path: Path) -> Cli:
    """The CLI in a fresh HOME; the test is skipped when `make install-clients` was never run."""
    if not AWS.exists():
        pytest.skip(f"{AWS} is missing: run `make install-clients`")
    return Cli(sagebox_server.endpoint_url, tmp_path)


@pytest.fixture
def cli_bucket(cli: Cli) -> str:
    """A bucket made by `aws s3 mb`."""
    name = f"cli-{uuid.uuid4().hex[:16]}"
    assert f"make_bucket: {name}" in cli("s3", "mb", f"s3://{name}")
    return name


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_s3_mb_and_ls_lists_buckets(cli: Cli, cli_bucket: str, s3: Any) -> None:
    assert any(line.split()[-1] == cli_bucket for line in cli("s3", "ls").splitlines())
    assert cli_bucket in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}


def test_s3_cp_small_file_round_trip(cli: Cli, cli_bucket: str, s3: Any) -> None:
    source = write(cli.home / "up" / "hello.txt", b"hello from the aws cli\n")
    uri = f"s3://{cli_bucket}/small/hello.txt"
    options = ("--content-type", "text/x-note", "--cache-control", "max-age=60")
    cli("s3", "cp", str(source), uri, *options, "--metadata", "owner=cli")
    stored = s3.get_object(Bucket=cli_bucket, Key="small/hello.txt")["Body"].read()
    assert stored == source.read_bytes()
    head = cli.json("s3api", "head-object", "--bucket", cli_bucket, "--key", "small/hello.txt")
    assert head["ContentLength"] == len(stored)
    assert (head["ContentType"], head["CacheControl"]) == ("text/x-note", "max-age=60")
    assert head["Metadata"] == {"owner": "cli"}
    target = cli.home / "down" / "hello.txt"
    cli("s3", "cp", uri, str(target))
    assert target.read_bytes() == source.read_bytes()


def test_s3_cp_multipart_round_trip(cli: Cli, cli_bucket: str, s3: Any) -> None:
    data = os.urandom(20 * MIB)
    source = write(cli.home / "up" / "big.bin", data)
    uri = f"s3://{cli_bucket}/big/big.bin"
    cli("s3", "cp", str(source), uri)
    stored = s3.get_object(Bucket=cli_bucket, Key="big/big.bin")
    assert stored["ContentLength"] == 20 * MIB
    assert stored["ETag"].strip('"').endswith("-3")  # 8 MB parts: 8 + 8 + 4
    assert sha256(stored["Body"].read()) == sha256(data)
    target = cli.home / "down" / "big.bin"
    cli("s3", "cp", uri, str(target))
    assert sha256(target.read_bytes()) == sha256(data)
    cli("s3", "cp", uri, f"s3://{cli_bucket}/big/copy.bin")
    copied = s3.get_object(Bucket=cli_bucket, Key="big/copy.bin")
    assert copied["ETag"].strip('"').endswith("-3")  # copied part by part (UploadPartCopy)
    assert sha256(copied["Body"].read()) == sha256(data)


def _written_earlier(path: Path) -> None:
    """Dates a local file 10 s back: S3's LastModified has whole seconds, and sync uploads a file
    whose local time is later than the object's, as one written in the upload's second is."""
    earlier = path.stat().st_mtime - 10
    os.utime(path, (earlier, earlier))


def test_s3_sync_uploads_only_what_changed(cli: Cli, cli_bucket: str) -> None:
    folder = cli.home / "site"
    _written_earlier(write(folder / "index.html", b"<h1>one</h1>"))
    _written_earlier(write(folder / "css" / "site.css", b"body {}"))
    target = f"s3://{cli_bucket}/site"
    assert cli("s3", "sync", str(folder), target).count("upload:") == 2
    assert "upload:" not in cli("s3", "sync", str(folder), target)
    _written_earlier(write(folder / "index.html", b"<h1>two, longer</h1>"))  # a new size: uploaded
    again = cli("s3", "sync", str(folder), target).splitlines()
    assert [line.split()[-1] for line in again if "upload:" in line] == [f"{target}/index.html"]


def test_s3_cp_recursive_ls_and_rm(cli: Cli, cli_bucket: str, s3: Any) -> None:
    files = {"a.txt": b"alpha\n", "b.csv": b"1,2,3\n", "nested/c.json": b'{"c": 3}\n'}
    for name, data in files.items():
        write(cli.home / "folder" / name, data)
    cli("s3", "cp", "--recursive", str(cli.home / "folder"), f"s3://{cli_bucket}/tree")
    listed = s3.list_objects_v2(Bucket=cli_bucket, Prefix="tree/")["Contents"]
    assert {item["Key"] for item in listed} == {f"tree/{name}" for name in files}

    lines = cli("s3", "ls", f"s3://{cli_bucket}/tree/").splitlines()
    assert "PRE nested/" in [line.strip() for line in lines]
    sizes = {line.split()[-1]: int(line.split()[-2]) for line in lines if "PRE" not in line}
    assert sizes == {"a.txt": 6, "b.csv": 6}

    cli("s3", "cp", "--recursive", f"s3://{cli_bucket}/tree", str(cli.home / "back"))
    for name, data in files.items():
        assert (cli.home / "back" / name).read_bytes() == data

    removed = cli("s3", "rm", f"s3://{cli_bucket}/tree/a.txt")
    assert f"delete: s3://{cli_bucket}/tree/a.txt" in removed
    cli("s3", "rm", "--recursive", f"s3://{cli_bucket}/tree/nested")
    remaining = s3.list_objects_v2(Bucket=cli_bucket, Prefix="tree/")["Contents"]
    assert [item["Key"] for item in remaining] == ["tree/b.csv"]


def test_s3_rb_force_removes_bucket(cli: Cli, cli_bucket: str, s3: Any) -> None:
    s3.put_object(Bucket=cli_bucket, Key="left/over.txt", Body=b"x")
    assert f"remove_bucket: {cli_bucket}" in cli("s3", "rb", "--force", f"s3://{cli_bucket}")
    assert cli_bucket not in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}


def test_sagemaker_list_endpoints_with_name_filter_is_empty(cli: Cli) -> None:
    listed = cli.json("sagemaker", "list-endpoints", "--name-contains", unique("none"))
    assert listed["Endpoints"] == []


def test_sagemaker_training_job_list_and_describe(cli: Cli, s3: Any, sagemaker: Any) -> None:
    bucket = unique("cli-training")
    s3.create_bucket(Bucket=bucket)
    rows = np.random.default_rng(0).normal(size=(60, 3))
    labels = rows @ np.array([1.0, -2.0, 0.5])
    s3.put_object(Bucket=bucket, Key="train/data.csv", Body=csv_bytes(rows, labels))
    name = unique("cli-job")
    channels = [channel("train", f"s3://{bucket}/train")]
    sagemaker.create_training_job(**job_request(name, bucket, channels))
    expected = wait_for(sagemaker, name)
    assert expected["TrainingJobStatus"] == "Completed", expected.get("FailureReason")

    described = cli.json("sagemaker", "describe-training-job", "--training-job-name", name)
    assert (described["TrainingJobName"], described["TrainingJobStatus"]) == (name, "Completed")
    assert described["TrainingJobArn"] == expected["TrainingJobArn"]
    assert described["TrainingJobArn"].endswith(f":training-job/{name}")
    artifacts = described["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifacts.startswith(f"s3://{bucket}/output/{name}/")

    listed = cli.json("sagemaker", "list-training-jobs", "--name-contains", name)
    summaries = {job["TrainingJobName"]: job for job in listed["TrainingJobSummaries"]}
    assert summaries[name]["TrainingJobStatus"] == "Completed"
    assert summaries[name]["TrainingJobArn"] == expected["TrainingJobArn"]
    every = cli.json("sagemaker", "list-training-jobs")
    assert name in {job["TrainingJobName"] for job in every["TrainingJobSummaries"]}
