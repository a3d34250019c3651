"""The object store backends every contract test runs against."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from sagebox.objects import LocalObjectStore, ObjectStore, S3ObjectStore

BACKENDS = ["local", "moto", "sagebox"]


def _client(endpoint_url: str):  # noqa: ANN202 - boto3 clients are dynamically typed
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if backend == "local":
        return LocalObjectStore(tmp_path / "objects")
    if backend == "moto":
        return S3ObjectStore(_client(request.getfixturevalue("moto_endpoint")))
    server = request.getfixturevalue("sagebox_server")
    return S3ObjectStore(_client(server.endpoint_url))


@pytest.fixture
def bucket(store: ObjectStore) -> str:
    """A fresh bucket for one test (the S3 servers are shared by the whole session)."""
    name = f"contract-{uuid.uuid4().hex[:16]}"
    store.create_bucket(name)
    return name
