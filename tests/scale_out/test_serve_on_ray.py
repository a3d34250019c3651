"""`sagebox serve --executor ray://... --store postgresql://... --objects s3://...?endpoint_url=`
end to end through boto3: every part real and started here (a three-node Ray cluster, a
PostgreSQL cluster, a SeaweedFS S3 server), the same client code as on one machine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest

from sagebox.cli.server_process import ServerProcess
from tests.conftest import CLIENT_ENV
from tests.ray_cluster import EXECUTOR_URL, RayTestCluster
from tests.seaweedfs_server import SeaweedUnavailable, seaweedfs_s3, weed_program
from tests.services.processing.jobs import job_request as processing_request
from tests.services.processing.jobs import s3_input, s3_output
from tests.services.processing.jobs import wait_for as wait_for_processing
from tests.services.training.jobs import channel, csv_bytes, job_request, unique, wait_for
from tests.services.training.multi_host_jobs import multi_host_job, tar_members

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"

# Each host reports its node, the files of its channels, and what the API server holds of
# them in its own copy of the host's workspace (the test cluster's nodes share this
# machine's disk, so the host can look): nothing, when the node staged them itself.
REPORTING_SCRIPT = """
import json, os
node = {k: os.environ[k] for k in ("SAGEBOX_RAY_NODE_ID", "SAGEBOX_RAY_NODE_ADDRESS", "MASTER_ADDR", "SM_NUM_CPUS")}
print("placed " + json.dumps(node), flush=True)
host = os.environ["SM_CURRENT_HOST"]
api_copy = os.path.join(json.loads(os.environ["SM_HPS"])["api_job_folder"], "hosts", host, "input", "data")
seen = {c: sorted(os.listdir(os.environ["SM_CHANNEL_" + c.upper()])) for c in ("train", "full")}
on_api_server = {c: sorted(os.listdir(os.path.join(api_copy, c))) for c in ("train", "full")}
with open(os.path.join(os.environ["SM_MODEL_DIR"], host + ".json"), "w") as f:
    json.dump({"node": node, "seen": seen, "on_api_server": on_api_server}, f)
"""


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        weed_program()
    except SeaweedUnavailable as reason:
        pytest.skip(str(reason))
    with seaweedfs_s3(tmp_path_factory.mktemp("seaweedfs")) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def server(
    ray_cluster: RayTestCluster,
    store_url: str,
    s3_endpoint: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    arguments = [
        "--executor",
        EXECUTOR_URL,
        "--store",
        store_url,
        "--objects",
        f"s3://?endpoint_url={s3_endpoint}",
    ]
    process = ServerProcess(
        tmp_path_factory.mktemp("scale-out-home"), CLIENT_ENV, arguments
    ).start()
    yield process
    process.stop()


def client(server: ServerProcess, name: str) -> Any:
    return boto3.client(name, endpoint_url=server.endpoint_url, **_credentials())


def _credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": CLIENT_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CLIENT_ENV["AWS_SECRET_ACCESS_KEY"],
        "region_name": CLIENT_ENV["AWS_DEFAULT_REGION"],
    }


@pytest.fixture(scope="module")
def bucket(server: ServerProcess) -> str:
    s3 = client(server, "s3")
    name = unique("scale-out")
    s3.create_bucket(Bucket=name)
    return name


def test_a_builtin_xgboost_job_completes_with_its_model_in_the_s3_server(
    server: ServerProcess, bucket: str, s3_endpoint: str
) -> None:
    s3, sagemaker = client(server, "s3"), client(server, "sagemaker")
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 3))
    s3.put_object(
        Bucket=bucket, Key="xgb/train.csv", Body=csv_bytes(features, features @ [1.0, -2.0, 0.5])
    )
    name = unique("xgb")
    sagemaker.create_training_job(
        **job_request(name, bucket, [channel("train", f"s3://{bucket}/xgb/")])
    )
    job = wait_for(sagemaker, name, timeout=180)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    key = f"output/{name}/output/model.tar.gz"
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{bucket}/{key}"
    seaweed = boto3.client("s3", endpoint_url=s3_endpoint, **_credentials())  # the S3 server itself
    assert seaweed.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    assert "xgboost-model" in tar_members(seaweed, bucket, key)


def test_a_two_host_job_lands_on_two_ray_nodes_meeting_at_the_first(
    server: ServerProcess, bucket: str, s3_endpoint: str
) -> None:
    """...and each node stages its own share of the channels and the first uploads the
    model: the API server's copy of the workspaces never holds the data."""
    s3, sagemaker, logs = client(server, "s3"), client(server, "sagemaker"), client(server, "logs")
    for key in ("multi/sharded/part-0.csv", "multi/sharded/part-1.csv", "multi/full/a.csv"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"1,2\n")
    request = multi_host_job(s3, bucket, REPORTING_SCRIPT)
    name = request["TrainingJobName"]
    api_job_folder = server.home / "jobs" / "training" / name
    request["HyperParameters"]["api_job_folder"] = json.dumps(str(api_job_folder))
    sagemaker.create_training_job(**request)
    job = wait_for(sagemaker, name, timeout=180)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")

    key = f"output/{name}/output/model.tar.gz"
    seaweed = boto3.client("s3", endpoint_url=s3_endpoint, **_credentials())  # the S3 server itself
    archive = seaweed.get_object(Bucket=bucket, Key=key)["Body"].read()
    model = tar_members(s3, bucket, key)
    seen = {host: json.loads(model[f"{host}.json"]) for host in ("algo-1", "algo-2")}
    nodes = {host: s["node"] for host, s in seen.items()}
    assert nodes["algo-1"]["SAGEBOX_RAY_NODE_ID"] != nodes["algo-2"]["SAGEBOX_RAY_NODE_ID"]
    assert {n["MASTER_ADDR"] for n in nodes.values()} == {
        nodes["algo-1"]["SAGEBOX_RAY_NODE_ADDRESS"]
    }
    # ShardedByS3Key: each node downloaded its own share; FullyReplicated: every object.
    assert [seen[h]["seen"] for h in ("algo-1", "algo-2")] == [
        {"train": ["part-0.csv"], "full": ["a.csv"]},
        {"train": ["part-1.csv"], "full": ["a.csv"]},
    ]
    assert [seen[h]["on_api_server"] for h in ("algo-1", "algo-2")] == [
        {"train": [], "full": []}
    ] * 2

    lines = {
        host: [e["message"] for e in events] for host, events in _host_events(logs, name).items()
    }
    for host, node in nodes.items():
        where = f"on Ray node {node['SAGEBOX_RAY_NODE_ID']} ({node['SAGEBOX_RAY_NODE_ADDRESS']})"
        assert any(
            line.startswith(f"sagebox: {host} staged 2 input object(s), 8 bytes,") and where in line
            for line in lines[host]
        ), lines[host]
    # The archive in the S3 server is byte for byte the one the first host's node packed.
    uploaded = [
        line
        for line in lines["algo-1"]
        if line.startswith(f"sagebox: algo-1 uploaded s3://{bucket}/{key} ")
    ]
    digest = hashlib.sha256(archive).hexdigest()
    assert uploaded == [
        f"sagebox: algo-1 uploaded s3://{bucket}/{key} ({len(archive)} bytes, sha256 {digest}) "
        f"from Ray node {nodes['algo-1']['SAGEBOX_RAY_NODE_ID']} ({nodes['algo-1']['SAGEBOX_RAY_NODE_ADDRESS']})"
    ]
    assert not any("uploaded" in line for line in lines["algo-2"])
    # Each host's CPUs are its reservation (ml.m5.large's 2 vCPUs x 0.125 -> at least one),
    # not the API server's machine's.
    assert {n["SM_NUM_CPUS"] for n in nodes.values()} == {"1"}

    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{name}/")[
        "logStreams"
    ]
    assert len(streams) == 2
    for stream in streams:
        events = logs.get_log_events(
            logGroupName=LOG_GROUP, logStreamName=stream["logStreamName"], startFromHead=True
        )
        placed = [e["message"] for e in events["events"] if e["message"].startswith("placed ")]
        host = stream["logStreamName"].split("/", 1)[1].rpartition("-")[0]
        assert [json.loads(p.removeprefix("placed ")) for p in placed] == [nodes[host]]


def _host_events(logs: Any, name: str, group: str = LOG_GROUP) -> dict[str, list[dict[str, Any]]]:
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{name}/")
    return {
        stream["logStreamName"].split("/", 1)[1].rpartition("-")[0]: logs.get_log_events(
            logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
        )["events"]
        for stream in streams["logStreams"]
    }


def test_the_job_folder_on_the_api_server_is_not_where_the_hosts_ran(
    server: ServerProcess, bucket: str
) -> None:
    """The hosts' SM_MODEL_DIR is a folder of their Ray node, not the API server's job folder."""
    s3, sagemaker = client(server, "s3"), client(server, "sagemaker")
    script = "import os\nprint(os.environ['SM_MODEL_DIR'], flush=True)\nopen(os.environ['SM_MODEL_DIR'] + '/m', 'w').write('x')\n"
    request = multi_host_job(s3, bucket, script, count=1)
    name = request["TrainingJobName"]
    sagemaker.create_training_job(**request)
    job = wait_for(sagemaker, name, timeout=180)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert tar_members(s3, bucket, f"output/{name}/output/model.tar.gz") == {"m": b"x"}
    events = client(server, "logs").filter_log_events(
        logGroupName=LOG_GROUP, logStreamNamePrefix=f"{name}/"
    )["events"]
    model_dir = Path(next(e["message"] for e in events if e["message"].endswith("/model")))
    assert server.home not in model_dir.parents


# A processing instance reports its node, the files of its inputs, and what the API
# server holds of them in its own copy of the instance's workspace (argv[1]).
PROCESSING_SCRIPT = """
import json, os, pathlib, sys
host = json.loads(pathlib.Path("/opt/ml/config/resourceconfig.json").read_text())["current_host"]
api_copy = pathlib.Path(sys.argv[1], "hosts", host, "processing")
folders = ("parts", "listed")
report = {
    "node": [os.environ["SAGEBOX_RAY_NODE_ID"], os.environ["SAGEBOX_RAY_NODE_ADDRESS"]],
    "seen": {f: sorted(os.listdir("/opt/ml/processing/" + f)) for f in folders},
    "on_api_server": {f: sorted(os.listdir(api_copy / f)) for f in folders},
}
pathlib.Path("/opt/ml/processing/output", host + ".json").write_text(json.dumps(report))
"""


def test_a_two_instance_processing_job_moves_its_data_on_its_nodes(
    server: ServerProcess, bucket: str, s3_endpoint: str
) -> None:
    """Each instance's node downloads its share of the S3Prefix and ManifestFile inputs and
    uploads its own output files: the API server's copy of the input folders stays empty."""
    s3, sagemaker, logs = client(server, "s3"), client(server, "sagemaker"), client(server, "logs")
    base = f"s3://{bucket}/proc"
    s3.put_object(Bucket=bucket, Key="proc/code/report.py", Body=PROCESSING_SCRIPT.encode())
    for n in range(4):
        s3.put_object(Bucket=bucket, Key=f"proc/parts/part-{n}.csv", Body=f"{n}\n".encode())
    manifest = [{"prefix": f"{base}/parts/"}, "part-1.csv", "part-3.csv"]
    s3.put_object(Bucket=bucket, Key="proc/listed.manifest", Body=json.dumps(manifest).encode())
    name = unique("proc-nodes")
    api_job_folder = server.home / "jobs" / "processing" / name
    request = processing_request(
        name,
        ["python3", "/opt/ml/processing/input/code/report.py"],
        [str(api_job_folder)],
        inputs=[
            s3_input("code", f"{base}/code/", "/opt/ml/processing/input/code"),
            s3_input(
                "parts",
                f"{base}/parts/",
                "/opt/ml/processing/parts",
                S3DataDistributionType="ShardedByS3Key",
            ),
            s3_input(
                "listed",
                f"{base}/listed.manifest",
                "/opt/ml/processing/listed",
                S3DataType="ManifestFile",
            ),
        ],  # fmt: skip
        outputs=[s3_output("reports", f"{base}/{name}/", "/opt/ml/processing/output")],
        ProcessingResources={
            "ClusterConfig": {
                "InstanceCount": 2,
                "InstanceType": "ml.m5.large",
                "VolumeSizeInGB": 5,
            }
        },
    )
    sagemaker.create_processing_job(**request)
    job = wait_for_processing(sagemaker, name, timeout=180)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")

    seaweed = boto3.client("s3", endpoint_url=s3_endpoint, **_credentials())  # the S3 server itself
    listed = seaweed.list_objects_v2(Bucket=bucket, Prefix=f"proc/{name}/").get("Contents", [])
    assert sorted(item["Key"] for item in listed) == [
        f"proc/{name}/algo-1.json",
        f"proc/{name}/algo-2.json",
    ]
    written = {
        host: seaweed.get_object(Bucket=bucket, Key=f"proc/{name}/{host}.json")["Body"].read()
        for host in ("algo-1", "algo-2")
    }
    reports = {host: json.loads(body) for host, body in written.items()}
    assert reports["algo-1"]["node"][0] != reports["algo-2"]["node"][0]
    # ShardedByS3Key: each node downloaded its own share; the manifest's objects: all.
    assert [reports[h]["seen"] for h in ("algo-1", "algo-2")] == [
        {"parts": ["part-0.csv", "part-2.csv"], "listed": ["part-1.csv", "part-3.csv"]},
        {"parts": ["part-1.csv", "part-3.csv"], "listed": ["part-1.csv", "part-3.csv"]},
    ]
    assert [reports[h]["on_api_server"] for h in ("algo-1", "algo-2")] == [
        {"parts": [], "listed": []}
    ] * 2

    lines = {
        host: [e["message"] for e in events]
        for host, events in _host_events(logs, name, PROCESSING_LOG_GROUP).items()
    }
    objects = 1 + 2 + 2  # the script, the host's two parts, the manifest's two
    size = len(PROCESSING_SCRIPT.encode()) + 4 * 2
    for host, report in reports.items():
        where = f"on Ray node {report['node'][0]} ({report['node'][1]})"
        assert any(
            line.startswith(f"sagebox: {host} staged {objects} input object(s), {size} bytes,")
            and where in line
            for line in lines[host]
        ), lines[host]
        # Each instance uploaded its own file from its node: the bytes in the S3 server.
        body = written[host]
        assert [line for line in lines[host] if " uploaded " in line] == [
            f"sagebox: {host} uploaded {base}/{name}/{host}.json ({len(body)} bytes, sha256 "
            f"{hashlib.sha256(body).hexdigest()}) from Ray node {report['node'][0]} ({report['node'][1]})"
        ]
