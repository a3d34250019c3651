"""An endpoint on Ray driven by one of two API servers sharing a PostgreSQL store: the other
server invokes it (routing to the instances recorded in the store), and when the owner is
killed (SIGKILL) while a client sends requests through the other, no request fails, the
other server takes the endpoint's lease within 30 s, starts instances of its own, ends the
ones the dead server left, and then serves DescribeEndpoint, UpdateEndpoint and
DeleteEndpoint, which ends its instances.

Real parts: the three-node Ray test cluster, a PostgreSQL server, two `sagebox serve`
processes (the Ray executor, one shared objects folder), boto3.
"""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost
from botocore.config import Config
from botocore.exceptions import ClientError

from sagebox.cli.server_process import ServerProcess
from sagebox.store import MetadataStore
from tests.conftest import CLIENT_ENV
from tests.ray_cluster import EXECUTOR_URL, RayTestCluster
from tests.scale_out.support import client, small_booster, xgboost_model
from tests.services.training.jobs import unique

TAKEOVER_LIMIT_S = 30
CONCURRENCY = 2


def server_id(server: ServerProcess) -> str:
    for line in list(server.output):
        found = re.match(r"server id (\S+): ", line)
        if found:
            return found.group(1)
    raise AssertionError("the server did not say its id:\n" + "".join(server.output))


@pytest.fixture(scope="module")
def store(store_url: str) -> Iterator[MetadataStore]:
    """The store as the servers see it: the leases and the endpoint's record."""
    opened = MetadataStore(store_url)
    yield opened
    opened.close()


def start_pair(
    store_url: str, tmp_path_factory: pytest.TempPathFactory, executor: list[str]
) -> list[ServerProcess]:
    """Two servers on the shared store and objects folder, each with its own home."""
    objects = tmp_path_factory.mktemp("shared-objects")
    arguments = ["--store", store_url, "--objects", f"file://{objects}", *executor]
    started = [
        ServerProcess(tmp_path_factory.mktemp("server-home"), CLIENT_ENV, arguments)
        for _ in range(2)
    ]
    threads = [threading.Thread(target=server.start) for server in started]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return started


def end_instances(store_url: str, executor: str | None) -> None:
    """Ends the instances the stopped servers left running (with several servers they outlive
    their server), whatever a failed test left behind."""
    from sagebox.runtime import open_executor
    from sagebox.services.hosting.routes import recorded_tokens

    store = MetadataStore(store_url)
    ending = open_executor(executor)
    try:
        statuses = ["InService", "Creating", "Updating", "Deleting", "Failed"]
        for record in store.resources("Endpoint").list_by_status(statuses):
            for token in recorded_tokens(record.document["_sagebox"]):
                ending.end_leftovers(token)
    finally:
        store.close()


@pytest.fixture
def local_pair(
    store_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two servers with the local executor: the model servers run on this machine. Each pair
    lives for its test only: servers left on the shared store would adopt the other pair's
    endpoint when its owner is killed (their executor cannot serve it)."""
    started = start_pair(store_url, tmp_path_factory, [])
    yield started[0], started[1]
    for server in started:
        server.stop()
    end_instances(store_url, None)


@pytest.fixture
def ray_pair(
    ray_cluster: RayTestCluster, store_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two servers whose model servers run on the Ray test cluster."""
    started = start_pair(store_url, tmp_path_factory, ["--executor", EXECUTOR_URL])
    yield started[0], started[1]
    for server in started:
        server.stop()
    end_instances(store_url, EXECUTOR_URL)


@pytest.fixture(scope="module")
def booster() -> xgboost.Booster:
    return small_booster(40, 3, depth=2, rounds=5)


def ray_actor_alive(token: dict[str, Any]) -> bool:
    """Whether the Ray actor of an instance's model server is alive (this process joins the
    cluster to see)."""
    import ray

    from sagebox.runtime.ray_executor import NAMESPACE, RayExecutor

    RayExecutor.from_url(EXECUTOR_URL).connect()
    try:
        ray.get_actor(f"sagebox-{token['marker']}-model-server", namespace=NAMESPACE)
    except ValueError:
        return False
    return True


def process_alive(token: dict[str, Any]) -> bool:
    """Whether the local process of an instance's model server runs (not ended, not a zombie)."""
    for pid in token["pids"]:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            return True
    return False


def rows(count: int) -> bytes:
    features = np.random.default_rng(1).normal(size=(count, 3))
    buffer = io.StringIO()
    np.savetxt(buffer, features, delimiter=",", fmt="%.10g")
    return buffer.getvalue().encode()


def predictions(answer: dict[str, Any]) -> list[float]:
    text = answer["Body"].read().decode().replace("\n", ",")
    return [float(v) for v in text.split(",") if v]


def recorded(store: MetadataStore, name: str) -> dict[str, Any]:
    """The endpoint's `_sagebox` state: `serving` and each deployment's instances."""
    record = store.resources("Endpoint").get(name)
    assert record is not None
    return record.document["_sagebox"]


def tokens(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        server["token"]
        for entry in (state.get("instances") or {}).values()
        for instances in entry["ProductionVariants"].values()
        for instance in instances
        for server in instance["servers"]
    ]


def model_config(server: ServerProcess, booster: xgboost.Booster, count: int) -> str:
    sagemaker = client(server, "sagemaker")
    _, model = xgboost_model(server, booster, "ep-two-servers")
    config = unique("config")
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InitialInstanceCount": count,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    return config


def test_on_one_machine_the_other_server_invokes_and_takes_the_endpoint_over(
    local_pair: tuple[ServerProcess, ServerProcess], store: MetadataStore, booster: xgboost.Booster
) -> None:
    """The local executor: instances on this machine's loopback, reached by both servers."""
    exercise(*local_pair, store, booster, process_alive)


def test_on_ray_the_other_server_invokes_and_takes_the_endpoint_over(
    ray_pair: tuple[ServerProcess, ServerProcess], store: MetadataStore, booster: xgboost.Booster
) -> None:
    """The Ray executor: instances are detached actors on the nodes, outliving their server."""
    exercise(*ray_pair, store, booster, ray_actor_alive)


def exercise(
    owner: ServerProcess,
    other: ServerProcess,
    store: MetadataStore,
    booster: xgboost.Booster,
    ray_actors: Callable[[dict[str, Any]], bool],
) -> None:
    at_owner, at_other = client(owner, "sagemaker"), client(other, "sagemaker")
    config = model_config(owner, booster, 2)
    name = unique("endpoint")
    arn = at_owner.create_endpoint(EndpointName=name, EndpointConfigName=config)["EndpointArn"]
    at_owner.get_waiter("endpoint_in_service").wait(
        EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    assert store.leases.get(arn).owner == server_id(owner)
    first = recorded(store, name)
    old_tokens = tokens(first)
    assert len(old_tokens) == 2 and all(ray_actors(t) for t in old_tokens)
    addresses = {
        s["url"]
        for i in first["instances"][first["serving"]]["ProductionVariants"]["AllTraffic"]
        for s in i["servers"]
    }
    assert len(addresses) == 2, addresses

    # The other server routes to the owner's instances, found in the store.
    body = rows(3)
    expected = booster.predict(xgboost.DMatrix(np.loadtxt(io.BytesIO(body), delimiter=",")))
    runtime = client(other, "sagemaker-runtime")
    for _ in range(4):
        answer = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=body)
        np.testing.assert_allclose(predictions(answer), expected, rtol=1e-5)

    # A DeleteEndpoint at the other server: the owner ends the instances and the record.
    second = unique("endpoint")
    at_owner.create_endpoint(EndpointName=second, EndpointConfigName=config)
    at_owner.get_waiter("endpoint_in_service").wait(
        EndpointName=second, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    second_tokens = tokens(recorded(store, second))
    at_other.delete_endpoint(EndpointName=second)
    deadline = time.time() + 30
    while at_other.list_endpoints(NameContains=second)["Endpoints"]:
        assert time.time() < deadline, "the owner did not delete the endpoint"
        time.sleep(0.2)
    assert second_tokens and not any(ray_actors(t) for t in second_tokens)

    # A change requested at the other server is recorded there and carried out by the owner.
    at_other.update_endpoint_weights_and_capacities(
        EndpointName=name,
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredWeight": 0.5}],
    )
    deadline = time.time() + 30
    while (described := at_owner.describe_endpoint(EndpointName=name))[
        "EndpointStatus"
    ] != "InService":
        assert time.time() < deadline, described["EndpointStatus"]
        time.sleep(0.2)
    assert described["ProductionVariants"][0]["CurrentWeight"] == 0.5  # the owner's fleet

    # Traffic through the other server while the owner is killed.
    no_retries = client(
        other,
        "sagemaker-runtime",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=8),
    )
    one = rows(1)
    failures: list[str] = []
    sent = 0
    done = threading.Event()

    def traffic() -> None:
        nonlocal sent
        while not done.is_set():
            sent += 1
            try:
                no_retries.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=one)
            except ClientError as exc:
                failures.append(
                    f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}"
                )
            except Exception as exc:  # noqa: BLE001 - a lost connection to the API counts too
                failures.append(repr(exc))
            time.sleep(0.01)

    workers = [threading.Thread(target=traffic) for _ in range(CONCURRENCY)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(1)
        owner.kill()
        killed = time.time()
        while (lease := store.leases.get(arn)) is None or lease.owner != server_id(other):
            assert time.time() - killed < TAKEOVER_LIMIT_S, f"no takeover yet: {lease}"
            time.sleep(0.2)
        taken = time.time() - killed
        # The new owner starts its own instances, then ends the ones the dead server left.
        deadline = time.time() + 120
        while True:
            state = recorded(store, name)
            if state["serving"] != first["serving"] and len(state["instances"]) == 1:
                break
            assert time.time() < deadline, f"the new owner did not replace the instances: {state}"
            time.sleep(0.5)
        time.sleep(1)
    finally:
        done.set()
        for worker in workers:
            worker.join()
    print(f"lease taken {taken:.1f} s after the kill; {sent} requests, {len(failures)} failed")
    assert failures == [], f"{len(failures)} of {sent} requests failed: {sorted(set(failures))[:3]}"
    assert sent > 50
    assert not any(ray_actors(t) for t in old_tokens), "the dead server's instances still run"
    new_tokens = tokens(state)
    assert len(new_tokens) == 2 and all(ray_actors(t) for t in new_tokens)

    described = at_other.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "InService"
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    answer = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=body)
    np.testing.assert_allclose(predictions(answer), expected, rtol=1e-5)

    # The new owner serves UpdateEndpoint (blue/green, to one instance) and DeleteEndpoint.
    smaller = model_config(other, booster, 1)
    at_other.update_endpoint(EndpointName=name, EndpointConfigName=smaller)
    deadline = time.time() + 120
    while at_other.describe_endpoint(EndpointName=name)["EndpointStatus"] != "InService":
        assert time.time() < deadline
        time.sleep(0.5)
    assert at_other.describe_endpoint(EndpointName=name)["EndpointConfigName"] == smaller
    while any(ray_actors(t) for t in new_tokens):  # the old fleet drains, then ends
        assert time.time() < deadline, "the previous configuration's instances still run"
        time.sleep(0.5)
    updated = recorded(store, name)
    assert len(tokens(updated)) == 1
    answer = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=body)
    np.testing.assert_allclose(predictions(answer), expected, rtol=1e-5)

    at_other.delete_endpoint(EndpointName=name)
    with pytest.raises(ClientError, match="Could not find endpoint"):
        at_other.describe_endpoint(EndpointName=name)
    assert not any(ray_actors(t) for t in tokens(updated))
    assert store.leases.get(arn) is None
