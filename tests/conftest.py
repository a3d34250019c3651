"""Shared fixtures: a live `sagebox serve` and boto3 clients configured only by environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest

if TYPE_CHECKING:
    from tests.ray_cluster import RayTestCluster

from sagebox.cli.server_process import ServerProcess

CLIENT_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def sagebox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the session; AWS_ENDPOINT_URL and dummy credentials point clients at it."""
    fast = {"SAGEBOX_CAPTURE_FLUSH_SECONDS": "0.5", "SAGEBOX_SERVERLESS_IDLE_SECONDS": "3",
            "SAGEBOX_METRICS_FLUSH_SECONDS": "1"}
    server = ServerProcess(tmp_path_factory.mktemp("sagebox-home"), fast).start()
    saved = {key: os.environ.get(key) for key in [*CLIENT_ENV, "AWS_ENDPOINT_URL"]}
    os.environ.update(CLIENT_ENV)
    os.environ["AWS_ENDPOINT_URL"] = server.endpoint_url
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    try:
        yield server
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def s3(sagebox_server: ServerProcess):  # noqa: ANN201 - boto3 clients are dynamically typed
    return boto3.client("s3")


@pytest.fixture(scope="session")
def sagemaker(sagebox_server: ServerProcess):  # noqa: ANN201
    return boto3.client("sagemaker")


@pytest.fixture(scope="session")
def sts(sagebox_server: ServerProcess):  # noqa: ANN201
    return boto3.client("sts")


@pytest.fixture(scope="session")
def runtime(sagebox_server: ServerProcess):  # noqa: ANN201
    from botocore.config import Config

    return boto3.client("sagemaker-runtime", config=Config(max_pool_connections=64))


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[RayTestCluster]:
    """A three-node Ray cluster for one module (skipped without the `ray` extra); gone after
    it, so that its idle daemons do not slow the rest of the suite."""
    pytest.importorskip("ray", reason="the Ray executor tests need the 'ray' extra")
    from tests.ray_cluster import ray_cluster as start

    with start() as cluster:
        yield cluster
