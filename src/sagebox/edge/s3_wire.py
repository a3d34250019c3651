"""What an S3 request asks for: the bucket and key it addresses and the operation.

The operation is matched against botocore's S3 model: an operation fits when the method
and path shape agree and every literal query item of its URI ("?uploads",
"?list-type=2"), required query member ("uploadId") and required header member
("x-amz-copy-source") is present; the most specific fit wins. Requests for operations
outside sagebox's subset are therefore still named correctly in their 501 answer.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from functools import cache
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response

from sagebox.edge.rest_xml import XML_DECLARATION, http_date
from sagebox.edge.routing import credential_scope
from sagebox.objects.base import ObjectInfo, ObjectStore, stored_headers
from sagebox.objects.errors import ObjectStoreError
from sagebox.service_models import service_model

DEFAULT_REGION = "us-east-1"
META_PREFIX = "x-amz-meta-"

_RESOURCE_ELEMENT = {
    "NoSuchBucket": "BucketName",
    "BucketAlreadyOwnedByYou": "BucketName",
    "BucketAlreadyExists": "BucketName",
    "BucketNotEmpty": "BucketName",
    "InvalidBucketName": "BucketName",
    "NoSuchKey": "Key",
    "KeyTooLongError": "Key",
    "NoSuchUpload": "UploadId",
}


@dataclass(frozen=True)
class _Signature:
    operation: str
    method: str
    shape: str  # "service", "bucket" or "object"
    literal_query: tuple[tuple[str, str | None], ...]
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]

    @property
    def weight(self) -> int:
        return len(self.literal_query) + len(self.required_query) + len(self.required_headers)


@cache
def _signatures() -> tuple[_Signature, ...]:
    model = service_model("s3")
    found = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        path, _, query = operation.http["requestUri"].partition("?")
        shape = "object" if "{Key+}" in path else "bucket" if "{Bucket}" in path else "service"
        literal = tuple(
            (item.partition("=")[0], item.partition("=")[2] if "=" in item else None)
            for item in query.split("&")
            if item
        )
        required_query, required_headers = [], []
        inputs = operation.input_shape
        for member_name in inputs.required_members if inputs is not None else []:
            member = inputs.members[member_name]  # type: ignore[union-attr]
            location = member.serialization.get("location")
            if location == "querystring":
                required_query.append(member.serialization["name"])
            elif location == "header":
                required_headers.append(member.serialization["name"].lower())
        found.append(
            _Signature(
                name,
                operation.http["method"],
                shape,
                literal,
                tuple(required_query),
                tuple(required_headers),
            )
        )
    return tuple(found)


def match_operation(
    method: str, shape: str, query: dict[str, str], header_names: set[str], implemented: set[str]
) -> str | None:
    """The S3 operation a request is for, or None when no operation fits."""
    best: _Signature | None = None
    for signature in _signatures():
        if signature.method != method or signature.shape != shape:
            continue
        if not all(
            name in query and (value is None or query[name] == value)
            for name, value in signature.literal_query
        ):
            continue
        if not all(name in query for name in signature.required_query):
            continue
        if not all(name in header_names for name in signature.required_headers):
            continue
        if best is None or (signature.weight, signature.operation in implemented) > (
            best.weight,
            best.operation in implemented,
        ):
            best = signature
    return None if best is None else best.operation


@dataclass
class S3Call:
    """One S3 request, addressed and matched."""

    request: Request
    objects: ObjectStore
    request_id: str
    operation: str
    bucket: str
    key: str
    query: dict[str, str]

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.request.headers.get(name, default)

    @property
    def region(self) -> str:
        scope = credential_scope(self.request)
        return scope[0] if scope else DEFAULT_REGION

    def user_metadata(self) -> dict[str, str]:
        """x-amz-meta-* headers, names lower-cased, values read as UTF-8 where they are."""
        return {
            name[len(META_PREFIX) :].lower(): _utf8(value)
            for name, value in self.request.headers.items()
            if name.lower().startswith(META_PREFIX)
        }

    def stored_headers(self) -> dict[str, str]:
        """The standard headers kept with the object; aws-chunked is transfer framing only."""
        found = stored_headers(self.request.headers)
        encodings = [
            item.strip()
            for item in found.pop("Content-Encoding", "").split(",")
            if item.strip() and item.strip().lower() != "aws-chunked"
        ]
        if encodings:
            found["Content-Encoding"] = ",".join(encodings)
        return found


def _utf8(value: str) -> str:
    """A metadata value as meant: RFC 2047 words decoded, raw bytes read as UTF-8."""
    if value.startswith("=?") and value.endswith("?="):
        try:
            return str(make_header(decode_header(value)))
        except (UnicodeError, LookupError, HeaderParseError):
            return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def metadata_header_value(value: str) -> str:
    """ASCII values as they are; others RFC 2047 encoded, as S3 returns them."""
    if value.isascii():
        return value
    return f"=?UTF-8?B?{base64.b64encode(value.encode('utf-8')).decode('ascii')}?="


def address(request: Request) -> tuple[str, str]:
    """(bucket, key) from a virtual-hosted Host header or the path (path style)."""
    raw_path = request.scope.get("raw_path")
    if isinstance(raw_path, bytes) and raw_path:
        path = unquote(raw_path.decode("latin-1").split("?", 1)[0])
    else:
        path = request.url.path
    host_bucket = bucket_from_host(request.headers.get("host", ""))
    path = path[1:] if path.startswith("/") else path
    if host_bucket:
        return host_bucket, path
    bucket, _, key = path.partition("/")
    return bucket, key


def bucket_from_host(host: str) -> str | None:
    """The bucket a virtual-hosted style Host names: <bucket>.localhost or <bucket>.s3.<...>."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower().rstrip(".")
    if name.endswith(".localhost") and name != "localhost":
        return name[: -len(".localhost")]
    marker = name.find(".s3.")
    if marker > 0:
        return name[:marker]
    marker = name.find(".s3-")
    if marker > 0 and name.endswith(".amazonaws.com"):
        return name[:marker]
    return None


def query_items(request: Request) -> dict[str, str]:
    return dict(parse_qsl(request.url.query, keep_blank_values=True))


def host_id() -> str:
    return base64.b64encode(os.urandom(24)).decode("ascii")


def common_headers(request_id: str) -> dict[str, str]:
    return {"x-amz-request-id": request_id, "x-amz-id-2": host_id()}


def xml_response(body: bytes, request_id: str, status: int = 200, **extra: str) -> Response:
    headers = common_headers(request_id)
    headers.update(extra)
    return Response(body, status_code=status, media_type="application/xml", headers=headers)


def empty_response(
    request_id: str, status: int = 204, headers: dict[str, str] | None = None
) -> Response:
    merged = common_headers(request_id)
    merged.update(headers or {})
    return Response(b"", status_code=status, headers=merged)


def error_response(
    error: ObjectStoreError, request_id: str, *, method: str, bucket: str, key: str
) -> Response:
    """S3's <Error> document (no body for HEAD) with the error's HTTP status."""
    headers = common_headers(request_id)
    if method == "HEAD":
        return Response(b"", status_code=error.status, headers=headers)
    element = _RESOURCE_ELEMENT.get(error.code)
    resource = error.resource or (bucket if element == "BucketName" else key)
    detail = f"<{element}>{_escape(resource)}</{element}>" if element and resource else ""
    body = (
        f"{XML_DECLARATION}<Error><Code>{_escape(error.code)}</Code>"
        f"<Message>{_escape(error.message)}</Message>{detail}"
        f"<RequestId>{request_id}</RequestId><HostId>{headers['x-amz-id-2']}</HostId></Error>"
    )
    return Response(
        body.encode(), status_code=error.status, media_type="application/xml", headers=headers
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def object_headers(info: ObjectInfo, *, with_checksums: bool) -> dict[str, str]:
    """The headers GetObject and HeadObject describe an object with."""
    found = {
        "ETag": info.etag,
        "Last-Modified": http_date(info.last_modified),
        "Content-Type": info.content_type,
        "Accept-Ranges": "bytes",
        **info.headers,
    }
    for name, value in info.metadata.items():
        found[f"{META_PREFIX}{name}"] = metadata_header_value(value)
    if info.parts_count:
        found["x-amz-mp-parts-count"] = str(info.parts_count)
    if with_checksums and info.checksums:
        found.update(checksum_response_headers(info.checksums))
    return found


def checksum_response_headers(checksums: dict[str, str]) -> dict[str, str]:
    found = {f"x-amz-checksum-{name.lower()}": value for name, value in checksums.items()}
    for value in checksums.values():
        found["x-amz-checksum-type"] = "COMPOSITE" if "-" in value else "FULL_OBJECT"
    return found
