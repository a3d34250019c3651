"""S3 request bodies: spooled to a temporary file, decoded, and checked as they arrive.

`Content-Encoding: aws-chunked` bodies (SigV4 streaming, signed or unsigned, with or
without trailing checksums) are decoded to their payload. Content-MD5, the
`x-amz-checksum-<algorithm>` headers or trailers, x-amz-decoded-content-length and a
hex `x-amz-content-sha256` are all verified before the body reaches the store.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from typing import BinaryIO

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from sagebox.edge.chunk_signatures import SCOPE_KEY as CHUNK_SIGNATURES
from sagebox.edge.chunk_signatures import ChunkSignatures
from sagebox.edge.decimal_text import decimal
from sagebox.objects.checksums import DIGEST_SIZES, StreamDigest, verify_content_md5
from sagebox.objects.errors import InvalidRequest, ObjectStoreError, error_for_code

MEMORY_LIMIT = 1024 * 1024
_BATCH = 1024 * 1024
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHECKSUM_HEADER = re.compile(r"x-amz-checksum-([a-z0-9]+)")


@dataclass
class ReceivedBody:
    """A request body rewound to its start; `checksums` are the verified ones sent."""

    file: BinaryIO
    size: int
    checksums: dict[str, str] = field(default_factory=dict)

    def read_all(self) -> bytes:
        self.file.seek(0)
        data = self.file.read()
        self.file.seek(0)
        return data

    def close(self) -> None:
        self.file.close()


def checksum_headers(headers: dict[str, str]) -> dict[str, str]:
    """{ALGORITHM: value} from x-amz-checksum-<algorithm> headers (not -algorithm/-mode/-type)."""
    found = {}
    for name, value in headers.items():
        match = _CHECKSUM_HEADER.fullmatch(name.lower())
        if match and match.group(1).upper() in DIGEST_SIZES:
            found[match.group(1).upper()] = value.strip()
    return found


async def receive_body(
    request: Request, *, checksum_headers_describe_body: bool = True
) -> ReceivedBody:
    """Spools, decodes and verifies the request body; ObjectStoreError when it is not right.

    `checksum_headers_describe_body` is False where x-amz-checksum-* headers describe
    something else (CompleteMultipartUpload's headers describe the whole object).
    """
    headers = {name.lower(): value for name, value in request.headers.items()}
    content_sha256 = headers.get("x-amz-content-sha256", "")
    chunked = "aws-chunked" in headers.get("content-encoding", "") or content_sha256.startswith(
        "STREAMING-"
    )
    expected = checksum_headers(headers) if checksum_headers_describe_body else {}
    trailer_names = [
        name.strip().lower() for name in headers.get("x-amz-trailer", "").split(",") if name.strip()
    ]
    algorithms = set(expected)
    algorithms.update(checksum_headers({name: "" for name in trailer_names}))
    digest = StreamDigest(algorithms)
    payload_sha256 = hashlib.sha256() if _HEX_SHA256.fullmatch(content_sha256) else None
    spool = tempfile.SpooledTemporaryFile(max_size=MEMORY_LIMIT)  # noqa: SIM115 - returned
    decoder = AwsChunkedDecoder(request.scope.get(CHUNK_SIGNATURES)) if chunked else None
    pending = bytearray()

    def write(data: bytes) -> None:
        spool.write(data)
        digest.update(data)
        if payload_sha256 is not None:
            payload_sha256.update(data)

    try:
        async for piece in request.stream():
            pending += decoder.feed(piece) if decoder is not None else piece
            if len(pending) >= _BATCH:
                await run_in_threadpool(write, bytes(pending))
                pending.clear()
        if decoder is not None:
            pending += decoder.finish()
            expected.update(checksum_headers(decoder.trailers))
        await run_in_threadpool(write, bytes(pending))
        sha256 = payload_sha256.hexdigest() if payload_sha256 is not None else None
        _verify(headers, digest, sha256, expected)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return ReceivedBody(spool, digest.size, dict(expected))


def _verify(
    headers: dict[str, str],
    digest: StreamDigest,
    sha256: str | None,
    expected: dict[str, str],
) -> None:
    declared = headers.get("x-amz-decoded-content-length")
    declared_size = decimal(declared) if declared is not None else None
    if declared_size is not None and declared_size != digest.size:
        raise error_for_code(
            "IncompleteBody",
            "You did not provide the number of bytes specified by the "
            "x-amz-decoded-content-length HTTP header.",
        )
    content_md5 = headers.get("content-md5")
    if content_md5 is not None:
        verify_content_md5(content_md5.strip(), digest.md5)
    if sha256 is not None and sha256 != headers["x-amz-content-sha256"]:
        raise error_for_code(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    digest.verify(expected)


class AwsChunkedDecoder:
    """Decodes `aws-chunked`: "<hex size>[;chunk-signature=..]\\r\\n<data>\\r\\n" chunks, a
    zero-size chunk, then optional "name:value" trailer lines and an empty line. With
    `signatures` (a signed chunked upload) each chunk's signature is checked as it ends."""

    def __init__(self, signatures: ChunkSignatures | None = None) -> None:
        self._signatures = signatures
        self._buffer = bytearray()
        self._remaining = 0  # data bytes left in the current chunk
        self._expect_crlf = False
        self._done = False
        self.trailers: dict[str, str] = {}

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        out = bytearray()
        while self._buffer and not self._done:
            if self._remaining:
                take = min(self._remaining, len(self._buffer))
                data = self._buffer[:take]
                out += data
                del self._buffer[:take]
                self._remaining -= take
                self._expect_crlf = self._remaining == 0
                if self._signatures is not None:
                    self._signatures.update(data)
                    if self._expect_crlf:
                        self._signatures.end_chunk()
                continue
            line = self._line()
            if line is None:
                break
            if self._expect_crlf:
                if line:
                    raise _malformed("chunk data is not followed by CRLF")
                self._expect_crlf = False
                continue
            size = _chunk_size(line)
            if self._signatures is not None:
                self._signatures.begin_chunk(_chunk_signature(line))
                if size == 0:
                    self._signatures.end_chunk()
            if size == 0:
                self._done = True
                break
            self._remaining = size
        return bytes(out)

    def finish(self) -> bytes:
        """Reads the trailer; IncompleteBody when the body ended early."""
        if not self._done:
            raise error_for_code(
                "IncompleteBody", "The aws-chunked request body ended before its final chunk."
            )
        text = self._buffer.decode("utf-8", "replace")
        lines = []
        for line in text.split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                lines.append((name.strip().lower(), value.strip()))
                self.trailers[name.strip().lower()] = value.strip()
        if self._signatures is not None:
            self._signatures.end_body(lines)
        return b""

    def _line(self) -> bytes | None:
        end = self._buffer.find(b"\r\n")
        if end < 0:
            if len(self._buffer) > 4096:
                raise _malformed("a chunk header is too long")
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line


def _chunk_size(line: bytes) -> int:
    size_text = line.split(b";", 1)[0].strip()
    try:
        return int(size_text, 16)
    except ValueError as exc:
        raise _malformed(f"bad chunk size {size_text[:20]!r}") from exc


def _chunk_signature(line: bytes) -> str | None:
    for extension in line.split(b";")[1:]:
        name, _, value = extension.partition(b"=")
        if name.strip() == b"chunk-signature":
            return value.strip().decode("ascii", "replace")
    return None


def _malformed(why: str) -> ObjectStoreError:
    return InvalidRequest(f"The aws-chunked request body is malformed: {why}.")
