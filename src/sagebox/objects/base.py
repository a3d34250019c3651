"""The object store interface: S3's bucket/object model, whatever holds the bytes."""

from __future__ import annotations

import abc
import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from sagebox.objects.checksums import checksum_type
from sagebox.objects.errors import InvalidArgument, InvalidRange
from sagebox.objects.uris import parse_s3_uri

DEFAULT_CONTENT_TYPE = "binary/octet-stream"
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10_000
MAX_KEYS = 1000
# The standard HTTP headers S3 stores with an object and returns on GetObject/HeadObject.
STORED_HEADERS = (
    "Cache-Control",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Expires",
)

Body = bytes | BinaryIO
ByteRange = tuple[int, int | None]


@dataclass(frozen=True)
class BucketInfo:
    name: str
    creation_date: datetime


@dataclass(frozen=True)
class ObjectInfo:
    """One object's description, as HeadObject tells it.

    etag is S3's quoted form (`"<md5 hex>"`, or `"<hex>-<parts>"` after a multipart
    upload); last_modified is timezone-aware UTC; checksums maps algorithm names
    ("CRC32", "SHA256", ...) to base64 values, which end in "-<parts>" for COMPOSITE
    multipart checksums. headers holds the STORED_HEADERS the object was written with.
    """

    bucket: str
    key: str
    size: int
    etag: str
    last_modified: datetime
    content_type: str = DEFAULT_CONTENT_TYPE
    metadata: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    parts_count: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def checksum_type(self) -> str | None:
        """COMPOSITE or FULL_OBJECT when the object has a checksum, else None."""
        for value in self.checksums.values():
            return checksum_type(value)
        return None


@dataclass(frozen=True)
class ListPage:
    """One page of a listing; pass `next_continuation` as `start_after` for the next one.

    With a delimiter, `next_continuation` may be a common prefix: listing after it skips
    every key rolled up into that prefix.
    """

    objects: list[ObjectInfo]
    common_prefixes: list[str]
    is_truncated: bool
    next_continuation: str | None


@dataclass(frozen=True)
class PartInfo:
    """One uploaded part of a multipart upload, as ListParts tells it."""

    number: int
    etag: str
    size: int
    last_modified: datetime
    checksums: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PartsPage:
    """One page of ListParts; pass `next_marker` as `part_number_marker` for the next."""

    parts: list[PartInfo]
    is_truncated: bool
    next_marker: int | None
    checksum_algorithm: str | None = None
    checksum_type: str | None = None


@dataclass(frozen=True)
class UploadInfo:
    """One multipart upload in progress, as ListMultipartUploads tells it."""

    key: str
    upload_id: str
    initiated: datetime
    checksum_algorithm: str | None = None
    checksum_type: str | None = None


@dataclass(frozen=True)
class UploadsPage:
    """One page of ListMultipartUploads, ordered by key then initiation; continue after
    (`next_key_marker`, `next_upload_id_marker`)."""

    uploads: list[UploadInfo]
    is_truncated: bool
    next_key_marker: str | None
    next_upload_id_marker: str | None


def resolve_range(byte_range: ByteRange, size: int) -> tuple[int, int]:
    """Inclusive (first, last) byte positions of an HTTP-style range over `size` bytes.

    (start, None) reads to the end; a negative start (-n, None) reads the last n bytes.
    InvalidRange when no byte of the object is selected.
    """
    start, end = byte_range
    if start < 0:
        if end is not None or size == 0:
            raise InvalidRange(resource=f"bytes={start}")
        return max(0, size + start), size - 1
    if start >= size or (end is not None and end < start):
        raise InvalidRange(resource=f"bytes={start}-{'' if end is None else end}")
    last = size - 1 if end is None else min(end, size - 1)
    return start, last


def stored_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """The STORED_HEADERS among `headers` (any case), in their canonical spelling."""
    given = {name.lower(): value for name, value in (headers or {}).items()}
    return {name: given[name.lower()] for name in STORED_HEADERS if name.lower() in given}


def require_key(key: str) -> None:
    if not key:
        raise InvalidArgument("An object key must not be empty.")


class StoreConnection(Protocol):
    """What another machine needs to open the same store (`S3Connection` for an S3 server)."""

    def open(self) -> ObjectStore: ...


class ObjectStore(abc.ABC):
    """Buckets of objects with S3's semantics; one implementation per backend."""

    list_page_size: int = MAX_KEYS  # keys per listing request made by iter_objects

    def connection(self) -> StoreConnection | None:
        """How a process on another machine opens this same store (an S3 server's address
        and credentials); None for a store only this machine holds (a local folder)."""
        return None

    # buckets

    @abc.abstractmethod
    def create_bucket(self, bucket: str) -> None:
        """BucketAlreadyOwnedByYou if it exists; InvalidBucketName per S3's naming rules."""

    @abc.abstractmethod
    def head_bucket(self, bucket: str) -> BucketInfo:
        """NoSuchBucket when it does not exist."""

    @abc.abstractmethod
    def list_buckets(self) -> list[BucketInfo]:
        """Every bucket, by name."""

    @abc.abstractmethod
    def delete_bucket(self, bucket: str) -> None:
        """NoSuchBucket, or BucketNotEmpty while it holds objects."""

    # objects

    @abc.abstractmethod
    def put_object(
        self,
        bucket: str,
        key: str,
        body: Body,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        checksums: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """Stores `body` atomically; `checksums` ({"CRC32": base64}) are verified (BadDigest)
        and kept with the object, as are `headers` (STORED_HEADERS, e.g. Cache-Control)."""

    @abc.abstractmethod
    def get_object(
        self, bucket: str, key: str, *, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, Iterator[bytes]]:
        """The object's description and its bytes in chunks; `byte_range` as resolve_range."""

    @abc.abstractmethod
    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        """NoSuchKey, or NoSuchBucket."""

    @abc.abstractmethod
    def delete_object(self, bucket: str, key: str) -> None:
        """Deleting a missing key succeeds, as in S3."""

    @abc.abstractmethod
    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        max_keys: int = MAX_KEYS,
        start_after: str | None = None,
    ) -> ListPage:
        """Keys in UTF-8 byte order; keys and common prefixes together count toward max_keys."""

    @abc.abstractmethod
    def copy_object(
        self,
        src_bucket: str,
        src_key: str,
        dst_bucket: str,
        dst_key: str,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """Copies keep the source's metadata, content type and headers unless one of
        `metadata`, `content_type` or `headers` is given: then all three are replaced."""

    # multipart uploads

    @abc.abstractmethod
    def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        checksum_algorithm: str | None = None,
        checksum_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """A new upload id; `checksum_algorithm` makes the object carry that checksum,
        COMPOSITE (default) or FULL_OBJECT (CRC algorithms) as `checksum_type` says."""

    @abc.abstractmethod
    def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: Body,
        *,
        checksums: dict[str, str] | None = None,
    ) -> str:
        """The part's ETag; NoSuchUpload for an unknown upload."""

    @abc.abstractmethod
    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> ObjectInfo:
        """Joins the listed (part number, ETag) parts: InvalidPart, InvalidPartOrder,
        EntityTooSmall (every part but the last must be at least 5 MiB)."""

    @abc.abstractmethod
    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """Discards the upload and its parts; NoSuchUpload for an unknown upload."""

    @abc.abstractmethod
    def list_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        max_parts: int = MAX_KEYS,
        part_number_marker: int = 0,
    ) -> PartsPage:
        """The upload's parts numbered above `part_number_marker`, in number order, at
        most `max_parts`; NoSuchUpload for an unknown upload."""

    @abc.abstractmethod
    def list_multipart_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        max_uploads: int = MAX_KEYS,
        key_marker: str = "",
        upload_id_marker: str = "",
    ) -> UploadsPage:
        """The bucket's uploads in progress whose key starts with `prefix`, ordered by key
        (UTF-8 bytes) then initiation time, after the markers as S3 reads them: with only
        `key_marker`, keys after it; with both, that key's uploads after that upload too."""

    # conveniences over s3:// URIs

    def iter_objects(self, uri: str) -> Iterator[ObjectInfo]:
        """Every object under s3://bucket/prefix, across all pages; NoSuchBucket if missing."""
        bucket, prefix = parse_s3_uri(uri)
        start_after: str | None = None
        while True:
            page = self.list_objects(
                bucket, prefix=prefix, max_keys=self.list_page_size, start_after=start_after
            )
            yield from page.objects
            if not page.is_truncated or page.next_continuation is None:
                return
            start_after = page.next_continuation

    def download_file(self, uri: str, path: Path) -> None:
        """Writes one object to `path` atomically, creating its parent folders."""
        bucket, key = parse_s3_uri(uri)
        require_key(key)
        _, chunks = self.get_object(bucket, key)
        with atomic_file(Path(path)) as out:
            for chunk in chunks:
                out.write(chunk)

    def upload_file(self, path: Path, uri: str, *, content_type: str | None = None) -> ObjectInfo:
        bucket, key = parse_s3_uri(uri)
        require_key(key)
        with open(path, "rb") as source:
            return self.put_object(bucket, key, source, content_type=content_type)

    def read_bytes(self, uri: str) -> bytes:
        bucket, key = parse_s3_uri(uri)
        require_key(key)
        _, chunks = self.get_object(bucket, key)
        return b"".join(chunks)


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file written under a temporary name and renamed over `path` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        with open(temp, "xb") as out:
            yield out
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
