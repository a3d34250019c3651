"""The Host and Origin rules on their own (the live server tests are in test_host_origin.py)."""

from __future__ import annotations

import socket

import pytest
from starlette.requests import Request

from sagebox.edge.origin import OriginPolicy, ServedHosts, host_name, is_loopback


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("LocalHost:8080", "localhost"),
        ("[::1]:8080", "::1"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("bucket.localhost.", "bucket.localhost"),
        ("10.0.0.5:80", "10.0.0.5"),
    ],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


def test_loopback_binding_serves_loopback_and_allowed_names_only() -> None:
    hosts = ServedHosts("127.0.0.1", ["sagebox.internal", "10.0.0.5"])
    for served in (
        "localhost:1",
        "a.b.localhost",
        "127.0.0.1",
        "127.9.9.9",
        "[::1]:1",
        "sagebox.internal",
        "bucket.s3.sagebox.internal",
        "10.0.0.5",
        "bucket.s3.us-east-1.amazonaws.com",
        None,
        "",
    ):
        assert hosts.serves(served), served
    for refused in (
        "evil.test",
        "sagebox.internal.evil.test",
        "xsagebox.internal",
        "localhost.evil.test",
        "10.0.0.6",
        "amazonaws.com.evil.test",
    ):
        assert not hosts.serves(refused), refused


def test_a_wildcard_binding_serves_ip_literals_and_this_machines_name() -> None:
    hosts = ServedHosts("0.0.0.0")
    assert hosts.serves("192.168.1.20:8080")
    assert hosts.serves(socket.gethostname())
    assert not hosts.serves("rebound.evil.test")


def test_a_star_serves_any_host() -> None:
    assert ServedHosts("127.0.0.1", ["*"]).serves("anything.example")


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "127.1.2.3"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.20", "example.com"))


def _request(method: str, **headers: str) -> Request:
    raw = [(b"host", b"127.0.0.1:8080")] + [
        (name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()
    ]
    return Request(
        {
            "type": "http",
            "method": method,
            "scheme": "http",
            "path": "/",
            "query_string": b"",
            "headers": raw,
        }
    )


def test_the_origin_rule() -> None:
    policy = OriginPolicy(["https://App.Example:3000/"])
    assert not policy.refuses(_request("POST"))
    assert not policy.refuses(_request("POST", origin="http://127.0.0.1:8080"))
    assert not policy.refuses(_request("POST", origin="https://app.example:3000"))
    assert not policy.refuses(_request("GET", origin="http://evil.test"))
    assert not policy.refuses(_request("HEAD", origin="http://evil.test"))
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert policy.refuses(_request(method, origin="http://evil.test"))
    assert policy.refuses(_request("POST", origin="null"))
    assert policy.refuses(_request("POST", origin="http://127.0.0.1:9999"))
