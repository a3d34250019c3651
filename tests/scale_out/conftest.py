"""The scale-out suite shares one Ray cluster between its modules, ended after them; each
module gets a database of its own on the test PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.ray_cluster import RayTestCluster


@pytest.fixture(scope="package")
def ray_cluster() -> Iterator[RayTestCluster]:
    pytest.importorskip("ray", reason="the Ray executor tests need the 'ray' extra")
    from tests.ray_cluster import ray_cluster as start

    with start() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def store_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the module's servers, dropped after it."""
    from tests.postgres_server import PostgresUnavailable, start_server

    try:
        server = start_server()
    except PostgresUnavailable as reason:
        pytest.skip(str(reason))
    url = server.create_database()
    yield url
    server.drop_database(url)
    server.stop()


@pytest.fixture
def whole_cluster_after(ray_cluster: RayTestCluster) -> Iterator[None]:
    """Adds fresh nodes back after a test that killed some, for the modules sharing the cluster."""
    from tests.ray_cluster import NODE, NODES

    yield
    for _ in range(NODES - len(ray_cluster.cluster.list_all_nodes())):
        ray_cluster.cluster.add_node(**NODE)
    ray_cluster.cluster.wait_for_nodes()
