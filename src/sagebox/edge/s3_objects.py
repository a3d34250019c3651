"""S3 object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects,
CopyObject."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.responses import Response, StreamingResponse

from sagebox.edge import rest_xml
from sagebox.edge.decimal_text import decimal
from sagebox.edge.s3_body import receive_body
from sagebox.edge.s3_wire import (
    S3Call,
    checksum_response_headers,
    common_headers,
    empty_response,
    object_headers,
    xml_response,
)
from sagebox.objects.base import DEFAULT_CONTENT_TYPE, ByteRange, ObjectInfo, resolve_range
from sagebox.objects.errors import (
    InvalidArgument,
    InvalidRange,
    MalformedXML,
    NoSuchKey,
    NotImplementedByStore,
    ObjectStoreError,
    PreconditionFailed,
)
from sagebox.service_models import service_model

MAX_DELETE_KEYS = 1000
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
_RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


def parse_range(header: str | None) -> ByteRange | None:
    """A single "bytes=" range; None when absent or not understood (the whole object)."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = decimal(last) or 0
        if suffix == 0:
            raise InvalidRange(resource=header[:200])
        return -suffix, None
    start, end = decimal(first) or 0, decimal(last) if last else None
    if end is not None and end < start:
        return None
    return start, end


def _etag_matches(condition: str, etag: str) -> bool:
    wanted = [item.strip().strip('"') for item in condition.split(",")]
    return "*" in wanted or etag.strip('"') in wanted


def _date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def precondition_status(
    info: ObjectInfo, headers: Mapping[str, str], prefix: str = ""
) -> int | None:
    """412 or 304 when the request's conditional headers do not hold, else None (RFC 7232)."""
    if_match = headers.get(f"{prefix}if-match")
    if if_match is not None:
        if not _etag_matches(if_match, info.etag):
            return 412
    else:
        since = _date(headers.get(f"{prefix}if-unmodified-since") or "")
        if since is not None and info.last_modified > since:
            return 412
    if_none_match = headers.get(f"{prefix}if-none-match")
    if if_none_match is not None:
        if _etag_matches(if_none_match, info.etag):
            return 304
    else:
        since = _date(headers.get(f"{prefix}if-modified-since") or "")
        if since is not None and info.last_modified <= since:
            return 304
    return None


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def _described(
    call: S3Call, info: ObjectInfo, byte_range: ByteRange | None
) -> tuple[int, dict[str, str]]:
    checksum_mode = (call.header("x-amz-checksum-mode") or "").upper() == "ENABLED"
    headers = common_headers(call.request_id)
    headers.update(object_headers(info, with_checksums=checksum_mode and byte_range is None))
    for parameter, header in _RESPONSE_OVERRIDES.items():
        if parameter in call.query:
            headers[header] = call.query[parameter]
    if byte_range is None:
        headers["Content-Length"] = str(info.size)
        return 200, headers
    first, last = resolve_range(byte_range, info.size)
    headers["Content-Range"] = f"bytes {first}-{last}/{info.size}"
    headers["Content-Length"] = str(last - first + 1)
    return 206, headers


def _not_modified(call: S3Call, info: ObjectInfo) -> Response:
    headers = common_headers(call.request_id)
    headers.update({"ETag": info.etag, "Last-Modified": rest_xml.http_date(info.last_modified)})
    return Response(b"", status_code=304, headers=headers)


def _reject_part_number(call: S3Call) -> None:
    if "partNumber" in call.query:
        raise NotImplementedByStore(
            f"{call.operation} with partNumber is not supported by sagebox; use a Range instead."
        )


async def get_object(call: S3Call) -> Response:
    _reject_part_number(call)
    byte_range = parse_range(call.header("range"))
    info, chunks = await run_in_threadpool(
        lambda: call.objects.get_object(call.bucket, call.key, byte_range=byte_range)
    )
    status = precondition_status(info, call.request.headers)
    if status is not None:
        _close(chunks)
        if status == 304:
            return _not_modified(call, info)
        raise PreconditionFailed(resource="If-Match")
    code, headers = _described(call, info, byte_range)
    return StreamingResponse(iterate_in_threadpool(chunks), status_code=code, headers=headers)


async def head_object(call: S3Call) -> Response:
    _reject_part_number(call)
    byte_range = parse_range(call.header("range"))
    info = await run_in_threadpool(call.objects.head_object, call.bucket, call.key)
    status = precondition_status(info, call.request.headers)
    if status == 304:
        return _not_modified(call, info)
    if status == 412:
        raise PreconditionFailed(resource="If-Match")
    code, headers = _described(call, info, byte_range)
    return Response(b"", status_code=code, headers=headers)


async def _check_write_conditions(call: S3Call) -> None:
    """PutObject's If-None-Match: * (create only) and If-Match (replace that version only)."""
    if_none_match, if_match = call.header("if-none-match"), call.header("if-match")
    if if_none_match is None and if_match is None:
        return
    try:
        current: ObjectInfo | None = await run_in_threadpool(
            call.objects.head_object, call.bucket, call.key
        )
    except NoSuchKey:
        current = None
    if if_none_match is not None and current is not None:
        raise PreconditionFailed(resource="If-None-Match")
    if if_match is not None:
        if current is None:
            raise NoSuchKey(resource=call.key)
        if not _etag_matches(if_match, current.etag):
            raise PreconditionFailed(resource="If-Match")


async def put_object(call: S3Call) -> Response:
    received = await receive_body(call.request)
    try:
        await _check_write_conditions(call)
        content_type = call.header("content-type") or DEFAULT_CONTENT_TYPE
        metadata = call.user_metadata()
        info = await run_in_threadpool(
            lambda: call.objects.put_object(
                call.bucket,
                call.key,
                received.file,
                content_type=content_type,
                metadata=metadata,
                checksums=received.checksums,
                headers=call.stored_headers(),
            )
        )
    finally:
        received.close()
    headers = {"ETag": info.etag, **checksum_response_headers(info.checksums)}
    return empty_response(call.request_id, 200, headers)


async def delete_object(call: S3Call) -> Response:
    await run_in_threadpool(call.objects.delete_object, call.bucket, call.key)
    return empty_response(call.request_id)


async def delete_objects(call: S3Call) -> Response:
    received = await receive_body(call.request)
    try:
        root = rest_xml.parse(received.read_all())
    finally:
        received.close()
    if root is None or root.tag != "Delete":
        raise MalformedXML()
    quiet = (rest_xml.child_text(root, "Quiet") or "").strip().lower() == "true"
    keys = [rest_xml.child_text(item, "Key") for item in root.findall("Object")]
    if not keys or len(keys) > MAX_DELETE_KEYS or any(key is None for key in keys):
        raise MalformedXML()
    await run_in_threadpool(call.objects.head_bucket, call.bucket)

    def delete_all() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        deleted, errors = [], []
        for key in keys:
            try:
                call.objects.delete_object(call.bucket, key or "")
            except ObjectStoreError as exc:
                errors.append({"Key": key, "Code": exc.code, "Message": exc.message})
            else:
                deleted.append({"Key": key})
        return deleted, errors

    deleted, errors = await run_in_threadpool(delete_all)
    data = {"Deleted": [] if quiet else deleted, "Errors": errors}
    shape = service_model("s3").operation_model("DeleteObjects").output_shape
    body = rest_xml.document("DeleteResult", shape, data)  # type: ignore[arg-type]
    return xml_response(body, call.request_id)


def parse_copy_source(value: str | None) -> tuple[str, str]:
    """(bucket, key) from x-amz-copy-source: "[/]bucket/key[?versionId=...]", URL-encoded."""
    source = unquote((value or "").split("?versionId=", 1)[0]).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise InvalidArgument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            resource=value or "",
        )
    return bucket, key


async def check_copy_source(call: S3Call, bucket: str, key: str) -> ObjectInfo:
    """The copy source, after its x-amz-copy-source-if-* conditions (412 when one fails)."""
    info = await run_in_threadpool(call.objects.head_object, bucket, key)
    if precondition_status(info, call.request.headers, "x-amz-copy-source-") is not None:
        raise PreconditionFailed(resource="x-amz-copy-source-If-Match")
    return info


async def copy_object(call: S3Call) -> Response:
    src_bucket, src_key = parse_copy_source(call.header("x-amz-copy-source"))
    directive = (call.header("x-amz-metadata-directive") or "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise InvalidArgument("Unknown metadata directive.", resource=directive)
    await check_copy_source(call, src_bucket, src_key)
    replace = directive == "REPLACE"
    metadata = call.user_metadata() if replace else None
    content_type = (call.header("content-type") or DEFAULT_CONTENT_TYPE) if replace else None
    headers = call.stored_headers() if replace else None
    info = await run_in_threadpool(
        lambda: call.objects.copy_object(
            src_bucket,
            src_key,
            call.bucket,
            call.key,
            metadata=metadata,
            content_type=content_type,
            headers=headers,
        )
    )
    data: dict[str, Any] = {"ETag": info.etag, "LastModified": info.last_modified}
    for name, value in info.checksums.items():
        data[f"Checksum{name}"] = value
        data["ChecksumType"] = info.checksum_type
    shape = service_model("s3").operation_model("CopyObject").output_shape
    result_shape = shape.members["CopyObjectResult"]  # type: ignore[union-attr]
    body = rest_xml.document("CopyObjectResult", result_shape, data)  # type: ignore[arg-type]
    return xml_response(body, call.request_id)
