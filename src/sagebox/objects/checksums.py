"""Digests computed while data streams by: the MD5 ETag and S3's flexible checksums.

Checksum values travel base64-encoded, as S3 sends them in `x-amz-checksum-<algorithm>`
headers. CRC32C is verified when the `crc32c` or `google-crc32c` package is importable;
CRC64NVME and the xxHash family are not supported.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from sagebox.objects.errors import BadDigest, InvalidDigest, InvalidRequest, NotImplementedByStore

CHUNK_SIZE = 1024 * 1024

# Every algorithm the S3 model names, with its digest length in bytes.
DIGEST_SIZES: dict[str, int] = {
    "CRC32": 4,
    "CRC32C": 4,
    "CRC64NVME": 8,
    "SHA1": 20,
    "SHA256": 32,
    "SHA512": 64,
    "MD5": 16,
    "XXHASH64": 8,
    "XXHASH3": 8,
    "XXHASH128": 16,
}
FULL_OBJECT_CAPABLE = ("CRC32", "CRC32C", "CRC64NVME")


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc:
    """A 32-bit CRC kept as a running value, digested big-endian as S3 encodes it."""

    def __init__(self, extend: Callable[[bytes, int], int]) -> None:
        self._extend = extend
        self._value = 0

    def update(self, data: bytes, /) -> None:
        self._value = self._extend(data, self._value)

    def digest(self) -> bytes:
        return (self._value & 0xFFFFFFFF).to_bytes(4, "big")


def _crc32c_extend() -> Callable[[bytes, int], int] | None:
    try:
        module: Any = importlib.import_module("crc32c")
    except ImportError:
        pass
    else:
        return lambda data, value: int(module.crc32c(data, value))
    try:
        module = importlib.import_module("google_crc32c")
    except ImportError:
        return None
    return lambda data, value: int(module.extend(value, data))


_CRC32C = _crc32c_extend()


def supported_algorithms() -> tuple[str, ...]:
    found = ["CRC32", "SHA1", "SHA256", "SHA512", "MD5"]
    if _CRC32C is not None:
        found.insert(1, "CRC32C")
    return tuple(found)


def normalize_algorithm(name: str) -> str:
    """The upper-case algorithm name; InvalidRequest for a name S3 does not know."""
    upper = name.upper()
    if upper not in DIGEST_SIZES:
        raise InvalidRequest(
            f"Checksum algorithm {name!r} is not valid; S3 knows {', '.join(DIGEST_SIZES)}."
        )
    return upper


def new_hasher(algorithm: str) -> Hasher:
    """A running hasher for `algorithm`; NotImplemented for the ones sagebox cannot compute."""
    name = normalize_algorithm(algorithm)
    if name == "CRC32":
        return _Crc(zlib.crc32)
    if name == "CRC32C":
        if _CRC32C is None:
            raise NotImplementedByStore(
                "CRC32C checksums are not supported by this server: install the 'crc32c' "
                "or 'google-crc32c' package to enable them, or use CRC32, SHA1 or SHA256."
            )
        return _Crc(_CRC32C)
    if name in ("SHA1", "SHA256", "SHA512", "MD5"):
        return hashlib.new(name.lower())
    raise NotImplementedByStore(
        f"{name} checksums are not supported by this server; use CRC32, SHA1 or SHA256."
    )


def decode_checksum(algorithm: str, value: str) -> bytes:
    """The raw digest of a base64 checksum value; InvalidRequest when it is malformed."""
    name = normalize_algorithm(algorithm)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != DIGEST_SIZES[name]:
        raise InvalidRequest(f"Value for x-amz-checksum-{name.lower()} header is invalid.")
    return raw


def encode_digest(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class StreamDigest:
    """MD5 (for the ETag), size and any flexible checksums of bytes fed in order."""

    def __init__(self, algorithms: Iterable[str] = ()) -> None:
        self._md5 = hashlib.md5()
        self._hashers = {normalize_algorithm(name): new_hasher(name) for name in algorithms}
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        for hasher in self._hashers.values():
            hasher.update(chunk)
        self.size += len(chunk)

    @property
    def md5(self) -> bytes:
        return self._md5.digest()

    @property
    def etag(self) -> str:
        return f'"{self._md5.hexdigest()}"'

    def digests(self) -> dict[str, bytes]:
        return {name: hasher.digest() for name, hasher in self._hashers.items()}

    def checksums(self) -> dict[str, str]:
        return {name: encode_digest(raw) for name, raw in self.digests().items()}

    def verify(self, expected: Mapping[str, str]) -> None:
        """BadDigest when a computed checksum differs from the one the client sent."""
        computed = self.digests()
        for name, value in expected.items():
            algorithm = normalize_algorithm(name)
            if algorithm not in computed:
                raise InvalidRequest(
                    f"The {algorithm} checksum was sent without being announced in x-amz-trailer."
                )
            if decode_checksum(algorithm, value) != computed[algorithm]:
                raise BadDigest(
                    f"The {algorithm} you specified did not match the calculated checksum."
                )


def verify_content_md5(content_md5: str, md5: bytes) -> None:
    """InvalidDigest for a malformed Content-MD5, BadDigest when it does not match."""
    try:
        expected = base64.b64decode(content_md5, validate=True)
    except (binascii.Error, ValueError):
        expected = b""
    if len(expected) != 16:
        raise InvalidDigest()
    if expected != md5:
        raise BadDigest()


def multipart_etag(part_md5s: list[bytes]) -> str:
    """S3's multipart ETag: md5 of the concatenated part MD5 digests, then "-<part count>"."""
    return f'"{hashlib.md5(b"".join(part_md5s)).hexdigest()}-{len(part_md5s)}"'


def composite_checksum(algorithm: str, part_digests: list[bytes]) -> str:
    """S3's COMPOSITE multipart checksum: the checksum of the part checksums, "-<count>"."""
    hasher = new_hasher(algorithm)
    for digest in part_digests:
        hasher.update(digest)
    return f"{encode_digest(hasher.digest())}-{len(part_digests)}"


def checksum_type(value: str) -> str:
    """COMPOSITE for a multipart "<base64>-<n>" checksum, FULL_OBJECT otherwise."""
    return "COMPOSITE" if "-" in value else "FULL_OBJECT"
