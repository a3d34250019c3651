"""Errors in the wire protocol of any AWS service, as botocore's model for it names the protocol.

A request for a service sagebox does not serve still deserves an error its client can
read: botocore parses an error body with the parser of the service's protocol, so a
JSON body sent to an SNS (query) client is a parse failure instead of a ClientError.
The protocol comes from the service's botocore model (`metadata.protocol`), found by
the name its SigV4 credential scope gives (the signing name or endpoint prefix).
"""

from __future__ import annotations

import logging
import re
from functools import cache
from xml.sax.saxutils import escape

import botocore.exceptions
import botocore.loaders
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sagebox.edge.errors import AWSError, json_error, query_error

log = logging.getLogger(__name__)

DEFAULT_PROTOCOL = "json"
_SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


@cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def _metadata(name: str) -> dict[str, str] | None:
    try:
        return _loader().load_service_model(name, "service-2")["metadata"]
    except botocore.exceptions.DataNotFoundError:
        return None


@cache
def _protocols_by_scope() -> dict[str, str]:
    """Signing name and endpoint prefix -> protocol, over every model botocore ships (read once)."""
    found: dict[str, str] = {}
    for name in _loader().list_available_services("service-2"):
        metadata = _metadata(name) or {}
        protocol = metadata.get("protocol")
        if not protocol:
            continue
        for scope in (metadata.get("signingName"), metadata.get("endpointPrefix")):
            if scope:
                found.setdefault(scope, protocol)
    return found


@cache
def protocol_of(scope: str) -> str:
    """The wire protocol of the service a SigV4 credential scope names; JSON when none is known."""
    if _SERVICE_NAME.fullmatch(scope) is None:  # never a path for the loader to wander off with
        return DEFAULT_PROTOCOL
    metadata = _metadata(scope)
    if metadata and metadata.get("protocol"):
        return metadata["protocol"]
    return _protocols_by_scope().get(scope, DEFAULT_PROTOCOL)


def error_response(protocol: str, error: AWSError, rid: str) -> Response:
    """`error` in the shape `protocol`'s botocore parser reads."""
    if protocol == "query":
        return query_error(error, rid)
    if protocol == "rest-xml":
        return _rest_xml_error(error, rid)
    if protocol == "ec2":
        return _ec2_error(error, rid)
    if protocol == "smithy-rpc-v2-cbor":
        return _cbor_error(error, rid)
    return json_error(error, rid)


def _rest_xml_error(error: AWSError, rid: str) -> Response:
    body = (
        "<ErrorResponse><Error><Type>Sender</Type>"
        f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
        f"</Error><RequestId>{rid}</RequestId></ErrorResponse>"
    )
    return Response(body, status_code=error.status, media_type="text/xml", headers={"x-amzn-RequestId": rid})


def _ec2_error(error: AWSError, rid: str) -> Response:
    body = (
        "<Response><Errors><Error>"
        f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
        f"</Error></Errors><RequestID>{rid}</RequestID></Response>"
    )
    return Response(body, status_code=error.status, media_type="text/xml")


def _cbor_text(text: str) -> bytes:
    data = text.encode("utf-8")
    size = len(data)
    if size < 24:
        head = bytes([0x60 | size])
    elif size < 0x100:
        head = bytes([0x78, size])
    elif size < 0x10000:
        head = bytes([0x79]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x7A]) + size.to_bytes(4, "big")
    return head + data


def _cbor_error(error: AWSError, rid: str) -> Response:
    """A two-entry CBOR map (`__type`, `message`), as Smithy's RPC v2 CBOR protocol writes errors."""
    body = bytes([0xA2]) + _cbor_text("__type") + _cbor_text(error.code) + _cbor_text("message") + _cbor_text(error.message)
    return Response(
        body,
        status_code=error.status,
        media_type="application/cbor",
        headers={"smithy-protocol": "rpc-v2-cbor", "x-amzn-RequestId": rid},
    )


async def unknown_service(scope: str, rid: str) -> Response:
    """The answer to a request for a service sagebox does not serve, in that service's protocol."""
    protocol = await run_in_threadpool(protocol_of, scope)
    shown = scope[:100]
    error = AWSError("UnknownService", f"sagebox does not serve the AWS service '{shown}'.")
    log.info("request for unserved service %r answered in its %s protocol", shown, protocol)
    return error_response(protocol, error, rid)

