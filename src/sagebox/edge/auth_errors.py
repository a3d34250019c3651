"""Authentication failures in each protocol's own error shape, with AWS's codes.

| refusal | JSON services (SageMaker, Logs, runtime) | STS / IAM (query) | S3 |
| --- | --- | --- | --- |
| no signature | 403 MissingAuthenticationTokenException | 403 MissingAuthenticationToken | 403 AccessDenied |
| unreadable signature | 400 IncompleteSignatureException | 400 IncompleteSignature | 400 AuthorizationHeaderMalformed / AuthorizationQueryParametersError |
| unknown key | 400 UnrecognizedClientException | 403 InvalidClientTokenId | 403 InvalidAccessKeyId |
| wrong signature | 403 InvalidSignatureException | 403 SignatureDoesNotMatch | 403 SignatureDoesNotMatch |
| clock skew | 403 InvalidSignatureException "Signature expired" | 403 SignatureDoesNotMatch "Signature expired" | 403 RequestTimeTooSkewed |
| presigned URL expired | as clock skew | as clock skew | 403 AccessDenied "Request has expired" |
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from starlette.responses import Response

from sagebox.edge.auth import MAX_SKEW_SECONDS
from sagebox.edge.auth_failure import AuthFailure, Refusal
from sagebox.edge.errors import AWSError, cbor_error, json_error, query_error
from sagebox.edge.rest_xml import XML_DECLARATION
from sagebox.edge.s3_wire import common_headers

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation "
    "for details."
)
S3_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
INVALID_TOKEN = "The security token included in the request is invalid."

# (code, status, message or None for the failure's own detail) per protocol.
_JSON: dict[Refusal, tuple[str, int, str | None]] = {
    Refusal.MISSING: ("MissingAuthenticationTokenException", 403, "Missing Authentication Token"),
    Refusal.MALFORMED: ("IncompleteSignatureException", 400, None),
    Refusal.BAD_PAYLOAD_HASH: ("IncompleteSignatureException", 400, None),
    Refusal.UNKNOWN_KEY: ("UnrecognizedClientException", 400, INVALID_TOKEN),
    Refusal.BAD_SIGNATURE: ("InvalidSignatureException", 403, SIGNATURE_MISMATCH),
    Refusal.UNSIGNED_HEADERS: ("InvalidSignatureException", 403, None),
    Refusal.SKEWED: ("InvalidSignatureException", 403, None),
    Refusal.EXPIRED: ("InvalidSignatureException", 403, None),
    Refusal.NOT_YET_VALID: ("InvalidSignatureException", 403, None),
    Refusal.PAYLOAD_MISMATCH: ("InvalidSignatureException", 403, None),
}
_QUERY: dict[Refusal, tuple[str, int, str | None]] = {
    Refusal.MISSING: ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
    Refusal.MALFORMED: ("IncompleteSignature", 400, None),
    Refusal.BAD_PAYLOAD_HASH: ("IncompleteSignature", 400, None),
    Refusal.UNKNOWN_KEY: ("InvalidClientTokenId", 403, INVALID_TOKEN),
    Refusal.BAD_SIGNATURE: ("SignatureDoesNotMatch", 403, SIGNATURE_MISMATCH),
    Refusal.UNSIGNED_HEADERS: ("SignatureDoesNotMatch", 403, None),
    Refusal.SKEWED: ("SignatureDoesNotMatch", 403, None),
    Refusal.EXPIRED: ("SignatureDoesNotMatch", 403, None),
    Refusal.NOT_YET_VALID: ("SignatureDoesNotMatch", 403, None),
    Refusal.PAYLOAD_MISMATCH: ("SignatureDoesNotMatch", 403, None),
}


def auth_error_response(
    failure: AuthFailure, protocol: str, request_id: str, method: str
) -> Response:
    """`protocol` is "json", "query", "cbor" or "s3"."""
    if protocol == "s3":
        return _s3_error(failure, request_id, method)
    table = _QUERY if protocol == "query" else _JSON
    code, status, message = table[failure.reason]
    text = message or _with_headers(failure)
    error = AWSError(code, text, status)
    if protocol == "cbor":
        return cbor_error(error, request_id)
    return query_error(error, request_id) if protocol == "query" else json_error(error, request_id)


def _with_headers(failure: AuthFailure) -> str:
    unsigned = failure.facts.get("headers_not_signed")
    return f"{failure.detail}: {unsigned}" if unsigned else failure.detail


def _s3_error(failure: AuthFailure, request_id: str, method: str) -> Response:
    facts = failure.facts
    details: list[tuple[str, str]] = []
    reason = failure.reason
    if reason is Refusal.MISSING:
        code, status, message = "AccessDenied", 403, "Access Denied"
    elif reason is Refusal.MALFORMED:
        by_query = facts.get("mechanism") == "query"
        code = "AuthorizationQueryParametersError" if by_query else "AuthorizationHeaderMalformed"
        status, message = 400, failure.detail
        if code == "AuthorizationHeaderMalformed":
            message = f"The authorization header is malformed; {failure.detail}"
    elif reason is Refusal.BAD_PAYLOAD_HASH:
        missing = failure.detail.startswith("Missing")
        code, status, message = (
            ("InvalidRequest" if missing else "InvalidArgument"),
            400,
            failure.detail,
        )
    elif reason is Refusal.UNKNOWN_KEY:
        code, status = "InvalidAccessKeyId", 403
        message = "The AWS Access Key Id you provided does not exist in our records."
        details.append(("AWSAccessKeyId", facts.get("access_key_id", "")))
    elif reason is Refusal.BAD_SIGNATURE:
        code, status, message = "SignatureDoesNotMatch", 403, S3_SIGNATURE_MISMATCH
        details += [
            ("AWSAccessKeyId", facts.get("access_key_id", "")),
            ("StringToSign", facts.get("string_to_sign", "")),
            ("SignatureProvided", facts.get("signature_provided", "")),
            ("CanonicalRequest", facts.get("canonical_request", "")),
        ]
    elif reason is Refusal.UNSIGNED_HEADERS:
        code, status, message = "AccessDenied", 403, failure.detail
        details.append(("HeadersNotSigned", facts.get("headers_not_signed", "")))
    elif reason is Refusal.SKEWED:
        code, status = "RequestTimeTooSkewed", 403
        message = "The difference between the request time and the current time is too large."
        details += [
            ("RequestTime", facts.get("request_time", "")),
            ("ServerTime", facts.get("server_time", "")),
            ("MaxAllowedSkewMilliseconds", str(MAX_SKEW_SECONDS * 1000)),
        ]
    elif reason is Refusal.EXPIRED:
        code, status, message = "AccessDenied", 403, "Request has expired"
        details += [
            ("X-Amz-Expires", facts.get("expires_seconds", "")),
            ("Expires", facts.get("expires", "")),
            ("ServerTime", facts.get("server_time", "")),
        ]
    elif reason is Refusal.NOT_YET_VALID:
        code, status, message = "AccessDenied", 403, "Request is not valid yet"
        details.append(("ServerTime", facts.get("server_time", "")))
    else:
        code, status, message = "XAmzContentSHA256Mismatch", 400, failure.detail
    headers = common_headers(request_id)
    if method == "HEAD":
        return Response(b"", status_code=status, headers=headers)
    extra = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in details if value)
    body = (
        f"{XML_DECLARATION}<Error><Code>{code}</Code><Message>{escape(message)}</Message>{extra}"
        f"<RequestId>{request_id}</RequestId><HostId>{headers['x-amz-id-2']}</HostId></Error>"
    )
    return Response(
        body.encode(), status_code=status, media_type="application/xml", headers=headers
    )
