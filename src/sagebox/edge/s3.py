"""The S3 REST API subset over the object store.

Supported: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
ListObjects, ListObjectsV2, PutObject, GetObject, HeadObject, DeleteObject,
DeleteObjects, CopyObject and multipart uploads (create, upload part and part copy,
complete, abort, ListParts, ListMultipartUploads), with path-style and virtual-hosted style addressing. Every other S3
operation answers 501 NotImplemented naming it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from sagebox.edge import s3_buckets, s3_multipart, s3_objects
from sagebox.edge.s3_wire import S3Call, address, error_response, match_operation, query_items
from sagebox.objects.base import ObjectStore
from sagebox.objects.errors import (
    NoSuchBucket,
    NotImplementedByStore,
    ObjectStoreError,
    UnknownObjectStoreError,
    error_for_code,
)

log = logging.getLogger(__name__)

Handler = Callable[[S3Call], Awaitable[Response]]

OPERATIONS: dict[str, Handler] = {
    "ListBuckets": s3_buckets.list_buckets,
    "CreateBucket": s3_buckets.create_bucket,
    "HeadBucket": s3_buckets.head_bucket,
    "DeleteBucket": s3_buckets.delete_bucket,
    "GetBucketLocation": s3_buckets.get_bucket_location,
    "ListObjectsV2": s3_buckets.list_objects_v2,
    "ListObjects": s3_buckets.list_objects,
    "PutObject": s3_objects.put_object,
    "GetObject": s3_objects.get_object,
    "HeadObject": s3_objects.head_object,
    "DeleteObject": s3_objects.delete_object,
    "DeleteObjects": s3_objects.delete_objects,
    "CopyObject": s3_objects.copy_object,
    "CreateMultipartUpload": s3_multipart.create_multipart_upload,
    "UploadPart": s3_multipart.upload_part,
    "UploadPartCopy": s3_multipart.upload_part_copy,
    "CompleteMultipartUpload": s3_multipart.complete_multipart_upload,
    "AbortMultipartUpload": s3_multipart.abort_multipart_upload,
    "ListParts": s3_multipart.list_parts,
    "ListMultipartUploads": s3_multipart.list_multipart_uploads,
}


async def handle(request: Request, objects: ObjectStore, request_id: str) -> Response:
    """Answers one S3 request; every failure becomes S3's XML error with its status."""
    bucket, key = "", ""
    try:
        bucket, key = address(request)
        query = query_items(request)
        shape = "object" if key else "bucket" if bucket else "service"
        header_names = {name.lower() for name in request.headers}
        operation = match_operation(request.method, shape, query, header_names, set(OPERATIONS))
        if operation is None:
            raise error_for_code(
                "MethodNotAllowed",
                f"The specified method is not allowed against this resource: {request.method} "
                "matches no S3 operation here.",
                status=405,
            )
        handler = OPERATIONS.get(operation)
        if handler is None:
            raise NotImplementedByStore(
                f"The S3 operation {operation} is not implemented by sagebox.", resource=operation
            )
        if shape != "service" and not bucket:
            raise NoSuchBucket(resource=bucket)
        call = S3Call(request, objects, request_id, operation, bucket, key, query)
        return await handler(call)
    except ObjectStoreError as exc:
        return error_response(exc, request_id, method=request.method, bucket=bucket, key=key)
    except Exception as exc:
        log.exception("S3 %s %s failed", request.method, request.url.path)
        failure = UnknownObjectStoreError(
            "InternalError", f"We encountered an internal error: {exc!r}", 500
        )
        return error_response(failure, request_id, method=request.method, bucket=bucket, key=key)
