"""The checks every request passes before any handler runs: Host, Origin, SigV4.

The web console (/ui/) passes the Host and Origin rules like every request; instead of
SigV4 it checks its own signed session cookie and CSRF tokens (edge/ui/session.py).

`RequestGate.refusal` answers a request that must not be served (in its protocol's
error shape) or None; the edge calls it first thing. When authentication is on, the
verified caller is left in the request's scope for the handlers that answer with the
caller's identity (STS GetCallerIdentity), and a signed chunked upload's signature
chain for the S3 body decoder.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from sagebox.config import Settings
from sagebox.edge import chunk_signatures, routing
from sagebox.edge.auth import Caller, SigV4Verifier
from sagebox.edge.auth_errors import auth_error_response
from sagebox.edge.auth_failure import AuthFailure
from sagebox.edge.errors import AWSError, cbor_error, json_error, query_error
from sagebox.edge.origin import OriginPolicy, ServedHosts, host_name
from sagebox.edge.s3_wire import error_response
from sagebox.objects.errors import UnknownObjectStoreError
from sagebox.services.access_keys import AccessKeyService, CachedAccessKeys
from sagebox.store import MetadataStore

log = logging.getLogger(__name__)

CALLER = "sagebox.caller"
_QUERY_SERVICES = ("sts", "iam")
_JSON_SERVICES = ("sagemaker", "logs", "sagemaker-runtime")


class RequestGate:
    """Host and Origin rules always; SigV4 verification when `settings.auth` is "sigv4"."""

    def __init__(self, settings: Settings, keys: CachedAccessKeys | None) -> None:
        if settings.auth_required and keys is None:
            raise ValueError("authentication is on (auth=sigv4) but no access keys were given")
        self.hosts = ServedHosts(settings.host, settings.allowed_hosts)
        self.origins = OriginPolicy(settings.cors_origins)
        self.verifier = SigV4Verifier(keys) if settings.auth_required and keys else None

    @classmethod
    def for_store(cls, settings: Settings, store: MetadataStore) -> RequestGate:
        keys = CachedAccessKeys(AccessKeyService(store, settings.account_id))
        return cls(settings, keys if settings.auth_required else None)

    async def refusal(
        self, request: Request, rid: str, read_body: Callable[[], Awaitable[bytes]] | None = None
    ) -> Response | None:
        """The answer to a request that must not reach a handler, or None to go on.
        `read_body` gives the body the signature covers (the edge may have read it already)."""
        service = routing.service_of(request, b"")
        protocol = protocol_of(request, service)
        host = request.headers.get("host")
        if not self.hosts.serves(host):
            return _error(
                protocol,
                AWSError(
                    "InvalidHostHeader",
                    f"sagebox does not serve the host {host_name(host or '')!r}: it answers to "
                    "loopback names, the address it listens on and the names given with "
                    "--allowed-host (SAGEBOX_ALLOWED_HOSTS), which keeps web pages from reaching "
                    "it through DNS rebinding.",
                ),
                rid,
                request.method,
            )
        if self.origins.is_preflight(request):
            answer = self.origins.preflight(request)
            if answer is not None:
                return answer
            return _error(
                protocol,
                AWSError(
                    "AccessForbidden",
                    "CORSResponse: This CORS request is not allowed: the origin "
                    f"{request.headers.get('origin')!r} was not given with --cors-origin "
                    "(SAGEBOX_CORS_ORIGINS).",
                    403,
                ),
                rid,
                request.method,
            )
        if self.origins.refuses(request):
            code = "AccessDeniedException" if protocol == "json" else "AccessDenied"
            return _error(
                protocol,
                AWSError(
                    code,
                    f"sagebox refuses a {request.method} request from the browser origin "
                    f"{request.headers.get('origin')!r}: only this server's own origin and the "
                    "origins given with --cors-origin (SAGEBOX_CORS_ORIGINS) may send requests "
                    "that change state.",
                    403,
                ),
                rid,
                request.method,
            )
        # The console signs its users in itself (a session cookie, edge/ui/session.py).
        if self.verifier is None or service in ("health", "ui"):
            return None
        try:
            caller = await self.verifier.verify(request, service, read_body or request.body)
        except AuthFailure as failure:
            return auth_error_response(failure, protocol, rid, request.method)
        except Exception as exc:
            log.exception("authenticating %s %s failed", request.method, request.url.path)
            error = AWSError(
                "InternalFailure", f"sagebox failed to authenticate the request: {exc!r}", 500
            )
            return _error(protocol, error, rid, request.method)
        request.scope[CALLER] = caller
        if caller.chunk_signatures is not None:
            request.scope[chunk_signatures.SCOPE_KEY] = caller.chunk_signatures
        return None

    def decorate(self, request: Request, response: Response) -> None:
        """CORS headers on the response to an allowed origin."""
        self.origins.decorate(request, response)


def caller_of(request: Request) -> Caller | None:
    """The authenticated caller of a request; None when authentication is off."""
    caller = request.scope.get(CALLER)
    return caller if isinstance(caller, Caller) else None


def protocol_of(request: Request, service: str) -> str:
    """The error shape a request's client reads: "json", "query", "cbor" or "s3"."""
    if request.headers.get("smithy-protocol") == "rpc-v2-cbor":
        return "cbor"
    if service in _JSON_SERVICES:
        return "json"
    if service in _QUERY_SERVICES or (
        request.method == "POST"
        and request.url.path == "/"
        and "x-www-form-urlencoded" in request.headers.get("content-type", "")
    ):
        return "query"
    if service == "s3":
        return "s3"
    return "json"


def _error(protocol: str, error: AWSError, rid: str, method: str) -> Response:
    if protocol == "s3":
        failure = UnknownObjectStoreError(error.code, error.message, error.status)
        return error_response(failure, rid, method=method, bucket="", key="")
    if protocol == "query":
        return query_error(error, rid)
    if protocol == "cbor":
        return cbor_error(error, rid)
    return json_error(error, rid)
