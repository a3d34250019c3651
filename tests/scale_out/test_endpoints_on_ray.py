"""Endpoint instances on Ray nodes, through boto3 against `sagebox serve --executor ray://...`:
a variant's two instances run on two different nodes of the three-node test cluster and
answer; one node killed under 2,000 requests at concurrency 4 loses no request, and the
lost instance is replaced on a node still alive.

Where an instance runs is read from its CloudWatch log stream (`<variant>/<instance id>`):
the executor's line ``sagebox: model-server listens on ADDRESS:PORT on Ray node NODE``.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost
from botocore.config import Config
from botocore.exceptions import ClientError

from sagebox.cli.server_process import ServerProcess
from tests.ray_cluster import RayTestCluster
from tests.scale_out import support
from tests.scale_out.support import LOST, client, ray_server, small_booster, xgboost_model
from tests.services.training.jobs import unique

REQUESTS = 2000
CONCURRENCY = 4


@pytest.fixture(scope="module")
def server(
    ray_cluster: RayTestCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    process = ray_server(tmp_path_factory, "ray-endpoints")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def booster() -> xgboost.Booster:
    return small_booster(40, 3, depth=2, rounds=5)


@pytest.fixture(scope="module")
def endpoint(server: ServerProcess, booster: xgboost.Booster) -> Iterator[str]:
    """An endpoint of one variant with two ml.m5.large instances, InService."""
    sagemaker = client(server, "sagemaker")
    _, model = xgboost_model(server, booster, "ray-endpoints")
    config, name = unique("config"), unique("endpoint")
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InitialInstanceCount": 2,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    yield name
    sagemaker.delete_endpoint(EndpointName=name)


def placements(server: ServerProcess, endpoint: str) -> dict[str, dict[str, Any]]:
    """Each instance's node and address from its log stream, and whether it was lost."""
    return support.placements(server, f"/aws/sagemaker/Endpoints/{endpoint}", {"lost": LOST})


def rows(count: int) -> bytes:
    features = np.random.default_rng(1).normal(size=(count, 3))
    buffer = io.StringIO()
    np.savetxt(buffer, features, delimiter=",", fmt="%.10g")
    return buffer.getvalue().encode()


def test_a_variants_two_instances_run_on_two_ray_nodes_and_answer(
    server: ServerProcess, endpoint: str, booster: xgboost.Booster
) -> None:
    placed = placements(server, endpoint)
    assert len(placed) == 2, placed
    assert len({p["node"] for p in placed.values()}) == 2
    body = rows(3)
    expected = booster.predict(xgboost.DMatrix(np.loadtxt(io.BytesIO(body), delimiter=",")))
    runtime = client(server, "sagemaker-runtime")
    for _ in range(4):  # round robin: both instances answer
        answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
        got = [float(v) for v in answer["Body"].read().decode().replace("\n", ",").split(",") if v]
        np.testing.assert_allclose(got, expected, rtol=1e-5)
    # No model server runs from the API server's copy of the model: each runs from its node's.
    folder = str(Path(server.home) / "endpoints" / endpoint)
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and "sagebox.serving" in (proc / "cmdline").read_text():
                assert not str((proc / "cwd").resolve()).startswith(folder)
        except OSError:
            continue


def test_a_node_killed_under_load_loses_no_request_and_its_instance_is_replaced(
    server: ServerProcess, endpoint: str, ray_cluster: RayTestCluster, whole_cluster_after: None
) -> None:
    before = placements(server, endpoint)
    victim = next(
        (p for p in before.values() if ray_cluster.worker_node(p["node"]) is not None), None
    )
    assert victim is not None, f"no instance on a worker node (the head cannot be killed): {before}"
    no_retries = client(
        server,
        "sagemaker-runtime",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=16),
    )
    body = rows(1)
    failures: list[str] = []
    sent = 0
    lock = threading.Lock()

    def traffic() -> None:
        nonlocal sent
        while True:
            with lock:
                if sent >= REQUESTS:
                    return
                sent += 1
            try:
                no_retries.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
            except ClientError as exc:
                failures.append(
                    f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}"
                )
            except Exception as exc:  # noqa: BLE001 - a lost connection to the API counts too
                failures.append(repr(exc))

    workers = [threading.Thread(target=traffic) for _ in range(CONCURRENCY)]
    for worker in workers:
        worker.start()
    while sent < REQUESTS // 5:
        time.sleep(0.01)
    # Killed at once with requests in flight, as a machine lost would be; a fresh node is
    # added back only at the end, so that the replacement must find room on the others.
    ray_cluster.cluster.remove_node(ray_cluster.worker_node(victim["node"]), allow_graceful=False)
    for worker in workers:
        worker.join()
    assert failures == [], (
        f"{len(failures)} of {REQUESTS} requests failed: {sorted(set(failures))[:3]}"
    )

    sagemaker = client(server, "sagemaker")
    deadline = time.time() + 120
    while time.time() < deadline:
        after = placements(server, endpoint)
        fresh = {name: p for name, p in after.items() if name not in before}
        variant = sagemaker.describe_endpoint(EndpointName=endpoint)["ProductionVariants"][0]
        if fresh and variant["CurrentInstanceCount"] == 2:
            break
        time.sleep(0.5)
    assert variant["CurrentInstanceCount"] == variant["DesiredInstanceCount"] == 2
    (replacement,) = fresh.values()
    lost = [p for name, p in after.items() if p["lost"]]
    assert [p["node"] for p in lost] == [victim["node"]]
    survivor = next(p for p in before.values() if p is not victim)
    assert replacement["node"] not in (victim["node"], survivor["node"])
    alive = {n.node_id for n in ray_cluster.cluster.list_all_nodes()}
    assert replacement["node"] in alive
