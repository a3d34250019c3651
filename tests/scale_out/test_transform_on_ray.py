"""Batch transform instances on Ray nodes, through boto3 against `sagebox serve --executor
ray://...`: a job of two instances runs them on two different nodes of the three-node test
cluster and writes exactly what the same job writes on one machine (local executor); a node
killed under a running job loses no record: the lost instance's batches go to the other.

Where an instance runs is read from its CloudWatch log stream
(`<job>/instance-N-container-1-...`): the executor's line
``sagebox: model-server listens on ADDRESS:PORT on Ray node NODE``.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost

from sagebox.cli.server_process import ServerProcess
from tests.conftest import CLIENT_ENV
from tests.ray_cluster import RayTestCluster
from tests.scale_out import support
from tests.scale_out.support import LOST, client, small_booster, xgboost_model
from tests.services.training.jobs import unique

STOPPED_ANSWERING = "stopped answering"
GROUP = "/aws/sagemaker/TransformJobs"


@pytest.fixture(scope="module")
def ray_server(
    ray_cluster: RayTestCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    process = support.ray_server(tmp_path_factory, "ray-transform")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("local-transform-home"), CLIENT_ENV).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def booster() -> xgboost.Booster:
    return small_booster(60, 4, depth=3, rounds=8)


def model_on(server: ServerProcess, booster: xgboost.Booster) -> tuple[str, str]:
    """A bucket and a model serving `booster` with the built-in XGBoost image on `server`."""
    return xgboost_model(server, booster, "ray-transform")


def features(objects: int, rows: int) -> list[bytes]:
    rng = np.random.default_rng(7)
    out = []
    for _ in range(objects):
        buffer = io.StringIO()
        np.savetxt(buffer, rng.normal(size=(rows, 4)), delimiter=",", fmt="%.10g")
        out.append(buffer.getvalue().encode())
    return out


def run_transform(
    server: ServerProcess,
    booster: xgboost.Booster,
    inputs: list[bytes],
    *,
    while_running: Any = None,
    **overrides: Any,
) -> tuple[str, dict[str, Any], dict[str, bytes]]:
    """Runs a transform job of two instances over `inputs`; its name, description and outputs."""
    s3, sagemaker = client(server, "s3"), client(server, "sagemaker")
    bucket, model = model_on(server, booster)
    for number, body in enumerate(inputs):
        s3.put_object(Bucket=bucket, Key=f"in/part-{number}.csv", Body=body)
    name = unique("ray-transform")
    sagemaker.create_transform_job(
        TransformJobName=name,
        ModelName=model,
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/in/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": f"s3://{bucket}/out/", "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 2},
        **overrides,
    )
    if while_running is not None:
        while_running(name, bucket)
    deadline = time.time() + 120
    while True:
        described = sagemaker.describe_transform_job(TransformJobName=name)
        if described["TransformJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        assert time.time() < deadline, (
            f"transform job {name} still {described['TransformJobStatus']}"
        )
        time.sleep(0.2)
    outputs = {
        f"part-{n}.csv.out": s3.get_object(Bucket=bucket, Key=f"out/part-{n}.csv.out")[
            "Body"
        ].read()
        for n in range(len(inputs))
        if described["TransformJobStatus"] == "Completed"
    }
    return name, described, outputs


def placements(server: ServerProcess, job: str) -> dict[str, dict[str, Any]]:
    """Each instance's node and address from its log stream, whether the executor saw it
    lost and whether the dispatcher took it out."""
    flags = {"lost": LOST, "taken_out": STOPPED_ANSWERING}
    return support.placements(server, GROUP, flags, prefix=f"{job}/")


def predictions(booster: xgboost.Booster, body: bytes) -> np.ndarray:
    rows = np.loadtxt(io.BytesIO(body), delimiter=",", ndmin=2)
    return booster.predict(xgboost.DMatrix(rows))


def test_two_instances_run_on_two_nodes_and_write_what_one_machine_writes(
    ray_server: ServerProcess, local_server: ServerProcess, booster: xgboost.Booster
) -> None:
    inputs = features(4, 50)
    # Several batches per object, so that both instances take some of each.
    options = {"MaxPayloadInMB": 1, "BatchStrategy": "SingleRecord", "MaxConcurrentTransforms": 2}
    name, described, on_ray = run_transform(ray_server, booster, inputs, **options)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    _, local_described, on_one_machine = run_transform(local_server, booster, inputs, **options)
    assert local_described["TransformJobStatus"] == "Completed", local_described.get(
        "FailureReason"
    )
    assert on_ray == on_one_machine
    for number, body in enumerate(inputs):
        got = np.array(on_ray[f"part-{number}.csv.out"].decode().split(), dtype=np.float64)
        np.testing.assert_allclose(got, predictions(booster, body), rtol=1e-6)

    placed = placements(ray_server, name)
    assert len(placed) == 2, placed
    assert len({p["node"] for p in placed.values()}) == 2, placed
    # No model server of the job ran from the API server's copy of the model.
    folder = str(Path(ray_server.home))
    assert all(not p["lost"] and not p["taken_out"] for p in placed.values())
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and "sagebox.serving" in (proc / "cmdline").read_text():
                assert not str((proc / "cwd").resolve()).startswith(folder)
        except OSError:
            continue


def test_a_node_killed_under_a_running_job_loses_no_record(
    ray_server: ServerProcess,
    booster: xgboost.Booster,
    ray_cluster: RayTestCluster,
    whole_cluster_after: None,
) -> None:
    inputs = features(8, 300)
    killed: dict[str, Any] = {}

    def kill_a_node_once_output_appears(name: str, bucket: str) -> None:
        s3 = client(ray_server, "s3")
        deadline = time.time() + 60
        while time.time() < deadline:
            listed = s3.list_objects_v2(Bucket=bucket, Prefix="out/").get("KeyCount", 0)
            placed = placements(ray_server, name)
            if listed and len(placed) == 2:
                break
            time.sleep(0.1)
        victim = next(
            (p for p in placed.values() if ray_cluster.worker_node(p["node"]) is not None), None
        )
        assert victim is not None, (
            f"no instance on a worker node (the head cannot be killed): {placed}"
        )
        assert listed < len(inputs), "the job ended before a node could be killed under it"
        killed.update(victim)
        ray_cluster.cluster.remove_node(
            ray_cluster.worker_node(victim["node"]), allow_graceful=False
        )

    name, described, outputs = run_transform(
        ray_server,
        booster,
        inputs,
        while_running=kill_a_node_once_output_appears,
        BatchStrategy="SingleRecord",
        MaxConcurrentTransforms=1,
    )
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    for number, body in enumerate(inputs):
        got = np.array(outputs[f"part-{number}.csv.out"].decode().split(), dtype=np.float64)
        np.testing.assert_allclose(got, predictions(booster, body), rtol=1e-6)
    placed = placements(ray_server, name)
    # The dispatcher took the victim's instance out (its batches went to the other one).
    taken_out = [p["node"] for p in placed.values() if p["taken_out"]]
    assert taken_out == [killed["node"]], placed
