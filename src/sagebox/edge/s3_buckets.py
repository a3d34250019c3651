"""S3 bucket operations and listings: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
GetBucketLocation, ListObjectsV2 and ListObjects."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sagebox.edge import rest_xml
from sagebox.edge.s3_body import receive_body
from sagebox.edge.s3_wire import S3Call, empty_response, xml_response
from sagebox.objects.base import MAX_KEYS, ListPage
from sagebox.objects.errors import InvalidArgument, MalformedXML
from sagebox.service_models import service_model

OWNER = {
    "ID": "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a",
    "DisplayName": "sagebox",
}


def _output(operation: str) -> Any:
    return service_model("s3").operation_model(operation).output_shape


async def list_buckets(call: S3Call) -> Response:
    buckets = await run_in_threadpool(call.objects.list_buckets)
    prefix = call.query.get("prefix", "")
    data = {
        "Buckets": [
            {"Name": info.name, "CreationDate": info.creation_date, "BucketRegion": call.region}
            for info in buckets
            if info.name.startswith(prefix)
        ],
        "Owner": OWNER,
        "Prefix": prefix or None,
    }
    body = rest_xml.document("ListAllMyBucketsResult", _output("ListBuckets"), data)
    return xml_response(body, call.request_id)


async def create_bucket(call: S3Call) -> Response:
    received = await receive_body(call.request)
    try:
        if received.size and rest_xml.parse(received.read_all()) is None:
            raise MalformedXML()
    finally:
        received.close()
    await run_in_threadpool(call.objects.create_bucket, call.bucket)
    return empty_response(call.request_id, 200, {"Location": f"/{call.bucket}"})


async def head_bucket(call: S3Call) -> Response:
    await run_in_threadpool(call.objects.head_bucket, call.bucket)
    headers = {"x-amz-bucket-region": call.region}
    return empty_response(call.request_id, 200, headers)


async def delete_bucket(call: S3Call) -> Response:
    await run_in_threadpool(call.objects.delete_bucket, call.bucket)
    return empty_response(call.request_id)


async def get_bucket_location(call: S3Call) -> Response:
    """The bucket's region; S3 answers an empty LocationConstraint for us-east-1."""
    await run_in_threadpool(call.objects.head_bucket, call.bucket)
    region = "" if call.region == "us-east-1" else call.region
    body = (
        f'{rest_xml.XML_DECLARATION}<LocationConstraint xmlns="{rest_xml.S3_NAMESPACE}">'
        f"{region}</LocationConstraint>"
    )
    return xml_response(body.encode(), call.request_id)


def _max_keys(call: S3Call) -> int:
    return count_query(call, "max-keys")


def count_query(call: S3Call, name: str) -> int:
    """A listing's page size parameter (max-keys, max-parts, max-uploads), at most 1000."""
    raw = call.query.get(name)
    if raw is None:
        return MAX_KEYS
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise InvalidArgument(
            f"Provided {name} not an integer or within integer range", resource=raw
        )
    return min(value, MAX_KEYS)


def encoder(call: S3Call) -> Any:
    encoding = call.query.get("encoding-type")
    if encoding is None:
        return lambda value: value
    if encoding != "url":
        raise InvalidArgument("Invalid Encoding Method specified in Request", resource=encoding)
    return lambda value: None if value is None else quote(value, safe="/")


def _contents(page: ListPage, encode: Any) -> list[dict[str, Any]]:
    contents = []
    for info in page.objects:
        item: dict[str, Any] = {
            "Key": encode(info.key),
            "LastModified": info.last_modified,
            "ETag": info.etag,
            "Size": info.size,
            "StorageClass": "STANDARD",
        }
        if info.checksums:
            item["ChecksumAlgorithm"] = list(info.checksums)
            item["ChecksumType"] = info.checksum_type
        contents.append(item)
    return contents


_TOKEN_MARK = "sagebox:"


def _token(value: str) -> str:
    """An opaque continuation token: the last key or prefix returned, base64-encoded."""
    return base64.urlsafe_b64encode(f"{_TOKEN_MARK}{value}".encode()).decode("ascii")


def _from_token(token: str) -> str:
    try:
        text = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if not text.startswith(_TOKEN_MARK):
        raise InvalidArgument("The continuation token provided is incorrect", resource=token)
    return text[len(_TOKEN_MARK) :]


async def list_objects_v2(call: S3Call) -> Response:
    encode = encoder(call)
    prefix = call.query.get("prefix", "")
    delimiter = call.query.get("delimiter") or None
    max_keys = _max_keys(call)
    token = call.query.get("continuation-token")
    start_after = call.query.get("start-after") or None
    after = _from_token(token) if token else start_after
    page = await run_in_threadpool(
        lambda: call.objects.list_objects(
            call.bucket, prefix=prefix, delimiter=delimiter, max_keys=max_keys, start_after=after
        )
    )
    data = {
        "Name": call.bucket,
        "Prefix": encode(prefix),
        "Delimiter": encode(delimiter),
        "MaxKeys": max_keys,
        "KeyCount": len(page.objects) + len(page.common_prefixes),
        "IsTruncated": page.is_truncated,
        "ContinuationToken": token,
        "NextContinuationToken": _token(page.next_continuation) if page.next_continuation else None,
        "StartAfter": encode(start_after),
        "EncodingType": call.query.get("encoding-type"),
        "Contents": _contents(page, encode),
        "CommonPrefixes": [{"Prefix": encode(name)} for name in page.common_prefixes],
    }
    body = rest_xml.document("ListBucketResult", _output("ListObjectsV2"), data)
    return xml_response(body, call.request_id)


async def list_objects(call: S3Call) -> Response:
    encode = encoder(call)
    prefix = call.query.get("prefix", "")
    delimiter = call.query.get("delimiter") or None
    max_keys = _max_keys(call)
    marker = call.query.get("marker", "")
    page = await run_in_threadpool(
        lambda: call.objects.list_objects(
            call.bucket,
            prefix=prefix,
            delimiter=delimiter,
            max_keys=max_keys,
            start_after=marker or None,
        )
    )
    data = {
        "IsTruncated": page.is_truncated,
        "Marker": encode(marker),
        "NextMarker": encode(page.next_continuation) if page.is_truncated else None,
        "Contents": _contents(page, encode),
        "Name": call.bucket,
        "Prefix": encode(prefix),
        "Delimiter": encode(delimiter),
        "MaxKeys": max_keys,
        "CommonPrefixes": [{"Prefix": encode(name)} for name in page.common_prefixes],
        "EncodingType": call.query.get("encoding-type"),
    }
    body = rest_xml.document("ListBucketResult", _output("ListObjects"), data)
    return xml_response(body, call.request_id)
