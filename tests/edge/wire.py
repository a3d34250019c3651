"""Raw HTTP to a live server and the checks every malformed request's answer must pass."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import httpx

from tests.edge.malformed_json import Malformed

# The edge quotes at most this many characters of an offending value, and lists at most
# ten violations; a message is never longer than this.
MAX_MESSAGE_CHARS = 4096
SIGV4 = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"


def json_target(client: httpx.Client, target: str, body: bytes) -> httpx.Response:
    """POST a JSON 1.1 request for `target` ("SageMaker.ListModels")."""
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
    return client.post("/", content=body, headers=headers)


def check_json_error_shape(response: httpx.Response) -> dict[str, object]:
    """A 4xx in AWS's JSON error shape: `__type`, `message`, X-Amzn-ErrorType; the body."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    document = json.loads(response.content)
    assert isinstance(document, dict), document
    code, message = document.get("__type"), document.get("message")
    assert isinstance(code, str) and code, document
    assert isinstance(message, str) and message, document
    assert len(message) <= MAX_MESSAGE_CHARS, (code, len(message), message[:300])
    assert response.headers.get("x-amzn-errortype", "").split(":")[0] == code, response.headers
    return document


def check_json_answer(response: httpx.Response, request: Malformed) -> None:
    """What any answer to a malformed JSON request must be."""
    status = response.status_code
    assert status < 500, (request.kind, status, response.text[:1000], request.body[:300])
    if request.status is not None:
        assert status == request.status, (request.kind, status, response.text[:500], request.body[:300])
    if request.must_fail:
        assert status >= 400, (request.kind, status, response.text[:300], request.body[:300])
    if status < 400:
        return
    document = check_json_error_shape(response)
    if request.codes:
        assert document["__type"] in request.codes, (request.kind, document, request.body[:300])
    if request.names is not None:
        assert request.names in str(document["message"]), (request.kind, request.names, document)


def check_s3_answer(response: httpx.Response, method: str) -> None:
    """Any S3 answer: no 5xx, and a 4xx carries S3's XML error (bodiless for HEAD)."""
    status = response.status_code
    assert status < 500 or status == 501, (status, response.text[:1000])
    if status < 400 or method == "HEAD":
        return
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Error", response.text[:300]
    assert root.findtext("Code"), response.text[:300]
    assert root.findtext("Message") is not None, response.text[:300]
