"""The S3 backend: the ObjectStore interface over any S3 endpoint through boto3.

`bucket_prefix` namespaces the buckets this store sees inside a shared account: with
prefix "team-", bucket "data" is the S3 bucket "team-data".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from s3transfer.exceptions import RetriesExceededError

from sagebox.objects.base import (
    DEFAULT_CONTENT_TYPE,
    MAX_KEYS,
    Body,
    BucketInfo,
    ByteRange,
    ListPage,
    ObjectInfo,
    ObjectStore,
    PartInfo,
    PartsPage,
    UploadInfo,
    UploadsPage,
    atomic_file,
    require_key,
    stored_headers,
)
from sagebox.objects.checksums import CHUNK_SIZE, DIGEST_SIZES, normalize_algorithm
from sagebox.objects.errors import (
    BucketAlreadyOwnedByYou,
    InvalidArgument,
    ObjectStoreError,
    error_for_code,
)
from sagebox.objects.uris import parse_s3_uri, validate_bucket_name

T = TypeVar("T")
log = logging.getLogger(__name__)

# How long a whole-file transfer is tried again while the S3 server is away, and the
# backoff between tries (doubling from the first delay up to the largest).
TRANSFER_RETRY_SECONDS = 60.0
TRANSFER_FIRST_DELAY_S = 0.5
TRANSFER_MAX_DELAY_S = 4.0

_LAST_CHARACTER = "\U0010ffff"
_STATUS_CODES = {"404": "NotFound", "403": "AccessDenied", "412": "PreconditionFailed"}
_HEADER_PARAMS = {
    "Cache-Control": "CacheControl",
    "Content-Disposition": "ContentDisposition",
    "Content-Encoding": "ContentEncoding",
    "Content-Language": "ContentLanguage",
    "Expires": "Expires",
}


def create_s3_client(endpoint_url: str | None = None, **credentials: Any) -> Any:
    """A boto3 S3 client with path-style addressing (what S3-compatible servers expect);
    `credentials` (region_name, aws_access_key_id, ...) override boto3's own resolution."""
    config = Config(
        s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"}
    )
    return boto3.client("s3", endpoint_url=endpoint_url, config=config, **credentials)


@dataclass(frozen=True)
class S3Connection:
    """How another machine (a Ray node) reaches the same S3 server as this store: the
    endpoint, the bucket prefix, and the credentials this process resolved. The secrets
    are left out of repr so that they never reach a log."""

    endpoint_url: str | None
    bucket_prefix: str
    region: str | None
    transfer_retry_seconds: float
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    def open(self) -> S3ObjectStore:
        credentials = {
            "region_name": self.region,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "aws_session_token": self.session_token,
        }
        client = create_s3_client(
            self.endpoint_url, **{k: v for k, v in credentials.items() if v is not None}
        )
        store = S3ObjectStore(client, bucket_prefix=self.bucket_prefix)
        store.transfer_retry_seconds = self.transfer_retry_seconds
        return store


class S3ObjectStore(ObjectStore):
    def __init__(self, client: Any, *, bucket_prefix: str = "") -> None:
        self.client = client
        self.bucket_prefix = bucket_prefix
        self.transfer_retry_seconds = TRANSFER_RETRY_SECONDS
        self._part_checksums: dict[str, dict[int, tuple[str, str]]] = {}
        self._lock = threading.Lock()

    def _name(self, bucket: str) -> str:
        return f"{self.bucket_prefix}{bucket}"

    def connection(self) -> S3Connection:
        """This store's S3 server and credentials, for a node to open the same store. The
        credentials are frozen now: temporary ones (an instance role's) last as long as
        they were issued for."""
        frozen = None
        credentials = self.client._request_signer._credentials  # what this client signs with
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
        return S3Connection(
            endpoint_url=self.client.meta.endpoint_url,
            bucket_prefix=self.bucket_prefix,
            region=self.client.meta.region_name,
            transfer_retry_seconds=self.transfer_retry_seconds,
            access_key=frozen.access_key if frozen else None,
            secret_key=frozen.secret_key if frozen else None,
            session_token=frozen.token if frozen else None,
        )

    def _call(
        self, action: Callable[[], T], *, bucket: str = "", key: str = "", upload: str = ""
    ) -> T:
        try:
            return action()
        except ClientError as exc:
            raise self._translate(exc, bucket, key, upload) from exc

    def _translate(self, exc: ClientError, bucket: str, key: str, upload: str) -> ObjectStoreError:
        error = exc.response.get("Error", {})
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400))
        code = str(error.get("Code") or status)
        code = _STATUS_CODES.get(code, code)
        if code == "NotFound":
            code = "NoSuchKey" if key and self._bucket_exists(bucket) else "NoSuchBucket"
        resource = {"NoSuchBucket": bucket, "NoSuchUpload": upload}.get(code, key or bucket)
        return error_for_code(code, error.get("Message") or None, status=status, resource=resource)

    def _bucket_exists(self, bucket: str) -> bool:
        try:
            self.client.head_bucket(Bucket=self._name(bucket))
        except ClientError:
            return False
        return True

    # buckets

    def create_bucket(self, bucket: str) -> None:
        validate_bucket_name(bucket)
        if self._bucket_exists(bucket):
            raise BucketAlreadyOwnedByYou(resource=bucket)
        params: dict[str, Any] = {"Bucket": self._name(bucket)}
        region = self.client.meta.region_name
        if region and region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**params)
        except ClientError as exc:
            failure = self._translate(exc, bucket, "", "")
            if failure.code == "BucketAlreadyExists" and self._bucket_exists(bucket):
                raise BucketAlreadyOwnedByYou(resource=bucket) from exc
            raise failure from exc

    def head_bucket(self, bucket: str) -> BucketInfo:
        self._call(lambda: self.client.head_bucket(Bucket=self._name(bucket)), bucket=bucket)
        for info in self.list_buckets():
            if info.name == bucket:
                return info
        return BucketInfo(bucket, datetime.now(UTC))

    def list_buckets(self) -> list[BucketInfo]:
        found = []
        params: dict[str, Any] = {}
        while True:
            response = self._call(partial(self.client.list_buckets, **params))
            for item in response.get("Buckets", []):
                name = item["Name"]
                if name.startswith(self.bucket_prefix):
                    found.append(BucketInfo(name[len(self.bucket_prefix) :], item["CreationDate"]))
            token = response.get("ContinuationToken")
            if not token:
                return sorted(found, key=lambda info: info.name)
            params = {"ContinuationToken": token}

    def delete_bucket(self, bucket: str) -> None:
        self._call(lambda: self.client.delete_bucket(Bucket=self._name(bucket)), bucket=bucket)

    # objects

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
        require_key(key)
        params: dict[str, Any] = {"Bucket": self._name(bucket), "Key": key, "Body": body}
        params["ContentType"] = content_type or DEFAULT_CONTENT_TYPE
        if metadata:
            params["Metadata"] = dict(metadata)
        params.update(_header_params(headers))
        params.update(_checksum_params(checksums))
        self._call(lambda: self.client.put_object(**params), bucket=bucket, key=key)
        return self.head_object(bucket, key)

    def get_object(
        self, bucket: str, key: str, *, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, Iterator[bytes]]:
        require_key(key)
        params: dict[str, Any] = {
            "Bucket": self._name(bucket),
            "Key": key,
            "ChecksumMode": "ENABLED",
        }
        if byte_range is not None:
            start, end = byte_range
            if start < 0:
                params["Range"] = f"bytes={start}"
            else:
                params["Range"] = f"bytes={start}-{'' if end is None else end}"
        response = self._call(lambda: self.client.get_object(**params), bucket=bucket, key=key)
        size = response["ContentLength"]
        content_range = response.get("ContentRange")
        if content_range and "/" in content_range:
            size = int(content_range.rsplit("/", 1)[1])
        info = _object_info(bucket, key, response, size)
        if byte_range is not None:
            info = _without_checksums(info)
        return info, response["Body"].iter_chunks(CHUNK_SIZE)

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        require_key(key)
        response = self._call(
            lambda: self.client.head_object(
                Bucket=self._name(bucket), Key=key, ChecksumMode="ENABLED"
            ),
            bucket=bucket,
            key=key,
        )
        return _object_info(bucket, key, response, response["ContentLength"])

    def delete_object(self, bucket: str, key: str) -> None:
        require_key(key)
        self._call(
            lambda: self.client.delete_object(Bucket=self._name(bucket), Key=key),
            bucket=bucket,
            key=key,
        )

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        max_keys: int = MAX_KEYS,
        start_after: str | None = None,
    ) -> ListPage:
        if max_keys < 0:
            raise InvalidArgument(
                "max-keys must be a non-negative integer.", resource=str(max_keys)
            )
        params: dict[str, Any] = {
            "Bucket": self._name(bucket),
            "Prefix": prefix,
            "MaxKeys": max_keys,
        }
        if delimiter:
            params["Delimiter"] = delimiter
        if start_after:
            params["StartAfter"] = _past_common_prefix(start_after, prefix, delimiter)
        response = self._call(lambda: self.client.list_objects_v2(**params), bucket=bucket)
        objects = [
            ObjectInfo(
                bucket=bucket,
                key=item["Key"],
                size=item["Size"],
                etag=item["ETag"],
                last_modified=item["LastModified"],
            )
            for item in response.get("Contents", [])
        ]
        prefixes = [item["Prefix"] for item in response.get("CommonPrefixes", [])]
        truncated = bool(response.get("IsTruncated"))
        names = [info.key for info in objects] + prefixes
        last = max(names) if names else None
        return ListPage(objects, prefixes, truncated, last if truncated else None)

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
        require_key(src_key)
        require_key(dst_key)
        params: dict[str, Any] = {
            "Bucket": self._name(dst_bucket),
            "Key": dst_key,
            "CopySource": {"Bucket": self._name(src_bucket), "Key": src_key},
        }
        if metadata is not None or content_type is not None or headers is not None:
            params["MetadataDirective"] = "REPLACE"
            params["Metadata"] = dict(metadata or {})
            params["ContentType"] = content_type or DEFAULT_CONTENT_TYPE
            params.update(_header_params(headers))
        self._call(lambda: self.client.copy_object(**params), bucket=src_bucket, key=src_key)
        return self.head_object(dst_bucket, dst_key)

    # multipart uploads

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
        require_key(key)
        params: dict[str, Any] = {"Bucket": self._name(bucket), "Key": key}
        params["ContentType"] = content_type or DEFAULT_CONTENT_TYPE
        if metadata:
            params["Metadata"] = dict(metadata)
        params.update(_header_params(headers))
        if checksum_algorithm:
            params["ChecksumAlgorithm"] = normalize_algorithm(checksum_algorithm)
            if checksum_type:
                params["ChecksumType"] = checksum_type.upper()
        response = self._call(
            lambda: self.client.create_multipart_upload(**params), bucket=bucket, key=key
        )
        upload_id: str = response["UploadId"]
        if checksum_algorithm:
            with self._lock:
                self._part_checksums[upload_id] = {}
        return upload_id

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
        params: dict[str, Any] = {
            "Bucket": self._name(bucket),
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": part_number,
            "Body": body,
        }
        params.update(_checksum_params(checksums))
        response = self._call(
            lambda: self.client.upload_part(**params), bucket=bucket, key=key, upload=upload_id
        )
        with self._lock:
            remembered = self._part_checksums.get(upload_id)
            if remembered is not None:
                for name in DIGEST_SIZES:
                    value = response.get(f"Checksum{name}")
                    if value:
                        remembered[part_number] = (name, value)
        etag: str = response["ETag"]
        return etag

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> ObjectInfo:
        with self._lock:
            remembered = self._part_checksums.get(upload_id, {})
        listed = []
        for number, etag in parts:
            part: dict[str, Any] = {"PartNumber": number, "ETag": etag}
            if number in remembered:
                name, value = remembered[number]
                part[f"Checksum{name}"] = value
            listed.append(part)
        self._call(
            lambda: self.client.complete_multipart_upload(
                Bucket=self._name(bucket),
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": listed},
            ),
            bucket=bucket,
            key=key,
            upload=upload_id,
        )
        with self._lock:
            self._part_checksums.pop(upload_id, None)
        return self.head_object(bucket, key)

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self._call(
            lambda: self.client.abort_multipart_upload(
                Bucket=self._name(bucket), Key=key, UploadId=upload_id
            ),
            bucket=bucket,
            key=key,
            upload=upload_id,
        )
        with self._lock:
            self._part_checksums.pop(upload_id, None)

    def list_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        max_parts: int = MAX_KEYS,
        part_number_marker: int = 0,
    ) -> PartsPage:
        response = self._call(
            lambda: self.client.list_parts(
                Bucket=self._name(bucket),
                Key=key,
                UploadId=upload_id,
                MaxParts=max_parts,
                PartNumberMarker=part_number_marker,
            ),
            bucket=bucket,
            key=key,
            upload=upload_id,
        )
        parts = [
            PartInfo(
                part["PartNumber"],
                part["ETag"],
                part["Size"],
                part["LastModified"],
                {
                    name: part[f"Checksum{name}"]
                    for name in DIGEST_SIZES
                    if part.get(f"Checksum{name}")
                },
            )
            for part in response.get("Parts", [])
        ]
        truncated = bool(response.get("IsTruncated"))
        return PartsPage(
            parts,
            truncated,
            int(response["NextPartNumberMarker"]) if truncated else None,
            response.get("ChecksumAlgorithm"),
            response.get("ChecksumType"),
        )

    def list_multipart_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        max_uploads: int = MAX_KEYS,
        key_marker: str = "",
        upload_id_marker: str = "",
    ) -> UploadsPage:
        params: dict[str, Any] = {"Bucket": self._name(bucket), "MaxUploads": max_uploads}
        if prefix:
            params["Prefix"] = prefix
        if key_marker:
            params["KeyMarker"] = key_marker
            if upload_id_marker:
                params["UploadIdMarker"] = upload_id_marker
        response = self._call(lambda: self.client.list_multipart_uploads(**params), bucket=bucket)
        uploads = [
            UploadInfo(
                item["Key"],
                item["UploadId"],
                item["Initiated"],
                item.get("ChecksumAlgorithm"),
                item.get("ChecksumType"),
            )
            for item in response.get("Uploads", [])
        ]
        truncated = bool(response.get("IsTruncated"))
        return UploadsPage(
            uploads,
            truncated,
            response.get("NextKeyMarker") if truncated else None,
            response.get("NextUploadIdMarker") if truncated else None,
        )

    # conveniences: boto3's managed transfers (multipart, parallel) for whole files

    def download_file(self, uri: str, path: Path) -> None:
        bucket, key = parse_s3_uri(uri)
        require_key(key)
        target = Path(path)

        def download() -> None:
            with atomic_file(target) as out:
                self._call(
                    lambda: self.client.download_fileobj(self._name(bucket), key, out),
                    bucket=bucket,
                    key=key,
                )

        self._retrying(download, bucket, key)

    def upload_file(self, path: Path, uri: str, *, content_type: str | None = None) -> ObjectInfo:
        """One PUT, or a multipart upload that s3transfer aborts when it fails: a failed
        try leaves the key as it was, never part of the file."""
        bucket, key = parse_s3_uri(uri)
        require_key(key)
        extra = {"ContentType": content_type or DEFAULT_CONTENT_TYPE}

        def upload() -> None:
            # upload_fileobj, not upload_file: the latter hides S3's error in an
            # S3UploadFailedError text; this one raises the ClientError to translate.
            with Path(path).open("rb") as body:
                self._call(
                    lambda: self.client.upload_fileobj(
                        body, self._name(bucket), key, ExtraArgs=extra
                    ),
                    bucket=bucket,
                    key=key,
                )

        self._retrying(upload, bucket, key)
        return self._retrying(lambda: self.head_object(bucket, key), bucket, key)

    def _retrying(self, transfer: Callable[[], T], bucket: str, key: str) -> T:
        """Runs a whole-file transfer again while the S3 server is unreachable or answers
        5xx, with exponential backoff, for up to `transfer_retry_seconds`; then an
        ObjectStoreError saying why.

        Written here rather than left to botocore: its retries are per request, a few, with
        full jitter (they may all fall within a second), which an S3 server restarting for
        several seconds outlasts; a job's input, model or checkpoint must not be lost to that.
        """
        delay = TRANSFER_FIRST_DELAY_S
        deadline = time.monotonic() + self.transfer_retry_seconds
        while True:
            try:
                return transfer()
            except Exception as exc:
                if not _transient(exc):
                    raise
                if time.monotonic() + delay > deadline:
                    if isinstance(exc, ObjectStoreError):
                        raise
                    raise error_for_code(
                        "ServiceUnavailable",
                        f"the S3 server did not answer within {self.transfer_retry_seconds:g} s: {exc}",
                        status=503,
                        resource=key or bucket,
                    ) from exc
                log.warning(
                    "S3 transfer of %s/%s failed (%s); retrying in %.1f s", bucket, key, exc, delay
                )
                time.sleep(delay)
                delay = min(delay * 2, TRANSFER_MAX_DELAY_S)


def _transient(exc: BaseException) -> bool:
    """An error a later try may not meet: no connection, a timeout, or a 5xx / SlowDown answer."""
    if isinstance(exc, (BotoConnectionError, HTTPClientError, RetriesExceededError)):
        return True
    if isinstance(exc, ObjectStoreError):
        return exc.status >= 500 or exc.code in ("SlowDown", "RequestTimeout")
    return False


def _checksum_params(checksums: dict[str, str] | None) -> dict[str, str]:
    return {
        f"Checksum{normalize_algorithm(name)}": value for name, value in (checksums or {}).items()
    }


def _past_common_prefix(start_after: str, prefix: str, delimiter: str | None) -> str:
    """StartAfter that skips a whole common prefix when listing resumes after one."""
    if delimiter and start_after.startswith(prefix) and start_after.endswith(delimiter):
        rest = start_after[len(prefix) : -len(delimiter)]
        if delimiter not in rest:
            return start_after + _LAST_CHARACTER
    return start_after


def _object_info(bucket: str, key: str, response: dict[str, Any], size: int) -> ObjectInfo:
    checksums = {
        name: response[f"Checksum{name}"]
        for name in DIGEST_SIZES
        if response.get(f"Checksum{name}")
    }
    return ObjectInfo(
        bucket=bucket,
        key=key,
        size=size,
        etag=response["ETag"],
        last_modified=response["LastModified"],
        content_type=response.get("ContentType") or DEFAULT_CONTENT_TYPE,
        metadata=dict(response.get("Metadata") or {}),
        checksums=checksums,
        parts_count=response.get("PartsCount"),
        headers=_stored_headers_of(response),
    )


def _header_params(headers: dict[str, str] | None) -> dict[str, Any]:
    """boto3 parameters for the STORED_HEADERS; an Expires that is no HTTP date is left out."""
    params: dict[str, Any] = {}
    for name, value in stored_headers(headers).items():
        if name != "Expires":
            params[_HEADER_PARAMS[name]] = value
            continue
        try:
            params["Expires"] = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
    return params


def _stored_headers_of(response: dict[str, Any]) -> dict[str, str]:
    """The STORED_HEADERS a HeadObject or GetObject response carries."""
    found = {
        name: response[param]
        for name, param in _HEADER_PARAMS.items()
        if name != "Expires" and response.get(param)
    }
    expires = response.get("ExpiresString") or response.get("Expires")
    if isinstance(expires, datetime):
        expires = format_datetime(expires.astimezone(UTC), usegmt=True)
    if expires:
        found["Expires"] = expires
    return found


def _without_checksums(info: ObjectInfo) -> ObjectInfo:
    return ObjectInfo(
        bucket=info.bucket,
        key=info.key,
        size=info.size,
        etag=info.etag,
        last_modified=info.last_modified,
        content_type=info.content_type,
        metadata=info.metadata,
        parts_count=info.parts_count,
        headers=info.headers,
    )
