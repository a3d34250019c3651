"""The scale-out suite shares one Ray cluster between its modules, ended after them."""

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
