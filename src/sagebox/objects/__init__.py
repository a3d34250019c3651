"""The object store: S3's buckets and objects over a local folder or any S3 endpoint.

store = open_object_store("file:///var/sagebox/objects")
store = open_object_store("s3://", s3_endpoint_url="http://minio:9000")
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from sagebox.objects.archives import UnsafeArchiveError, pack_folder, unpack_archive
from sagebox.objects.base import (
    DEFAULT_CONTENT_TYPE,
    MIN_PART_SIZE,
    BucketInfo,
    ListPage,
    ObjectInfo,
    ObjectStore,
    resolve_range,
)
from sagebox.objects.errors import (
    AccessDenied,
    BadDigest,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    EntityTooSmall,
    InvalidArgument,
    InvalidBucketName,
    InvalidDigest,
    InvalidPart,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
    KeyTooLongError,
    MalformedXML,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    NotImplementedByStore,
    ObjectStoreError,
    PreconditionFailed,
    UnknownObjectStoreError,
    error_for_code,
)
from sagebox.objects.local import LocalObjectStore
from sagebox.objects.s3 import S3Connection, S3ObjectStore, create_s3_client
from sagebox.objects.uris import parse_s3_uri, s3_uri, validate_bucket_name


def open_object_store(url: str, *, s3_endpoint_url: str | None = None) -> ObjectStore:
    """The store a URL names: "file:///abs/folder", or "s3://" / "s3://<bucket-prefix>", with
    the S3 server's URL as ``?endpoint_url=`` (else `s3_endpoint_url`, else AWS's)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"file URLs must name a local absolute folder, got {url!r}")
        folder = Path(unquote(parsed.path))
        if not folder.is_absolute():
            raise ValueError(f"file URLs must name an absolute folder, got {url!r}")
        return LocalObjectStore(folder)
    if parsed.scheme == "s3":
        prefix = parsed.netloc + parsed.path
        options = parse_qs(parsed.query)
        if "/" in prefix or set(options) - {"endpoint_url"}:
            raise ValueError(
                "an S3 object store URL is s3://[<bucket-prefix>][?endpoint_url=<S3 server URL>], "
                f"got {url!r}"
            )
        endpoint = options["endpoint_url"][-1] if "endpoint_url" in options else s3_endpoint_url
        return S3ObjectStore(create_s3_client(endpoint), bucket_prefix=prefix)
    raise ValueError(f"unsupported object store URL {url!r}: use file:///folder or s3://")


__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "MIN_PART_SIZE",
    "AccessDenied",
    "BadDigest",
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "BucketInfo",
    "BucketNotEmpty",
    "EntityTooSmall",
    "InvalidArgument",
    "InvalidBucketName",
    "InvalidDigest",
    "InvalidPart",
    "InvalidPartOrder",
    "InvalidRange",
    "InvalidRequest",
    "KeyTooLongError",
    "ListPage",
    "LocalObjectStore",
    "MalformedXML",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchUpload",
    "NotImplementedByStore",
    "ObjectInfo",
    "ObjectStore",
    "ObjectStoreError",
    "PreconditionFailed",
    "S3Connection",
    "S3ObjectStore",
    "UnknownObjectStoreError",
    "UnsafeArchiveError",
    "create_s3_client",
    "error_for_code",
    "open_object_store",
    "pack_folder",
    "parse_s3_uri",
    "resolve_range",
    "s3_uri",
    "unpack_archive",
    "validate_bucket_name",
]
