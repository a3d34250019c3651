"""S3 multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads."""

from __future__ import annotations

import tempfile
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sagebox.edge import rest_xml
from sagebox.edge.decimal_text import decimal
from sagebox.edge.s3_body import MEMORY_LIMIT, receive_body
from sagebox.edge.s3_buckets import count_query, encoder
from sagebox.edge.s3_objects import check_copy_source, parse_copy_source, parse_range
from sagebox.edge.s3_wire import S3Call, checksum_response_headers, empty_response, xml_response
from sagebox.objects.base import DEFAULT_CONTENT_TYPE
from sagebox.objects.errors import (
    InvalidArgument,
    InvalidRequest,
    MalformedXML,
    NotImplementedByStore,
)
from sagebox.service_models import service_model


def _output(operation: str) -> Any:
    return service_model("s3").operation_model(operation).output_shape


def _part_number(call: S3Call) -> int:
    raw = call.query.get("partNumber", "")
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidArgument(
            "Part number must be an integer between 1 and 10000, inclusive", resource=raw
        ) from exc


async def create_multipart_upload(call: S3Call) -> Response:
    algorithm = call.header("x-amz-checksum-algorithm")
    kind = call.header("x-amz-checksum-type")
    if kind and not algorithm:
        raise InvalidRequest("The x-amz-checksum-type header requires x-amz-checksum-algorithm.")
    upload_id = await run_in_threadpool(
        lambda: call.objects.create_multipart_upload(
            call.bucket,
            call.key,
            content_type=call.header("content-type") or DEFAULT_CONTENT_TYPE,
            metadata=call.user_metadata(),
            checksum_algorithm=algorithm,
            checksum_type=kind,
            headers=call.stored_headers(),
        )
    )
    data = {"Bucket": call.bucket, "Key": call.key, "UploadId": upload_id}
    headers = {}
    if algorithm:
        headers["x-amz-checksum-algorithm"] = algorithm.upper()
        headers["x-amz-checksum-type"] = (kind or "COMPOSITE").upper()
    body = rest_xml.document(
        "InitiateMultipartUploadResult", _output("CreateMultipartUpload"), data
    )
    return xml_response(body, call.request_id, **headers)


async def upload_part(call: S3Call) -> Response:
    number = _part_number(call)
    upload_id = call.query["uploadId"]
    received = await receive_body(call.request)
    try:
        etag = await run_in_threadpool(
            lambda: call.objects.upload_part(
                call.bucket,
                call.key,
                upload_id,
                number,
                received.file,
                checksums=received.checksums,
            )
        )
    finally:
        received.close()
    headers = {"ETag": etag}
    for name, value in checksum_response_headers(received.checksums).items():
        if name != "x-amz-checksum-type":
            headers[name] = value
    return empty_response(call.request_id, 200, headers)


async def upload_part_copy(call: S3Call) -> Response:
    number = _part_number(call)
    upload_id = call.query["uploadId"]
    src_bucket, src_key = parse_copy_source(call.header("x-amz-copy-source"))
    await check_copy_source(call, src_bucket, src_key)
    byte_range = parse_range(call.header("x-amz-copy-source-range"))
    if call.header("x-amz-copy-source-range") and byte_range is None:
        raise InvalidArgument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last.",
            resource=call.header("x-amz-copy-source-range") or "",
        )

    def copy_part() -> tuple[str, Any]:
        info, chunks = call.objects.get_object(src_bucket, src_key, byte_range=byte_range)
        with tempfile.SpooledTemporaryFile(max_size=MEMORY_LIMIT) as spool:
            for chunk in chunks:
                spool.write(chunk)
            spool.seek(0)
            etag = call.objects.upload_part(call.bucket, call.key, upload_id, number, spool)
        return etag, info.last_modified

    etag, modified = await run_in_threadpool(copy_part)
    shape = _output("UploadPartCopy").members["CopyPartResult"]
    body = rest_xml.document("CopyPartResult", shape, {"ETag": etag, "LastModified": modified})
    return xml_response(body, call.request_id)


async def complete_multipart_upload(call: S3Call) -> Response:
    upload_id = call.query["uploadId"]
    received = await receive_body(call.request, checksum_headers_describe_body=False)
    try:
        root = rest_xml.parse(received.read_all())
    finally:
        received.close()
    if root is None or root.tag != "CompleteMultipartUpload":
        raise MalformedXML()
    parts = []
    for part in root.findall("Part"):
        number, etag = rest_xml.child_text(part, "PartNumber"), rest_xml.child_text(part, "ETag")
        value = decimal(number) if number is not None else None
        if value is None or etag is None:
            raise MalformedXML()
        parts.append((value, etag.strip()))
    info = await run_in_threadpool(
        call.objects.complete_multipart_upload, call.bucket, call.key, upload_id, parts
    )
    data: dict[str, Any] = {
        "Location": f"{call.request.base_url}{call.bucket}/{call.key}",
        "Bucket": call.bucket,
        "Key": call.key,
        "ETag": info.etag,
    }
    for name, value in info.checksums.items():
        data[f"Checksum{name}"] = value
        data["ChecksumType"] = info.checksum_type
    body = rest_xml.document(
        "CompleteMultipartUploadResult", _output("CompleteMultipartUpload"), data
    )
    return xml_response(body, call.request_id)


async def abort_multipart_upload(call: S3Call) -> Response:
    upload_id = call.query["uploadId"]
    await run_in_threadpool(call.objects.abort_multipart_upload, call.bucket, call.key, upload_id)
    return empty_response(call.request_id)


async def list_parts(call: S3Call) -> Response:
    upload_id = call.query["uploadId"]
    max_parts = count_query(call, "max-parts")
    raw_marker = call.query.get("part-number-marker") or "0"
    try:
        marker = int(raw_marker)
    except ValueError:
        marker = -1
    if marker < 0:
        raise InvalidArgument(
            "Provided part-number-marker not an integer or within integer range",
            resource=raw_marker,
        )
    page = await run_in_threadpool(
        lambda: call.objects.list_parts(
            call.bucket, call.key, upload_id, max_parts=max_parts, part_number_marker=marker
        )
    )
    parts = []
    for part in page.parts:
        item: dict[str, Any] = {
            "PartNumber": part.number,
            "LastModified": part.last_modified,
            "ETag": part.etag,
            "Size": part.size,
        }
        for name, value in part.checksums.items():
            item[f"Checksum{name}"] = value
        parts.append(item)
    data = {
        "Bucket": call.bucket,
        "Key": call.key,
        "UploadId": upload_id,
        "PartNumberMarker": marker,
        "NextPartNumberMarker": page.next_marker,
        "MaxParts": max_parts,
        "IsTruncated": page.is_truncated,
        "Parts": parts,
        "StorageClass": "STANDARD",
        "ChecksumAlgorithm": page.checksum_algorithm,
        "ChecksumType": page.checksum_type,
    }
    body = rest_xml.document("ListPartsResult", _output("ListParts"), data)
    return xml_response(body, call.request_id)


async def list_multipart_uploads(call: S3Call) -> Response:
    if call.query.get("delimiter"):
        raise NotImplementedByStore(
            "ListMultipartUploads with a delimiter is not implemented by sagebox; list by "
            "prefix instead.",
            resource="ListMultipartUploads",
        )
    encode = encoder(call)
    prefix = call.query.get("prefix", "")
    max_uploads = count_query(call, "max-uploads")
    key_marker = call.query.get("key-marker", "")
    upload_id_marker = call.query.get("upload-id-marker", "")
    page = await run_in_threadpool(
        lambda: call.objects.list_multipart_uploads(
            call.bucket,
            prefix=prefix,
            max_uploads=max_uploads,
            key_marker=key_marker,
            upload_id_marker=upload_id_marker,
        )
    )
    uploads = [
        {
            "UploadId": upload.upload_id,
            "Key": encode(upload.key),
            "Initiated": upload.initiated,
            "StorageClass": "STANDARD",
            "ChecksumAlgorithm": upload.checksum_algorithm,
            "ChecksumType": upload.checksum_type,
        }
        for upload in page.uploads
    ]
    data = {
        "Bucket": call.bucket,
        "KeyMarker": encode(key_marker),
        "UploadIdMarker": upload_id_marker,
        "NextKeyMarker": encode(page.next_key_marker),
        "NextUploadIdMarker": page.next_upload_id_marker,
        "Prefix": encode(prefix),
        "MaxUploads": max_uploads,
        "IsTruncated": page.is_truncated,
        "Uploads": uploads,
        "EncodingType": call.query.get("encoding-type"),
    }
    body = rest_xml.document("ListMultipartUploadsResult", _output("ListMultipartUploads"), data)
    return xml_response(body, call.request_id)
