"""Browser-borne requests: foreign Host names (DNS rebinding) get 400, state-changing
requests from foreign Origins (cross-site forms and fetch) get 403, with auth off.

The server allows the host `sagebox.test` and the origin `http://app.test:3000`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sagebox.cli.server_process import ServerProcess
from tests.edge.auth_server import client, start_server

ALLOWED_HOST = "sagebox.test"
ALLOWED_ORIGIN = "http://app.test:3000"
FOREIGN_ORIGIN = "http://evil.test"
JSON_TYPE = "application/x-amz-json-1.1"
DUMMY = ("test", "test")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    home: Path = tmp_path_factory.mktemp("host-origin-home")
    started = start_server(home, "--allowed-host", ALLOWED_HOST, "--cors-origin", ALLOWED_ORIGIN)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def port(server: ServerProcess) -> str:
    return server.endpoint_url.rsplit(":", 1)[1]


@pytest.fixture(scope="module")
def bucket(server: ServerProcess) -> str:
    name = f"origin-{uuid.uuid4().hex[:10]}"
    s3 = client("s3", server.endpoint_url, DUMMY)
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="keep.txt", Body=b"precious")
    return name


def _list_models(server: ServerProcess, **headers: str) -> httpx.Response:
    return httpx.post(
        server.endpoint_url + "/",
        headers={"X-Amz-Target": "SageMaker.ListModels", "Content-Type": JSON_TYPE, **headers},
        content=b"{}",
    )


@pytest.mark.parametrize(
    "host",
    [
        "evil.test",
        "attacker.example.com:{port}",
        "sagebox.test.evil.test",
        "10.1.2.3",
        "localhostx",
    ],
)
def test_a_foreign_host_gets_400_before_any_handler(
    server: ServerProcess, port: str, bucket: str, host: str
) -> None:
    host = host.format(port=port)
    answer = httpx.get(f"{server.endpoint_url}/{bucket}/keep.txt", headers={"Host": host})
    assert answer.status_code == 400
    assert "<Code>InvalidHostHeader</Code>" in answer.text and "precious" not in answer.text
    json_answer = _list_models(server, Host=host)
    assert json_answer.status_code == 400
    assert json_answer.json()["__type"] == "InvalidHostHeader"


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}",
        "localhost:{port}",
        "localhost",
        "[::1]:{port}",
        "127.0.0.2",
        "sagebox.test:{port}",
        "api.sagebox.test",
    ],
)
def test_loopback_and_allowed_hosts_are_served(server: ServerProcess, port: str, host: str) -> None:
    answer = _list_models(server, Host=host.format(port=port))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"Models": []}


@pytest.mark.parametrize(
    "host",
    ["{bucket}.localhost:{port}", "{bucket}.s3.localhost:{port}", "{bucket}.s3.sagebox.test"],
)
def test_virtual_hosted_buckets_are_served(
    server: ServerProcess, port: str, bucket: str, host: str
) -> None:
    answer = httpx.get(
        f"{server.endpoint_url}/keep.txt", headers={"Host": host.format(bucket=bucket, port=port)}
    )
    assert answer.status_code in (200, 404), answer.text
    assert "InvalidHostHeader" not in answer.text


def test_a_bucket_subdomain_of_localhost_reads_the_object(
    server: ServerProcess, port: str, bucket: str
) -> None:
    answer = httpx.get(
        f"{server.endpoint_url}/keep.txt", headers={"Host": f"{bucket}.localhost:{port}"}
    )
    assert answer.status_code == 200
    assert answer.content == b"precious"


def test_a_foreign_origin_cannot_change_state(server: ServerProcess) -> None:
    answer = _list_models(server, Origin=FOREIGN_ORIGIN)
    assert answer.status_code == 403
    assert answer.json()["__type"] == "AccessDeniedException"
    assert FOREIGN_ORIGIN in answer.json()["message"]


def test_the_servers_own_and_allowed_origins_are_served(server: ServerProcess, port: str) -> None:
    assert _list_models(server, Origin=f"http://127.0.0.1:{port}").status_code == 200
    allowed = _list_models(server, Origin=ALLOWED_ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "x-amzn-RequestId" in allowed.headers["access-control-expose-headers"]


def test_reads_from_a_foreign_origin_are_unaffected(server: ServerProcess, bucket: str) -> None:
    answer = httpx.get(
        f"{server.endpoint_url}/{bucket}/keep.txt", headers={"Origin": FOREIGN_ORIGIN}
    )
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers


def test_an_html_form_cannot_delete_objects(server: ServerProcess, bucket: str) -> None:
    """What `<form method=post enctype=text/plain action=.../bucket?delete>` sends: no
    preflight, a text/plain body, the page's Origin."""
    form_body = b"<Delete><Object><Key>keep.txt</Key></Object><Quiet>true</Quiet></Delete>"
    answer = httpx.post(
        f"{server.endpoint_url}/{bucket}?delete",
        headers={"Content-Type": "text/plain", "Origin": FOREIGN_ORIGIN},
        content=form_body,
    )
    assert answer.status_code == 403
    assert "<Code>AccessDenied</Code>" in answer.text
    s3 = client("s3", server.endpoint_url, DUMMY)
    assert s3.get_object(Bucket=bucket, Key="keep.txt")["Body"].read() == b"precious"
    sandboxed = httpx.delete(f"{server.endpoint_url}/{bucket}/keep.txt", headers={"Origin": "null"})
    assert sandboxed.status_code == 403


def test_preflights_are_answered_for_allowed_origins_only(
    server: ServerProcess, bucket: str
) -> None:
    preflight = {
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,x-amz-date,x-amz-content-sha256",
    }
    allowed = httpx.options(
        f"{server.endpoint_url}/{bucket}/new.txt", headers={"Origin": ALLOWED_ORIGIN, **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "PUT" in allowed.headers["access-control-allow-methods"]
    assert (
        allowed.headers["access-control-allow-headers"]
        == preflight["Access-Control-Request-Headers"]
    )
    foreign = httpx.options(
        f"{server.endpoint_url}/{bucket}/new.txt", headers={"Origin": FOREIGN_ORIGIN, **preflight}
    )
    assert foreign.status_code == 403
    assert "access-control-allow-origin" not in foreign.headers


def test_clients_without_an_origin_are_unaffected(server: ServerProcess, bucket: str) -> None:
    s3 = client("s3", server.endpoint_url, DUMMY)
    s3.put_object(Bucket=bucket, Key="plain.txt", Body=b"x")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "plain.txt"}]})
    assert client("sagemaker", server.endpoint_url, DUMMY).list_models()["Models"] == []
