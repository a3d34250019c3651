"""`sagebox serve --auth` refuses every forged form, with AWS's code for each protocol.

JSON services (SageMaker, Logs, sagemaker-runtime), the query protocol (STS) and S3's
XML errors: wrong secret, unknown or deleted key, garbage or malformed signatures, no
signature, expired presigned URLs, clock skew beyond 15 minutes, a body that is not the
one signed, and x-amz-* headers added after signing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from sagebox.cli.server_process import ServerProcess
from tests.edge.auth_server import REGION, KeyPair, client, create_key, keys_command, start_server

UNKNOWN_KEY = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
JSON_TYPE = "application/x-amz-json-1.1"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auth-refusals-home")


@pytest.fixture(scope="module")
def key(home: Path) -> KeyPair:
    return create_key(home, "bob")


@pytest.fixture(scope="module")
def server(home: Path, key: KeyPair) -> Iterator[ServerProcess]:
    started = start_server(home, "--auth")
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def bucket(server: ServerProcess, key: KeyPair) -> str:
    name = f"refusals-{uuid.uuid4().hex[:10]}"
    s3 = client("s3", server.endpoint_url, key)
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="object.txt", Body=b"kept")
    return name


def _error(call: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"].get("Message", ""),
    )


CALLS = {
    "sagemaker": lambda c: c.list_training_jobs(),
    "logs": lambda c: c.describe_log_groups(),
    "sts": lambda c: c.get_caller_identity(),
    "s3": lambda c: c.list_buckets(),
}


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("sagemaker", (403, "InvalidSignatureException")),
        ("logs", (403, "InvalidSignatureException")),
        ("sts", (403, "SignatureDoesNotMatch")),
        ("s3", (403, "SignatureDoesNotMatch")),
    ],
)
def test_a_wrong_secret_is_refused(
    server: ServerProcess, key: KeyPair, service: str, expected: tuple[int, str]
) -> None:
    forged = client(service, server.endpoint_url, (key.access_key_id, "x" * 40))
    status, code, message = _error(lambda: CALLS[service](forged))
    assert (status, code) == expected
    assert message.startswith("The request signature we calculated does not match")


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("sagemaker", (400, "UnrecognizedClientException")),
        ("logs", (400, "UnrecognizedClientException")),
        ("sts", (403, "InvalidClientTokenId")),
        ("s3", (403, "InvalidAccessKeyId")),
    ],
)
def test_an_unknown_key_is_refused(
    server: ServerProcess, service: str, expected: tuple[int, str]
) -> None:
    forged = client(service, server.endpoint_url, UNKNOWN_KEY)
    status, code, _ = _error(lambda: CALLS[service](forged))
    assert (status, code) == expected


def test_the_runtime_refuses_an_unknown_key(server: ServerProcess) -> None:
    runtime = client("sagemaker-runtime", server.endpoint_url, UNKNOWN_KEY)
    status, code, message = _error(
        lambda: runtime.invoke_endpoint(EndpointName="e", ContentType="text/csv", Body=b"1")
    )
    assert (status, code) == (400, "UnrecognizedClientException")
    assert message == "The security token included in the request is invalid."


def test_a_deleted_key_is_refused(server: ServerProcess, home: Path) -> None:
    doomed = create_key(home, "carol")
    assert keys_command(home, "delete", doomed.access_key_id).returncode == 0
    forged = client("sagemaker", server.endpoint_url, doomed)
    assert _error(lambda: forged.list_training_jobs())[:2] == (400, "UnrecognizedClientException")


def _signed_sagemaker_request(
    endpoint_url: str, key: KeyPair | tuple[str, str], body: bytes, **headers: str
) -> AWSRequest:
    access_key_id, secret = (
        (key.access_key_id, key.secret_access_key) if isinstance(key, KeyPair) else key
    )
    request = AWSRequest(
        "POST",
        f"{endpoint_url}/",
        data=body,
        headers={
            "X-Amz-Target": "SageMaker.ListTrainingJobs",
            "Content-Type": JSON_TYPE,
            **headers,
        },
    )
    SigV4Auth(Credentials(access_key_id, secret), "sagemaker", REGION).add_auth(request)
    return request


def _send(endpoint_url: str, request: AWSRequest, body: bytes | None = None) -> httpx.Response:
    return httpx.request(
        request.method,
        endpoint_url + "/",
        headers=dict(request.headers.items()),
        content=request.body if body is None else body,
    )


def test_a_garbage_signature_is_refused(server: ServerProcess, key: KeyPair) -> None:
    request = _signed_sagemaker_request(server.endpoint_url, key, b"{}")
    signed = request.headers["Authorization"]
    request.headers.replace_header("Authorization", signed.rsplit("=", 1)[0] + "=" + "0" * 64)
    answer = _send(server.endpoint_url, request)
    assert answer.status_code == 403
    assert answer.json()["__type"] == "InvalidSignatureException"


def test_a_malformed_authorization_header_is_refused(server: ServerProcess) -> None:
    answer = httpx.post(
        server.endpoint_url + "/",
        headers={
            "X-Amz-Target": "SageMaker.ListTrainingJobs",
            "Content-Type": JSON_TYPE,
            "Authorization": "AWS4-HMAC-SHA256 Signature=abc",
            "X-Amz-Date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
        },
        content=b"{}",
    )
    assert answer.status_code == 400
    assert answer.json()["__type"] == "IncompleteSignatureException"


def test_requests_without_any_signature_are_refused(server: ServerProcess, bucket: str) -> None:
    url = server.endpoint_url
    sagemaker = httpx.post(
        url + "/",
        headers={"X-Amz-Target": "SageMaker.ListTrainingJobs", "Content-Type": JSON_TYPE},
        content=b"{}",
    )
    assert sagemaker.status_code == 403
    assert sagemaker.json() == {
        "__type": "MissingAuthenticationTokenException",
        "message": "Missing Authentication Token",
    }
    sts = httpx.post(
        url + "/",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=b"Action=GetCallerIdentity&Version=2011-06-15",
    )
    assert sts.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in sts.text
    s3 = httpx.get(f"{url}/{bucket}/object.txt")
    assert s3.status_code == 403
    assert "<Code>AccessDenied</Code>" in s3.text and "kept" not in s3.text
    runtime = httpx.post(f"{url}/endpoints/e/invocations", content=b"1")
    assert runtime.status_code == 403
    assert runtime.json()["__type"] == "MissingAuthenticationTokenException"


def test_the_health_check_needs_no_signature(server: ServerProcess) -> None:
    assert httpx.get(server.endpoint_url + "/_sagebox/health").status_code == 200


def _at(moment: datetime) -> Any:
    """botocore's signing clock set to `moment`."""
    return mock.patch(
        "botocore.auth.get_current_datetime", return_value=moment.replace(tzinfo=None)
    )


def test_an_expired_presigned_url_is_refused(
    server: ServerProcess, key: KeyPair, bucket: str
) -> None:
    s3 = client("s3", server.endpoint_url, key, signature_version="s3v4")
    with _at(datetime.now(UTC) - timedelta(hours=2)):
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "object.txt"}, ExpiresIn=3600
        )
    answer = httpx.get(url)
    assert answer.status_code == 403
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in answer.text
    assert "<X-Amz-Expires>3600</X-Amz-Expires>" in answer.text


def test_an_expired_legacy_presigned_url_is_refused(
    server: ServerProcess, key: KeyPair, bucket: str
) -> None:
    s3 = client("s3", server.endpoint_url, key)
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "object.txt"}, ExpiresIn=1
    )
    assert "AWSAccessKeyId=" in url
    expires = int(url.split("Expires=")[1].split("&")[0])
    url = url.replace(f"Expires={expires}", f"Expires={expires - 3600}")
    answer = httpx.get(url)
    assert answer.status_code == 403
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in answer.text


def test_a_legacy_presigned_url_with_a_changed_expiry_or_key_is_refused(
    server: ServerProcess, key: KeyPair, bucket: str
) -> None:
    s3 = client("s3", server.endpoint_url, key)
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "object.txt"}, ExpiresIn=60
    )
    expires = int(url.split("Expires=")[1].split("&")[0])
    for forged in (
        url.replace("object.txt", "other.txt"),
        url.replace(f"Expires={expires}", f"Expires={expires + 86400}"),
    ):
        answer = httpx.get(forged)
        assert answer.status_code == 403
        assert "<Code>SignatureDoesNotMatch</Code>" in answer.text
    unknown = client("s3", server.endpoint_url, UNKNOWN_KEY).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "object.txt"}, ExpiresIn=60
    )
    assert "<Code>InvalidAccessKeyId</Code>" in httpx.get(unknown).text


def test_a_presigned_url_with_a_changed_key_is_refused(
    server: ServerProcess, key: KeyPair, bucket: str
) -> None:
    s3 = client("s3", server.endpoint_url, key, signature_version="s3v4")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "object.txt"}, ExpiresIn=60
    )
    answer = httpx.get(url.replace("object.txt", "other.txt"))
    assert answer.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in answer.text


def test_a_presigned_url_lasting_over_a_week_is_refused(
    server: ServerProcess, key: KeyPair, bucket: str
) -> None:
    s3 = client("s3", server.endpoint_url, key, signature_version="s3v4")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "object.txt"}, ExpiresIn=8 * 24 * 3600
    )
    answer = httpx.get(url)
    assert answer.status_code == 400
    assert "<Code>AuthorizationQueryParametersError</Code>" in answer.text


@pytest.mark.parametrize("minutes", [-20, 20])
def test_clock_skew_beyond_15_minutes_is_refused(
    server: ServerProcess, key: KeyPair, minutes: int
) -> None:
    sagemaker = client("sagemaker", server.endpoint_url, key)
    s3 = client("s3", server.endpoint_url, key)
    sts = client("sts", server.endpoint_url, key)
    with _at(datetime.now(UTC) + timedelta(minutes=minutes)):
        status, code, message = _error(lambda: sagemaker.list_training_jobs())
        s3_error = _error(lambda: s3.list_buckets())
        sts_error = _error(lambda: sts.get_caller_identity())
    assert (status, code) == (403, "InvalidSignatureException")
    expected = "Signature expired" if minutes < 0 else "Signature not yet current"
    assert message.startswith(expected)
    assert s3_error[:2] == (403, "RequestTimeTooSkewed")
    assert sts_error[:2] == (403, "SignatureDoesNotMatch") and sts_error[2].startswith(expected)


def test_clock_skew_within_15_minutes_is_accepted(server: ServerProcess, key: KeyPair) -> None:
    sagemaker = client("sagemaker", server.endpoint_url, key)
    with _at(datetime.now(UTC) - timedelta(minutes=10)):
        assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []


def test_a_changed_json_body_is_refused(server: ServerProcess, key: KeyPair) -> None:
    request = _signed_sagemaker_request(server.endpoint_url, key, b'{"MaxResults": 1}')
    answer = _send(server.endpoint_url, request, body=b'{"MaxResults": 9}')
    assert answer.status_code == 403
    assert answer.json()["__type"] == "InvalidSignatureException"


def test_a_json_body_that_is_not_its_signed_hash_is_refused(
    server: ServerProcess, key: KeyPair
) -> None:
    signed_body = b'{"MaxResults": 1}'
    request = _signed_sagemaker_request(
        server.endpoint_url,
        key,
        signed_body,
        **{"X-Amz-Content-SHA256": hashlib.sha256(signed_body).hexdigest()},
    )
    assert _send(server.endpoint_url, request).status_code == 200
    answer = _send(server.endpoint_url, request, body=b'{"MaxResults": 2}')
    assert answer.status_code == 403
    assert "x-amz-content-sha256" in answer.json()["message"]


def test_a_changed_s3_body_is_refused_by_its_signed_hash(
    server: ServerProcess, key: KeyPair, bucket: str
) -> None:
    request = AWSRequest("PUT", f"{server.endpoint_url}/{bucket}/hashed.txt", data=b"signed")
    S3SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "s3", REGION).add_auth(
        request
    )
    headers = dict(request.headers.items())
    answer = httpx.put(
        f"{server.endpoint_url}/{bucket}/hashed.txt", headers=headers, content=b"forged"
    )
    assert answer.status_code == 400
    assert "<Code>XAmzContentSHA256Mismatch</Code>" in answer.text
    answer = httpx.put(
        f"{server.endpoint_url}/{bucket}/hashed.txt", headers=headers, content=b"signed"
    )
    assert answer.status_code == 200


def test_an_unsigned_amz_header_is_refused(
    server: ServerProcess, key: KeyPair, bucket: str
) -> None:
    request = AWSRequest("PUT", f"{server.endpoint_url}/{bucket}/copy.txt")
    S3SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "s3", REGION).add_auth(
        request
    )
    headers = dict(request.headers.items()) | {"x-amz-copy-source": f"/{bucket}/object.txt"}
    answer = httpx.put(f"{server.endpoint_url}/{bucket}/copy.txt", headers=headers)
    assert answer.status_code == 403
    assert "<HeadersNotSigned>x-amz-copy-source</HeadersNotSigned>" in answer.text


def test_a_key_scoped_to_another_service_is_refused(server: ServerProcess, key: KeyPair) -> None:
    request = AWSRequest(
        "POST",
        f"{server.endpoint_url}/",
        data=b"{}",
        headers={"X-Amz-Target": "SageMaker.ListTrainingJobs", "Content-Type": JSON_TYPE},
    )
    SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "s3", REGION).add_auth(request)
    answer = _send(server.endpoint_url, request)
    assert answer.status_code == 400
    assert json.loads(answer.text)["__type"] == "IncompleteSignatureException"


def test_a_signature_with_non_ascii_bytes_is_refused_not_failed(
    server: ServerProcess, key: KeyPair
) -> None:
    request = _signed_sagemaker_request(server.endpoint_url, key, b"{}")
    forged = request.headers["Authorization"].rsplit("=", 1)[0] + "=\xe9" * 3
    headers = {k: v for k, v in request.headers.items() if k != "Authorization"}
    answer = httpx.post(
        server.endpoint_url + "/",
        headers={**headers, "Authorization": forged.encode("latin-1")},
        content=b"{}",
    )
    assert answer.status_code == 403
    assert answer.json()["__type"] == "InvalidSignatureException"
