"""Signed chunked uploads, checked against the worked examples in AWS's S3 documentation
("Transferring Payload in Multiple Chunks" and "Signature calculations for trailing
headers"): the published seed, chunk and trailer signatures must verify, and any
changed byte must not."""

from __future__ import annotations

import asyncio
import calendar
from datetime import UTC, datetime

import pytest
from starlette.requests import Request

from sagebox.edge.auth import Caller, SigV4Verifier
from sagebox.edge.s3_body import AwsChunkedDecoder
from sagebox.objects.errors import ObjectStoreError
from sagebox.services.access_keys import ACTIVE, AccessKey

KEY = AccessKey(
    access_key_id="AKIAIOSFODNN7EXAMPLE",
    secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    user_name="example",
    user_id="AIDAEXAMPLE",
    status=ACTIVE,
    created=datetime(2013, 5, 24, tzinfo=UTC),
)
SIGNED_AT = calendar.timegm((2013, 5, 24, 0, 0, 0))
PLAIN = {
    "payload": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "signed": "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
    "x-amz-decoded-content-length;x-amz-storage-class",
    "seed": "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
    "chunks": [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ],
    "trailer": "",
}
WITH_TRAILER = {
    "payload": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "signed": "content-encoding;host;x-amz-content-sha256;x-amz-date;"
    "x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
    "seed": "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
    "chunks": [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    ],
    "trailer": "x-amz-checksum-crc32c:sOO8/Q==\r\n"
    "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n",
}


class _Keys:
    """The documentation's one key, as the verifier looks keys up."""

    def peek(self, access_key_id: str) -> AccessKey | None:
        return KEY if access_key_id == KEY.access_key_id else None

    def find(self, access_key_id: str) -> AccessKey | None:
        return self.peek(access_key_id)


def _body(example: dict, chunks: list[str]) -> bytes:
    return (
        f"10000;chunk-signature={chunks[0]}\r\n".encode()
        + b"a" * 65536
        + f"\r\n400;chunk-signature={chunks[1]}\r\n".encode()
        + b"a" * 1024
        + f"\r\n0;chunk-signature={chunks[2]}\r\n".encode()
        + example["trailer"].encode()
        + b"\r\n"
    )


def _request(example: dict, body: bytes) -> Request:
    headers = {
        "host": "s3.amazonaws.com",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": example["payload"],
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        # Signed in the first example: the documented length, whatever the test sends.
        "content-length": "66824" if example is PLAIN else str(len(body)),
        "authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
        f"aws4_request,SignedHeaders={example['signed']},Signature={example['seed']}",
    }
    if example["trailer"]:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32c"
    scope = {
        "type": "http",
        "method": "PUT",
        "scheme": "http",
        "path": "/examplebucket/chunkObject.txt",
        "raw_path": b"/examplebucket/chunkObject.txt",
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    return Request(scope)


async def _no_body() -> bytes:
    return b""


def _verify(example: dict, body: bytes) -> Caller:
    verifier = SigV4Verifier(_Keys(), clock=lambda: SIGNED_AT + 60)  # type: ignore[arg-type]
    return asyncio.run(verifier.verify(_request(example, body), "s3", _no_body))


def _decode(caller: Caller, body: bytes, piece: int = 7000) -> tuple[bytes, dict[str, str]]:
    decoder = AwsChunkedDecoder(caller.chunk_signatures)
    out = b"".join(decoder.feed(body[i : i + piece]) for i in range(0, len(body), piece))
    decoder.finish()
    return out, decoder.trailers


@pytest.mark.parametrize("example", [PLAIN, WITH_TRAILER], ids=["chunks", "chunks-and-trailer"])
def test_the_documented_chunked_upload_verifies(example: dict) -> None:
    body = _body(example, example["chunks"])
    if example is PLAIN:
        assert len(body) == 66824  # the documented Content-Length
    caller = _verify(example, body)
    assert caller.key.access_key_id == KEY.access_key_id
    assert caller.chunk_signatures is not None
    data, trailers = _decode(caller, body)
    assert data == b"a" * 66560
    if example["trailer"]:
        assert trailers["x-amz-checksum-crc32c"] == "sOO8/Q=="


@pytest.mark.parametrize("example", [PLAIN, WITH_TRAILER], ids=["chunks", "chunks-and-trailer"])
def test_a_changed_data_byte_breaks_the_chain(example: dict) -> None:
    body = bytearray(_body(example, example["chunks"]))
    body[65536 + 200] ^= 1  # inside the second chunk's data
    caller = _verify(example, bytes(body))
    with pytest.raises(ObjectStoreError) as raised:
        _decode(caller, bytes(body))
    assert (raised.value.code, raised.value.status) == ("SignatureDoesNotMatch", 403)


def test_a_changed_trailer_breaks_the_trailer_signature() -> None:
    body = _body(WITH_TRAILER, WITH_TRAILER["chunks"]).replace(b"sOO8/Q==", b"AAAAAA==")
    caller = _verify(WITH_TRAILER, body)
    with pytest.raises(ObjectStoreError) as raised:
        _decode(caller, body)
    assert raised.value.code == "SignatureDoesNotMatch"


def test_chunks_without_signatures_are_refused_when_the_request_promised_them() -> None:
    body = b"5\r\nhello\r\n0\r\n\r\n"
    caller = _verify(PLAIN, body)
    with pytest.raises(ObjectStoreError) as raised:
        _decode(caller, body)
    assert raised.value.code == "SignatureDoesNotMatch"


def test_chunks_reordered_are_refused() -> None:
    chunks = PLAIN["chunks"]
    body = _body(PLAIN, [chunks[1], chunks[0], chunks[2]])
    caller = _verify(PLAIN, body)
    with pytest.raises(ObjectStoreError):
        _decode(caller, body)
