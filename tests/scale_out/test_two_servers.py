"""Two `sagebox serve` processes on one PostgreSQL store: both serve the same resources,
exactly one drives each resource's background work (its lease), a Stop sent to the other
one is carried out by the owner, and when the owner is killed the other takes over its
tuning job within 30 s, which completes within its budget with no trial run twice.

Real parts: a PostgreSQL server started here, two server processes sharing one objects
folder, the local executor (both servers are on this machine).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from sagebox.cli.server_process import ServerProcess
from sagebox.store import MetadataStore
from tests.conftest import CLIENT_ENV
from tests.services.training.jobs import channel, csv_bytes, job_request, unique, wait_for
from tests.services.tuning.conftest import config, definition, wait_tuning

TAKEOVER_LIMIT_S = 30


@pytest.fixture(scope="module")
def leases(store_url: str) -> Iterator[Any]:
    """The leases table, read as the servers see it."""
    store = MetadataStore(store_url)
    yield store.leases
    store.close()


@pytest.fixture(scope="module")
def start(
    store_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], ServerProcess]]:
    """Starts one more server on the shared store and objects folder, each with its own home."""
    objects = tmp_path_factory.mktemp("shared-objects")
    servers: list[ServerProcess] = []

    def one() -> ServerProcess:
        home = tmp_path_factory.mktemp("server-home")
        arguments = ["--store", store_url, "--objects", f"file://{objects}"]
        server = ServerProcess(home, CLIENT_ENV, arguments).start()
        servers.append(server)
        return server

    yield one
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def pair(start: Callable[[], ServerProcess]) -> tuple[ServerProcess, ServerProcess]:
    with ThreadPoolExecutor(2) as pool:  # two processes start faster side by side
        first, second = (pool.submit(start) for _ in range(2))
        return first.result(), second.result()


def client(server: ServerProcess, name: str) -> Any:
    return boto3.client(
        name,
        endpoint_url=server.endpoint_url,
        aws_access_key_id=CLIENT_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CLIENT_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=CLIENT_ENV["AWS_DEFAULT_REGION"],
    )


def server_id(server: ServerProcess) -> str:
    for line in list(server.output):
        found = re.match(r"server id (\S+): ", line)
        if found:
            return found.group(1)
    raise AssertionError("the server did not say its id:\n" + "".join(server.output))


def wait_released(leases: Any, arn: str, timeout: float = 10) -> None:
    """The lease goes right after the job's end is written."""
    deadline = time.time() + timeout
    while (lease := leases.get(arn)) is not None:
        assert time.time() < deadline, f"still leased: {lease}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def bucket(pair: tuple[ServerProcess, ServerProcess]) -> str:
    s3 = client(pair[0], "s3")
    name = unique("two-servers")
    s3.create_bucket(Bucket=name)
    data = load_diabetes()
    s3.put_object(
        Bucket=name,
        Key="diabetes/train/data.csv",
        Body=csv_bytes(data.data[:300], data.target[:300]),
    )
    s3.put_object(
        Bucket=name,
        Key="diabetes/validation/data.csv",
        Body=csv_bytes(data.data[300:], data.target[300:]),
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4_000, 20))
    y = x[:, 0] * 3 + np.sin(x[:, 1] * 2) + rng.normal(scale=0.3, size=len(x))
    for part in ("train", "validation"):
        s3.put_object(Bucket=name, Key=f"long/{part}/data.csv", Body=csv_bytes(x, y))
    return name


def test_both_servers_serve_the_same_resources_and_a_stop_at_either_reaches_the_owner(
    pair: tuple[ServerProcess, ServerProcess], bucket: str, leases: Any
) -> None:
    owner, other = pair
    at_owner, at_other = client(owner, "sagemaker"), client(other, "sagemaker")
    assert (
        client(other, "s3").head_object(Bucket=bucket, Key="diabetes/train/data.csv")[
            "ContentLength"
        ]
        > 0
    )

    training = unique("long")
    at_owner.create_training_job(
        **job_request(
            training,
            bucket,
            [channel("train", f"s3://{bucket}/long/train/")],
            HyperParameters={"objective": "reg:squarederror", "num_round": "100000"},
        )
    )
    tuning = unique("long-tuning")[:32]
    ranges = {"CategoricalParameterRanges": [{"Name": "max_depth", "Values": ["3", "4"]}]}
    at_owner.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning,
        HyperParameterTuningJobConfig=config("Grid", max_jobs=2, parallel=1, ranges=ranges),
        TrainingJobDefinition=definition(
            bucket, "long", static={"objective": "reg:squarederror", "num_round": "100000"}
        ),
    )
    described = wait_for(at_other, training, statuses=("Training",))
    assert described["TrainingJobStatus"] == "InProgress"
    listed = at_other.list_training_jobs(NameContains=training)["TrainingJobSummaries"]
    assert [j["TrainingJobName"] for j in listed] == [training]
    arn = described["TrainingJobArn"]
    lease = leases.get(arn)
    assert lease is not None and lease.owner == server_id(owner) and lease.seconds_left > 0
    tuning_arn = at_other.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning)[
        "HyperParameterTuningJobArn"
    ]
    assert leases.get(tuning_arn).owner == server_id(owner)

    # The other server records the stops; the owner, which runs the work, carries them out.
    at_other.stop_training_job(TrainingJobName=training)
    stopped = wait_for(at_other, training, timeout=30)
    assert stopped["TrainingJobStatus"] == "Stopped"
    wait_released(leases, arn)  # the work has ended: its lease is let go

    deadline = time.time() + 60
    while not at_other.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning
    )["TrainingJobSummaries"]:
        assert time.time() < deadline, "the tuning job started no trial"
        time.sleep(0.2)
    at_other.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning)
    ended = wait_tuning(at_owner, tuning, timeout=60)
    assert ended["HyperParameterTuningJobStatus"] == "Stopped"
    trials = at_owner.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning
    )["TrainingJobSummaries"]
    assert [t["TrainingJobStatus"] for t in trials] == ["Stopped"]


def test_the_owner_killed_another_server_takes_its_tuning_job_over_within_30_s(
    start: Callable[[], ServerProcess],
    pair: tuple[ServerProcess, ServerProcess],
    bucket: str,
    leases: Any,
) -> None:
    owner = start()  # killed below; the module's pair stays up, either of them may take over
    survivor = pair[1]
    survivors = {server_id(server) for server in pair}
    at_owner, at_survivor = client(owner, "sagemaker"), client(survivor, "sagemaker")
    depths = ["2", "3", "4"]
    name = unique("takeover")[:32]
    arn = at_owner.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig=config(
            "Grid",
            max_jobs=3,
            parallel=2,
            ranges={"CategoricalParameterRanges": [{"Name": "max_depth", "Values": depths}]},
        ),
        TrainingJobDefinition=definition(
            bucket, static={"objective": "reg:squarederror", "num_round": "300"}
        ),
    )["HyperParameterTuningJobArn"]
    assert leases.get(arn).owner == server_id(owner)
    deadline = time.time() + 120
    while True:  # kill it with a trial done and trials running
        counters = at_survivor.describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name
        )["TrainingJobStatusCounters"]
        if counters["Completed"] >= 1 and counters["InProgress"] >= 1:
            break
        assert time.time() < deadline, counters
        time.sleep(0.1)
    owner.kill()
    killed_at = time.time()

    while (lease := leases.get(arn)) is None or lease.owner not in survivors:
        assert time.time() - killed_at < TAKEOVER_LIMIT_S, f"not taken over: {lease}"
        time.sleep(0.2)
    takeover_s = time.time() - killed_at
    print(f"tuning job taken over {takeover_s:.1f} s after its server was killed")

    described = wait_tuning(at_survivor, name, timeout=180)
    assert described["HyperParameterTuningJobStatus"] == "Completed", described.get("FailureReason")
    trials = at_survivor.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, MaxResults=100
    )["TrainingJobSummaries"]
    # Within its budget, every configuration once: none run twice, none skipped.
    assert sorted(t["TunedHyperParameters"]["max_depth"] for t in trials) == depths
    assert len({t["TrainingJobName"] for t in trials}) == len(trials) == 3
    assert sum(described["TrainingJobStatusCounters"].values()) == 3
    assert described["TrainingJobStatusCounters"]["Completed"] >= 1
    failed = [t for t in trials if t["TrainingJobStatus"] == "Failed"]
    assert failed  # the trials running at the kill: their server died, no one could finish them
    for trial in failed:  # a trial the dead server was running failed, saying why
        assert trial["FailureReason"].startswith("InternalServerError: the sagebox server stopped")
    assert described["TrainingJobStatusCounters"]["RetryableError"] == len(failed)
    wait_released(leases, arn)
