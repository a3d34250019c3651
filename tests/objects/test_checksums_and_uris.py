"""Checksum helpers and s3:// URIs."""

from __future__ import annotations

import base64
import hashlib
import zlib

import pytest

from sagebox.objects import BadDigest, InvalidRequest, NotImplementedByStore, parse_s3_uri
from sagebox.objects.checksums import (
    StreamDigest,
    composite_checksum,
    decode_checksum,
    multipart_etag,
    new_hasher,
    supported_algorithms,
    verify_content_md5,
)
from sagebox.objects.errors import InvalidDigest


def test_stream_digest_matches_hashlib_and_zlib() -> None:
    digest = StreamDigest(["crc32", "SHA256"])
    for piece in (b"hello ", b"world"):
        digest.update(piece)
    assert digest.size == 11
    assert digest.etag == f'"{hashlib.md5(b"hello world").hexdigest()}"'
    crc = base64.b64encode(zlib.crc32(b"hello world").to_bytes(4, "big")).decode()
    assert digest.checksums()["CRC32"] == crc
    digest.verify({"CRC32": crc})
    with pytest.raises(
        BadDigest, match="The CRC32 you specified did not match the calculated checksum."
    ):
        digest.verify({"crc32": base64.b64encode(b"\0\0\0\0").decode()})


def test_malformed_and_unsupported_checksums() -> None:
    with pytest.raises(InvalidRequest):
        decode_checksum("CRC32", "not-base64")
    with pytest.raises(InvalidRequest):
        decode_checksum("SHA256", base64.b64encode(b"short").decode())
    with pytest.raises(InvalidRequest):
        new_hasher("ADLER32")
    with pytest.raises(NotImplementedByStore) as unsupported:
        new_hasher("CRC64NVME")
    assert unsupported.value.status == 501
    if "CRC32C" not in supported_algorithms():
        with pytest.raises(NotImplementedByStore, match="crc32c"):
            new_hasher("CRC32C")


def test_content_md5() -> None:
    md5 = hashlib.md5(b"x").digest()
    verify_content_md5(base64.b64encode(md5).decode(), md5)
    with pytest.raises(InvalidDigest):
        verify_content_md5("???", md5)
    with pytest.raises(BadDigest):
        verify_content_md5(base64.b64encode(hashlib.md5(b"y").digest()).decode(), md5)


def test_multipart_forms() -> None:
    parts = [hashlib.md5(b"a").digest(), hashlib.md5(b"b").digest()]
    assert multipart_etag(parts) == f'"{hashlib.md5(b"".join(parts)).hexdigest()}-2"'
    crcs = [zlib.crc32(b"a").to_bytes(4, "big"), zlib.crc32(b"b").to_bytes(4, "big")]
    expected = base64.b64encode(zlib.crc32(b"".join(crcs)).to_bytes(4, "big")).decode()
    assert composite_checksum("CRC32", crcs) == f"{expected}-2"


def test_parse_s3_uri() -> None:
    assert parse_s3_uri("s3://bucket/a/b.csv") == ("bucket", "a/b.csv")
    assert parse_s3_uri("s3://bucket/") == ("bucket", "")
    assert parse_s3_uri("s3://bucket") == ("bucket", "")
    for bad in ("http://bucket/key", "s3://", "s3:///key", "bucket/key"):
        with pytest.raises(ValueError, match="s3://bucket"):
            parse_s3_uri(bad)
