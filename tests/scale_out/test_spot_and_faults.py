"""Faults a scaled-out sagebox survives, with every part real: a Ray node killed under a
two-host managed spot training job (the job resumes from its checkpoint on the nodes
left), and the S3 server (SeaweedFS) going away and coming back while a job uploads its
model (the upload is retried; the model is whole)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import signal
import tarfile
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from sagebox.cli.server_process import ServerProcess
from tests.conftest import CLIENT_ENV
from tests.ray_cluster import EXECUTOR_URL, RayTestCluster
from tests.seaweedfs_server import SeaweedServer, SeaweedUnavailable, seaweedfs_server, weed_program
from tests.services.training.jobs import unique, wait_for
from tests.services.training.multi_host_jobs import multi_host_job

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
STEPS = 14

# Each host counts STEPS steps, one every 0.4 s, keeping its count in its checkpoint
# folder (written whole, then renamed); it starts from the count it finds there.
COUNTING_SCRIPT = f"""
import json, os, pathlib, time
host = os.environ["SM_CURRENT_HOST"]
state = pathlib.Path(os.environ["SM_CHECKPOINT_DIR"]) / (host + ".json")
first = json.loads(state.read_text())["step"] if state.exists() else 0
print("on " + os.environ["SAGEBOX_RAY_NODE_ID"] + " pid " + str(os.getpid()) + " from " + str(first), flush=True)
scratch = pathlib.Path(os.environ["SM_OUTPUT_DIR"]) / "state.tmp"
for step in range(first + 1, {STEPS} + 1):
    time.sleep(0.4)
    scratch.write_text(json.dumps({{"step": step}}))
    scratch.replace(state)
    print("step " + str(step), flush=True)
pathlib.Path(os.environ["SM_MODEL_DIR"], host + ".json").write_text(json.dumps({{"first": first, "last": step}}))
"""

# A model of 4 MB of random bytes (incompressible), its digest printed; then a pause.
LARGE_MODEL_SCRIPT = """
import hashlib, os, pathlib, time
data = os.urandom(4 * 1024 * 1024)
pathlib.Path(os.environ["SM_MODEL_DIR"], "weights.bin").write_bytes(data)
print("model written " + hashlib.sha256(data).hexdigest(), flush=True)
time.sleep(2)
"""


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    try:
        weed_program()
    except SeaweedUnavailable as reason:
        pytest.skip(str(reason))
    with seaweedfs_server(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(scope="module")
def server(
    ray_cluster: RayTestCluster,
    store_url: str,
    s3_server: SeaweedServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    arguments = [
        "--executor", EXECUTOR_URL,
        "--store", store_url,
        "--objects", f"s3://?endpoint_url={s3_server.endpoint}",
    ]  # fmt: skip
    process = ServerProcess(tmp_path_factory.mktemp("faults-home"), CLIENT_ENV, arguments).start()
    yield process
    process.stop()


def client(endpoint: str, name: str) -> Any:
    return boto3.client(
        name,
        endpoint_url=endpoint,
        aws_access_key_id=CLIENT_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CLIENT_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=CLIENT_ENV["AWS_DEFAULT_REGION"],
    )


@pytest.fixture(scope="module")
def bucket(server: ServerProcess) -> str:
    s3 = client(server.endpoint_url, "s3")
    name = unique("faults")
    s3.create_bucket(Bucket=name)
    for key in ("multi/sharded/part-0.csv", "multi/sharded/part-1.csv", "multi/full/a.csv"):
        s3.put_object(Bucket=name, Key=key, Body=b"1,2\n")
    return name


def host_lines(logs: Any, job: str) -> dict[str, list[str]]:
    """Each host's log lines so far (the job's CloudWatch streams, <job>/<host>-<id>)."""
    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{job}/")
    lines: dict[str, list[str]] = {}
    for stream in streams["logStreams"]:
        host = stream["logStreamName"].split("/", 1)[1].rpartition("-")[0]
        events = logs.get_log_events(
            logGroupName=LOG_GROUP, logStreamName=stream["logStreamName"], startFromHead=True
        )["events"]
        lines[host] = [e["message"] for e in events]
    return lines


def wait_for_lines(logs: Any, job: str, done: Any, timeout: float = 120) -> dict[str, list[str]]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        lines = host_lines(logs, job)
        if done(lines):
            return lines
        time.sleep(0.2)
    raise TimeoutError(
        f"the logs of {job} never showed what the test waits for: {host_lines(logs, job)}"
    )


def lose_a_worker_node_under(
    logs: Any, name: str, ray_cluster: RayTestCluster, after_step: int
) -> str:
    """Once both hosts have counted `after_step` steps, kills the worker node (not the
    head) under one of them, as a machine lost; that host."""
    lines = wait_for_lines(
        logs,
        name,
        lambda seen: len(seen) == 2 and all(f"step {after_step}" in h for h in seen.values()),
    )
    where = {}
    for host, printed in lines.items():
        # The script's first line (the node's own staging lines come before it).
        first = next(line for line in printed if not line.startswith("sagebox: "))
        found = re.match(r"on (\S+) pid (\d+) from 0$", first)
        assert found is not None, printed
        where[host] = (found[1], int(found[2]))
    victim = next(h for h, (node, _) in where.items() if ray_cluster.worker_node(node) is not None)
    node, pid = where[victim]
    try:
        ray_cluster.lose_node(ray_cluster.worker_node(node))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # on a real cluster the process went with its machine
    return victim


def test_a_node_lost_under_a_job_without_managed_spot_training_fails_it_naming_the_host(
    server: ServerProcess, bucket: str, ray_cluster: RayTestCluster
) -> None:
    s3 = client(server.endpoint_url, "s3")
    sagemaker, logs = client(server.endpoint_url, "sagemaker"), client(server.endpoint_url, "logs")
    request = multi_host_job(s3, bucket, COUNTING_SCRIPT)
    name = request["TrainingJobName"]
    sagemaker.create_training_job(**request)
    victim = lose_a_worker_node_under(logs, name, ray_cluster, after_step=1)
    job = wait_for(sagemaker, name, timeout=120)
    assert job["TrainingJobStatus"] == "Failed", job
    assert job["FailureReason"].startswith(
        f"InternalServerError: Host {victim}: the instance was lost while the job ran "
        f"(sagebox: host {victim} was lost with its Ray node "
    ), job["FailureReason"]
    assert "Enable managed spot training" in job["FailureReason"]
    assert "Interrupted" not in [t["Status"] for t in job["SecondaryStatusTransitions"]]


def test_a_node_lost_under_a_spot_job_resumes_it_from_its_checkpoint_on_other_nodes(
    server: ServerProcess, bucket: str, ray_cluster: RayTestCluster
) -> None:
    s3 = client(server.endpoint_url, "s3")
    sagemaker, logs = client(server.endpoint_url, "sagemaker"), client(server.endpoint_url, "logs")
    request = multi_host_job(
        s3,
        bucket,
        COUNTING_SCRIPT,
        EnableManagedSpotTraining=True,
        StoppingCondition={"MaxRuntimeInSeconds": 300, "MaxWaitTimeInSeconds": 600},
        CheckpointConfig={"S3Uri": f"s3://{bucket}/checkpoints/{unique('spot')}"},
    )
    name = request["TrainingJobName"]
    sagemaker.create_training_job(**request)

    # Both hosts have counted a few steps; one of them runs on a worker node (not the head).
    victim = lose_a_worker_node_under(logs, name, ray_cluster, after_step=3)

    job = wait_for(sagemaker, name, timeout=240)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    statuses = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    interrupted = statuses.index("Interrupted")
    assert statuses[:interrupted] == ["Starting", "Downloading", "Training"]
    assert statuses[interrupted:] == [
        "Interrupted", "Starting", "Downloading", "Training", "Uploading", "Completed"
    ]  # fmt: skip
    assert victim in job["SecondaryStatusTransitions"][interrupted]["StatusMessage"]

    # Every host went on counting from its last checkpoint (synced every second), not from 0.
    model = _tar_members(
        s3.get_object(Bucket=bucket, Key=f"output/{name}/output/model.tar.gz")["Body"].read()
    )
    counts = {host: json.loads(model[f"{host}.json"]) for host in ("algo-1", "algo-2")}
    for host, count in counts.items():
        assert 1 <= count["first"] < STEPS and count["last"] == STEPS, (host, count)
    resumed = host_lines(logs, name)
    for host in ("algo-1", "algo-2"):
        starts = [line for line in resumed[host] if re.match(r"on \S+ pid \d+ from \d+$", line)]
        assert len(starts) == 2 and starts[1].endswith(f"from {counts[host]['first']}"), starts
    # Billed only while hosts ran: not the time lost to the interruption and the restart.
    assert 0 < job["BillableTimeInSeconds"] < job["TrainingTimeInSeconds"]


def test_the_s3_server_restarted_while_a_job_uploads_its_model_leaves_a_whole_model(
    server: ServerProcess, bucket: str, s3_server: SeaweedServer
) -> None:
    s3 = client(server.endpoint_url, "s3")
    sagemaker, logs = client(server.endpoint_url, "sagemaker"), client(server.endpoint_url, "logs")
    request = multi_host_job(s3, bucket, LARGE_MODEL_SCRIPT, count=1)
    name = request["TrainingJobName"]
    sagemaker.create_training_job(**request)
    lines = wait_for_lines(
        logs,
        name,
        lambda seen: any(line.startswith("model written") for h in seen.values() for line in h),
    )
    digest = next(
        line for h in lines.values() for line in h if line.startswith("model written")
    ).split()[-1]
    s3_server.stop()  # the host exits 2 s later; its model's upload meets no S3 server
    try:
        job = wait_for(sagemaker, name, statuses=("Uploading", "Completed", "Failed"), timeout=60)
        assert job["SecondaryStatus"] == "Uploading", job.get("FailureReason")
        time.sleep(1)  # a few tries fail
    finally:
        s3_server.start()
    job = wait_for(sagemaker, name, timeout=120)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    seaweed = client(s3_server.endpoint, "s3")  # the S3 server itself
    key = f"output/{name}/output/model.tar.gz"
    members = _tar_members(seaweed.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert hashlib.sha256(members["weights.bin"]).hexdigest() == digest


def _tar_members(body: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
