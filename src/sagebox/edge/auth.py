"""SigV4 verification of incoming requests (and S3's legacy v2 presigned URLs).

The signature a client sent is recomputed with botocore's own signers (SigV4Auth,
S3SigV4Auth and their presigned-query variants): the request is rebuilt as an
AWSRequest from what arrived (method, raw path, query, the headers the client says it
signed, the body where the service signs it), botocore computes the canonical request,
the string to sign and the signature, and the two signatures are compared in constant
time. Only the choice of headers is taken from the request, since a server must
canonicalise exactly the headers the client listed in SignedHeaders.

Failures are protocol-neutral `AuthFailure`s; `auth_errors` shapes them per protocol.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

from botocore.auth import (
    SIGV4_TIMESTAMP,
    S3SigV4Auth,
    S3SigV4QueryAuth,
    SigV4Auth,
    SigV4QueryAuth,
)
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from sagebox.edge.auth_failure import AuthFailure, Refusal, iso_time
from sagebox.edge.auth_presigned_v2 import check_expiry, is_presigned_v2, verify_presigned_v2
from sagebox.edge.chunk_signatures import ChunkSignatures
from sagebox.services.access_keys import AccessKey, CachedAccessKeys

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_QUERY_PARAMETERS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
# The signing name each routed service's requests must be scoped to.
SIGNING_NAMES = {
    "sagemaker": "sagemaker",
    "sagemaker-runtime": "sagemaker",
    "logs": "logs",
    "s3": "s3",
    "sts": "sts",
    "iam": "iam",
}


@dataclass(frozen=True)
class SignatureClaim:
    """What a request says about its signature (Authorization header or presigned query)."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str
    presigned: bool
    expires_seconds: int | None = None

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True)
class Caller:
    """The identity an authenticated request was signed by; `claim` is None for a legacy
    (Signature Version 2) presigned S3 URL."""

    key: AccessKey
    claim: SignatureClaim | None
    chunk_signatures: ChunkSignatures | None = field(default=None, compare=False)


def read_claim(request: Request) -> SignatureClaim | None:
    """The request's signature claim; None when it carries none; AuthFailure when malformed."""
    authorization = request.headers.get("authorization")
    query = request.query_params
    presigned = "X-Amz-Signature" in query or "X-Amz-Credential" in query
    if authorization and presigned:
        raise AuthFailure(
            Refusal.MALFORMED,
            "Only one auth mechanism allowed; only the Authorization header "
            "or the X-Amz-* query parameters may be given.",
        )
    if authorization:
        return _header_claim(authorization, request)
    if presigned:
        try:
            return _query_claim(request)
        except AuthFailure as failure:
            failure.facts.setdefault("mechanism", "query")
            raise
    return None


def _header_claim(authorization: str, request: Request) -> SignatureClaim:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise AuthFailure(
            Refusal.MALFORMED,
            f"the authorization mechanism {algorithm!r} is not supported; "
            f"sagebox accepts only {ALGORITHM} (Signature Version 4).",
        )
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts[name.strip()] = value.strip()
    for required in ("Credential", "SignedHeaders", "Signature"):
        if required not in parts:
            raise AuthFailure(
                Refusal.MALFORMED,
                f"Authorization header requires '{required}' parameter.",
            )
    timestamp = request.headers.get("x-amz-date") or _date_header(request.headers.get("date"))
    if not timestamp:
        raise AuthFailure(
            Refusal.MALFORMED,
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    return _claim(parts["Credential"], parts["SignedHeaders"], parts["Signature"], timestamp, None)


def _query_claim(request: Request) -> SignatureClaim:
    query = request.query_params
    missing = [name for name in _QUERY_PARAMETERS if name not in query]
    if missing:
        raise AuthFailure(
            Refusal.MALFORMED,
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
            f"X-Amz-Expires parameters; missing: {', '.join(missing)}.",
        )
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthFailure(Refusal.MALFORMED, f'X-Amz-Algorithm only supports "{ALGORITHM}".')
    expires = query["X-Amz-Expires"]
    if not expires.isdigit():
        raise AuthFailure(Refusal.MALFORMED, "X-Amz-Expires should be a number.")
    if int(expires) > MAX_PRESIGNED_SECONDS:
        raise AuthFailure(
            Refusal.MALFORMED,
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGNED_SECONDS}.",
        )
    return _claim(
        query["X-Amz-Credential"],
        query["X-Amz-SignedHeaders"],
        query["X-Amz-Signature"],
        query["X-Amz-Date"],
        int(expires),
    )


def _claim(
    credential: str, signed_headers: str, signature: str, timestamp: str, expires: int | None
) -> SignatureClaim:
    pieces = credential.split("/")
    if len(pieces) != 5 or pieces[4] != "aws4_request" or not all(pieces):
        raise AuthFailure(
            Refusal.MALFORMED,
            f"the Credential {credential!r} is not of the form "
            "<access key id>/<yyyymmdd>/<region>/<service>/aws4_request.",
        )
    if _epoch(timestamp) is None:
        raise AuthFailure(
            Refusal.MALFORMED,
            f"the request date {timestamp!r} is not in ISO 8601 basic format (yyyyMMddTHHmmssZ).",
        )
    if pieces[1] != timestamp[:8]:
        raise AuthFailure(
            Refusal.MALFORMED,
            f"Invalid credential date {pieces[1]}. Date is not the same as X-Amz-Date: {timestamp[:8]}.",
        )
    headers = tuple(name.strip().lower() for name in signed_headers.split(";") if name.strip())
    if "host" not in headers:
        raise AuthFailure(Refusal.MALFORMED, "the host header must be among the SignedHeaders.")
    return SignatureClaim(
        access_key_id=pieces[0],
        date=pieces[1],
        region=pieces[2],
        service=pieces[3],
        signed_headers=headers,
        signature=signature.strip().lower(),
        timestamp=timestamp,
        presigned=expires is not None,
        expires_seconds=expires,
    )


def _date_header(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).strftime(SIGV4_TIMESTAMP)
    except (TypeError, ValueError):
        return None


def _epoch(timestamp: str) -> int | None:
    try:
        return calendar.timegm(time.strptime(timestamp, SIGV4_TIMESTAMP))
    except ValueError:
        return None


class SigV4Verifier:
    """Authenticates requests against the access keys in the metadata store."""

    def __init__(self, keys: CachedAccessKeys, clock: Callable[[], float] = time.time) -> None:
        self._keys = keys
        self._clock = clock

    async def verify(
        self, request: Request, service: str, read_body: Callable[[], Awaitable[bytes]]
    ) -> Caller:
        """The caller, or AuthFailure. `read_body` is called only for services that sign
        their body (not S3, whose payload hash travels in x-amz-content-sha256)."""
        if service == "s3" and is_presigned_v2(request):
            check_expiry(request, self._clock())
            key = await self._active_key(request.query_params["AWSAccessKeyId"])
            verify_presigned_v2(request, key)
            return Caller(key, None)
        claim = read_claim(request)
        if claim is None:
            raise AuthFailure(Refusal.MISSING)
        self._check_time(claim)
        expected_service = SIGNING_NAMES.get(service)
        if expected_service is not None and claim.service != expected_service:
            raise AuthFailure(
                Refusal.MALFORMED,
                f"Credential should be scoped to correct service: '{expected_service}'.",
            )
        key = await self._active_key(claim.access_key_id)
        _check_signed_headers(request, claim)
        s3 = claim.service == "s3"
        payload_hash = request.headers.get("x-amz-content-sha256")
        if s3:
            _check_s3_payload_hash(payload_hash, claim)
            body = b""
        else:
            if payload_hash is not None and payload_hash.startswith("STREAMING-"):
                raise AuthFailure(
                    Refusal.BAD_PAYLOAD_HASH,
                    f"{payload_hash} is accepted by S3 only.",
                )
            body = await read_body()
            if _hex_hash_differs(payload_hash, body):
                raise AuthFailure(
                    Refusal.PAYLOAD_MISMATCH,
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                )
        signer, aws_request = _signer_and_request(request, claim, key, body)
        canonical_request = signer.canonical_request(aws_request)
        string_to_sign = signer.string_to_sign(aws_request, canonical_request)
        expected = signer.signature(string_to_sign, aws_request)
        # As bytes: compare_digest refuses str with non-ASCII characters (a forged header).
        if not hmac.compare_digest(expected.encode(), claim.signature.encode()):
            raise AuthFailure(
                Refusal.BAD_SIGNATURE,
                access_key_id=claim.access_key_id,
                string_to_sign=string_to_sign,
                signature_provided=claim.signature,
                canonical_request=canonical_request,
            )
        chunks = None
        if payload_hash in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER):
            chunks = ChunkSignatures(
                lambda text: signer.signature(text, aws_request),
                timestamp=claim.timestamp,
                scope=claim.scope,
                seed_signature=claim.signature,
                signed_trailer=payload_hash == STREAMING_SIGNED_TRAILER,
            )
        return Caller(key, claim, chunks)

    async def _active_key(self, access_key_id: str) -> AccessKey:
        key = self._keys.peek(access_key_id) or await run_in_threadpool(
            self._keys.find, access_key_id
        )
        if key is None or not key.active:
            raise AuthFailure(Refusal.UNKNOWN_KEY, access_key_id=access_key_id)
        return key

    def _check_time(self, claim: SignatureClaim) -> None:
        now = self._clock()
        signed = _epoch(claim.timestamp) or 0
        server_time = time.strftime(SIGV4_TIMESTAMP, time.gmtime(now))
        if claim.presigned:
            expires = claim.expires_seconds or 0
            if now > signed + expires:
                raise AuthFailure(
                    Refusal.EXPIRED,
                    f"Signature expired: the URL signed at {claim.timestamp} was valid for "
                    f"{expires} seconds; it is now {server_time}.",
                    expires_seconds=str(expires),
                    expires=iso_time(signed + expires),
                    server_time=iso_time(now),
                )
            if signed > now + MAX_SKEW_SECONDS:
                raise AuthFailure(
                    Refusal.NOT_YET_VALID,
                    f"Signature not yet current: {claim.timestamp} is still later than "
                    f"{time.strftime(SIGV4_TIMESTAMP, time.gmtime(now + MAX_SKEW_SECONDS))} "
                    f"({server_time} + 15 min.)",
                    server_time=iso_time(now),
                )
            return
        if signed < now - MAX_SKEW_SECONDS:
            earliest = time.strftime(SIGV4_TIMESTAMP, time.gmtime(now - MAX_SKEW_SECONDS))
            raise AuthFailure(
                Refusal.SKEWED,
                f"Signature expired: {claim.timestamp} is now earlier than {earliest} "
                f"({server_time} - 15 min.)",
                request_time=claim.timestamp,
                server_time=iso_time(now),
            )
        if signed > now + MAX_SKEW_SECONDS:
            latest = time.strftime(SIGV4_TIMESTAMP, time.gmtime(now + MAX_SKEW_SECONDS))
            raise AuthFailure(
                Refusal.SKEWED,
                f"Signature not yet current: {claim.timestamp} is still later than {latest} "
                f"({server_time} + 15 min.)",
                request_time=claim.timestamp,
                server_time=iso_time(now),
            )


def _check_signed_headers(request: Request, claim: SignatureClaim) -> None:
    """Every x-amz-* header sent must be signed, as S3 requires: an unsigned one could
    have been added to a captured request (x-amz-copy-source, x-amz-target ...)."""
    signed = set(claim.signed_headers)
    unsigned = sorted(
        {name.lower() for name in request.headers if name.lower().startswith("x-amz-")} - signed
    )
    if unsigned:
        raise AuthFailure(
            Refusal.UNSIGNED_HEADERS,
            "There were headers present in the request which were not signed",
            headers_not_signed=", ".join(unsigned),
        )


def _hex_hash_differs(payload_hash: str | None, body: bytes) -> bool:
    """Whether a hex x-amz-content-sha256 is given and is not the body's hash."""
    if not payload_hash or not _HEX_SHA256.fullmatch(payload_hash):
        return False
    return not hmac.compare_digest(hashlib.sha256(body).hexdigest(), payload_hash)


def _check_s3_payload_hash(payload_hash: str | None, claim: SignatureClaim) -> None:
    if payload_hash is None:
        if claim.presigned:
            return
        raise AuthFailure(
            Refusal.BAD_PAYLOAD_HASH,
            "Missing required header for this request: x-amz-content-sha256",
        )
    streaming = (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER)
    if claim.presigned and payload_hash in streaming:
        raise AuthFailure(
            Refusal.BAD_PAYLOAD_HASH, "A presigned URL cannot carry an aws-chunked body."
        )
    if payload_hash in (UNSIGNED_PAYLOAD, *streaming) or _HEX_SHA256.fullmatch(payload_hash):
        return
    raise AuthFailure(
        Refusal.BAD_PAYLOAD_HASH,
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a "
        "valid sha256 value.",
    )


class _ClaimedHeaders:
    """Canonicalises exactly the headers the AWSRequest holds: those the client signed
    (botocore's own choice of headers is a client's, which a server must not apply)."""

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        chosen = HTTPHeaders()
        for name, value in request.headers.items():
            chosen[name.lower()] = value
        return chosen


class _HeaderSigner(_ClaimedHeaders, SigV4Auth):
    pass


class _S3HeaderSigner(_ClaimedHeaders, S3SigV4Auth):
    pass


class _QuerySigner(_ClaimedHeaders, SigV4QueryAuth):
    pass


class _S3QuerySigner(_ClaimedHeaders, S3SigV4QueryAuth):
    pass


def _signer_and_request(
    request: Request, claim: SignatureClaim, key: AccessKey, body: bytes
) -> tuple[SigV4Auth, AWSRequest]:
    credentials = Credentials(key.access_key_id, key.secret_access_key)
    if claim.presigned:
        kind: Any = _S3QuerySigner if claim.service == "s3" else _QuerySigner
    else:
        kind = _S3HeaderSigner if claim.service == "s3" else _HeaderSigner
    signer: SigV4Auth = kind(credentials, claim.service, claim.region)
    raw_path = request.scope.get("raw_path")
    if isinstance(raw_path, bytes) and raw_path:
        path = raw_path.decode("latin-1").split("?", 1)[0]
    else:
        path = request.url.path
    host = request.headers.get("host", "")
    aws_request = AWSRequest(
        method=request.method,
        url=f"{request.url.scheme}://{host}{path}",
        data=body,
        params=_query_pairs(request.scope.get("query_string", b""), claim.presigned),
    )
    for name in claim.signed_headers:
        for value in request.headers.getlist(name):
            aws_request.headers[name] = value
    aws_request.context["timestamp"] = claim.timestamp
    return signer, aws_request


def _query_pairs(query_string: bytes, presigned: bool) -> list[tuple[str, str]]:
    """The query as decoded (name, value) pairs, for botocore to encode canonically; a
    presigned URL's own signature is not part of what it signs."""
    pairs = []
    for item in query_string.decode("latin-1").split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        name, value = unquote(name), unquote(value)
        if presigned and name == "X-Amz-Signature":
            continue
        pairs.append((name, value))
    return pairs
