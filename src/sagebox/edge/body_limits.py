"""How many bytes of a request body the edge reads before routing, per protocol.

The JSON 1.1 services (SageMaker, CloudWatch Logs) and the query protocol's form
bodies (STS, IAM) are read whole before they are parsed, so their size is capped: a
request over its limit is answered 413 as soon as its Content-Length says so, or as
soon as the bytes read pass the limit, and the rest of the body is never buffered.
S3 bodies stream to the object store and InvokeEndpoint has its own 6 MB limit;
neither is read here.
"""

from __future__ import annotations

from starlette.requests import Request

from sagebox.edge.errors import AWSError

# The largest SageMaker member is a 1 MB string (a pipeline definition); with JSON's
# escaping a real request stays well under this.
JSON_BODY_LIMIT = 4 * 1024 * 1024
# Query-protocol requests are a few form fields (IAM's largest, a policy, is 6 KB).
FORM_BODY_LIMIT = 1024 * 1024


def limit_for(request: Request) -> int | None:
    """The body limit of a request the edge reads whole, or None when it reads none."""
    if request.headers.get("x-amz-target") or request.headers.get("smithy-protocol"):
        return JSON_BODY_LIMIT  # JSON 1.0/1.1, and RPC v2 CBOR (CloudWatch) the same way
    if request.method == "POST" and "x-www-form-urlencoded" in request.headers.get("content-type", ""):
        return FORM_BODY_LIMIT
    return None


def _too_large(size: str, limit: int) -> AWSError:
    return AWSError(
        "ValidationException",
        f"The request body of {size} bytes exceeds the limit of {limit} bytes for this service.",
        413,
    )


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, or a 413 once it is known to pass `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(declared, limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(f"more than {limit}", limit)
        chunks.append(chunk)
    return b"".join(chunks)
