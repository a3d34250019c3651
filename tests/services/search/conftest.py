"""A PostgreSQL server for the Search tests that run on both store backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_server import PostgresServer, PostgresUnavailable, start_server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = start_server()
    except PostgresUnavailable as reason:
        pytest.skip(str(reason))
    yield server
    server.stop()
