"""Script mode on several instances through boto3: one process per host, shards, logs, failures."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.services.training.jobs import XGBOOST_IMAGE, unique, wait_for
from tests.services.training.multi_host_jobs import multi_host_job, tar_members

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
SHARD_KEYS = [f"multi/sharded/part-{i}.csv" for i in range(5)]
FULL_KEYS = ["multi/full/a.csv", "multi/full/b.csv"]

REPORTING_SCRIPT = """
import json
import os

host = os.environ["SM_CURRENT_HOST"]
config_dir = os.environ["SM_INPUT_CONFIG_DIR"]
with open(os.path.join(config_dir, "resourceconfig.json")) as handle:
    resource_config = json.load(handle)
names = ["SM_CURRENT_HOST", "SM_HOSTS", "SM_NUM_GPUS", "SM_NUM_CPUS", "SM_RESOURCE_CONFIG", "SM_IS_MASTER",
         "MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK", "LOCAL_RANK", "SM_MODEL_DIR"]
seen = {
    "env": {name: os.environ.get(name) for name in names},
    "resource_config": resource_config,
    "train": sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"])),
    "full": sorted(os.listdir(os.environ["SM_CHANNEL_FULL"])),
}
with open(os.path.join(os.environ["SM_MODEL_DIR"], f"{host}.json"), "w") as handle:
    json.dump(seen, handle)
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], f"{host}.txt"), "w") as handle:
    handle.write(host)
print(f"hello from {host}")
print(f"shard-files: {len(seen['train'])}")
"""

FAILING_WORKER_SCRIPT = """
import os
import time

if os.environ["SM_CURRENT_HOST"] == "algo-2":
    raise ValueError("worker algo-2 found a corrupt shard")
print("leader waiting", flush=True)
time.sleep(120)
"""

SLEEPING_SCRIPT = """
import os
import time

print(f"{os.environ['SM_CURRENT_HOST']} sleeping", flush=True)
time.sleep(120)
"""


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    name = unique("multi-host")
    s3.create_bucket(Bucket=name)
    for key in SHARD_KEYS + FULL_KEYS:
        s3.put_object(Bucket=name, Key=key, Body=f"1,{key}\n".encode())
    return name


@pytest.fixture(scope="module")
def logs(sagebox_server: Any) -> Any:
    return boto3.client("logs")


def test_each_host_sees_its_own_host_config_and_shard(
    sagemaker: Any, s3: Any, bucket: str, logs: Any
) -> None:
    request = multi_host_job(s3, bucket, REPORTING_SCRIPT)
    request["AlgorithmSpecification"]["MetricDefinitions"] = [
        {"Name": "shard:files", "Regex": r"shard-files: ([0-9]+)"}
    ]
    name = request["TrainingJobName"]
    sagemaker.create_training_job(**request)
    job = wait_for(sagemaker, name, timeout=120)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ResourceConfig"]["InstanceCount"] == 2
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert metrics["shard:files"] in (2.0, 3.0)

    model = tar_members(s3, bucket, f"output/{name}/output/model.tar.gz")
    assert sorted(model) == ["algo-1.json", "algo-2.json"]
    seen = {host: json.loads(model[f"{host}.json"]) for host in ("algo-1", "algo-2")}
    for rank, host in enumerate(("algo-1", "algo-2")):
        env = seen[host]["env"]
        assert env["SM_CURRENT_HOST"] == host
        assert json.loads(env["SM_HOSTS"]) == ["algo-1", "algo-2"]
        assert env["SM_NUM_GPUS"] == "0" and int(env["SM_NUM_CPUS"]) >= 1
        assert env["SM_IS_MASTER"] == ("true" if rank == 0 else "false")
        assert (env["WORLD_SIZE"], env["RANK"], env["LOCAL_RANK"]) == ("2", str(rank), "0")
        assert env["MASTER_ADDR"] == "127.0.0.1" and int(env["MASTER_PORT"]) > 0
        assert env["SM_MODEL_DIR"].endswith(f"/training/{name}/hosts/{host}/model")
        for resource in (seen[host]["resource_config"], json.loads(env["SM_RESOURCE_CONFIG"])):
            assert resource["current_host"] == host and resource["hosts"] == ["algo-1", "algo-2"]
        assert seen[host]["full"] == ["a.csv", "b.csv"]
    assert seen["algo-1"]["env"]["MASTER_PORT"] == seen["algo-2"]["env"]["MASTER_PORT"]
    # ShardedByS3Key: host i gets keys i, i+2, ... of the sorted key list.
    assert seen["algo-1"]["train"] == ["part-0.csv", "part-2.csv", "part-4.csv"]
    assert seen["algo-2"]["train"] == ["part-1.csv", "part-3.csv"]

    output = tar_members(s3, bucket, f"output/{name}/output/output.tar.gz")
    assert output == {"algo-1.txt": b"algo-1", "algo-2.txt": b"algo-2"}

    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{name}/")[
        "logStreams"
    ]
    by_host = {
        s["logStreamName"].split("/", 1)[1].rpartition("-")[0]: s["logStreamName"] for s in streams
    }
    assert sorted(by_host) == ["algo-1", "algo-2"]
    for host, stream in by_host.items():
        assert stream == f"{name}/{host}-{stream.rpartition('-')[2]}"
        events = logs.get_log_events(
            logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True
        )["events"]
        messages = [e["message"] for e in events]
        assert f"hello from {host}" in messages
        assert not any(m.startswith("hello from") and host not in m for m in messages)


def test_a_failing_host_stops_the_others_and_fails_the_job_naming_it(
    sagemaker: Any, s3: Any, bucket: str
) -> None:
    request = multi_host_job(s3, bucket, FAILING_WORKER_SCRIPT)
    began = time.time()
    sagemaker.create_training_job(**request)
    job = wait_for(sagemaker, request["TrainingJobName"], timeout=90)
    assert job["TrainingJobStatus"] == "Failed"
    assert time.time() - began < 60, "the leader should have been stopped, not waited for"
    reason = job["FailureReason"]
    assert reason.startswith("AlgorithmError: Host algo-2: ExecuteUserScriptError:"), reason
    assert 'ErrorMessage "ValueError: worker algo-2 found a corrupt shard"' in reason
    assert "ModelArtifacts" not in job or not job["ModelArtifacts"].get("S3ModelArtifacts")


def test_stopping_a_multi_host_job_stops_every_host(
    sagemaker: Any, s3: Any, bucket: str, sagebox_server: Any
) -> None:
    request = multi_host_job(s3, bucket, SLEEPING_SCRIPT, count=3)
    name = request["TrainingJobName"]
    sagemaker.create_training_job(**request)
    wait_for(sagemaker, name, statuses=("Training",), timeout=60)
    log_dir = sagebox_server.home / "jobs" / "training" / name / "logs"
    deadline = time.time() + 30
    while time.time() < deadline and not all(
        (log_dir / f"algo-{i}.jsonl").is_file() and (log_dir / f"algo-{i}.jsonl").stat().st_size
        for i in (1, 2, 3)
    ):
        time.sleep(0.1)
    assert len(_processes_under(log_dir.parent / "hosts")) == 3
    sagemaker.stop_training_job(TrainingJobName=name)
    job = wait_for(sagemaker, name, timeout=60)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert _processes_under(log_dir.parent / "hosts") == []


def test_the_runtime_limit_stops_every_host(
    sagemaker: Any, s3: Any, bucket: str, sagebox_server: Any
) -> None:
    request = multi_host_job(
        s3, bucket, SLEEPING_SCRIPT, StoppingCondition={"MaxRuntimeInSeconds": 3}
    )
    name = request["TrainingJobName"]
    sagemaker.create_training_job(**request)
    job = wait_for(sagemaker, name, timeout=60)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")
    assert _processes_under(sagebox_server.home / "jobs" / "training" / name / "hosts") == []


def _processes_under(folder: Path) -> list[int]:
    """Pids whose command line names a file in `folder` (the hosts' training scripts)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f"{folder}{os.sep}" in cmdline:
            pids.append(int(entry.name))
    return pids


def test_instance_count_limits_are_validation_errors(sagemaker: Any, s3: Any, bucket: str) -> None:
    builtin = multi_host_job(
        s3, bucket, REPORTING_SCRIPT, image=XGBOOST_IMAGE, HyperParameters={"num_round": "3"}
    )
    with pytest.raises(ClientError) as info:
        sagemaker.create_training_job(**builtin)
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "ResourceConfig.InstanceCount 2" in error["Message"]
    assert "built-in algorithms run on one instance in sagebox" in error["Message"]

    with pytest.raises(ClientError) as info:
        sagemaker.create_training_job(**multi_host_job(s3, bucket, REPORTING_SCRIPT, count=9))
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert (
        "ResourceConfig.InstanceCount 9" in error["Message"]
        and "1 to 8 instances" in error["Message"]
    )
