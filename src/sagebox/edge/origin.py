"""Which Host names are served and which browser origins may change state.

A web page can make a browser send requests to a server on this machine, either by
DNS rebinding (a name of the attacker's that resolves to 127.0.0.1: the browser then
sends that name as the Host) or by cross-site requests (forms and fetch() from another
origin, which carry that origin in the Origin header). So:

- Host: only names that resolve to this server are served: the loopback names
  (localhost and *.localhost, 127.0.0.0/8, ::1), the bound address, this machine's
  host name when listening beyond loopback, AWS's own amazonaws.com names (they reach
  sagebox only where DNS or a proxy was pointed at it on purpose, and no web page can
  rebind them), and names given with --allowed-host (SAGEBOX_ALLOWED_HOSTS);
  subdomains of a served name are served too, which keeps S3's virtual-hosted style
  (<bucket>.localhost, <bucket>.s3.<name>) working. An IP
  literal is served when it is loopback or the bound address, or any when listening
  on a wildcard address (an IP literal cannot be rebound).
- Origin: a request that may change state (any method but GET, HEAD and OPTIONS) and
  carries an Origin other than this server's own is refused, unless that origin was
  given with --cors-origin (SAGEBOX_CORS_ORIGINS). Allowed origins get CORS answers:
  preflights are answered and responses carry Access-Control-Allow-Origin.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::", ""})
ANY_HOST = "*"
# Names served whatever the settings: loopback, and AWS's own domain.
ALWAYS_SERVED_NAMES = ("localhost", "amazonaws.com")
PREFLIGHT_MAX_AGE_SECONDS = 600
CORS_METHODS = "GET, PUT, POST, DELETE, HEAD"
# Response headers a browser script may read: what AWS SDKs look at.
CORS_EXPOSED_HEADERS = ", ".join(
    [
        "ETag",
        "Content-Length",
        "Content-Range",
        "Last-Modified",
        "x-amz-request-id",
        "x-amz-id-2",
        "x-amz-version-id",
        "x-amz-delete-marker",
        "x-amz-checksum-crc32",
        "x-amz-checksum-crc32c",
        "x-amz-checksum-sha1",
        "x-amz-checksum-sha256",
        "x-amz-mp-parts-count",
        "x-amzn-RequestId",
        "x-amzn-ErrorType",
        "X-Amzn-SageMaker-OutputLocation",
        "X-Amzn-SageMaker-FailureLocation",
        "X-Amzn-Invoked-Production-Variant",
    ]
)


def host_name(host_header: str) -> str:
    """The name of a Host header: no port, no IPv6 brackets, lower case, no trailing dot."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value[1:]
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """Whether a listening address (or name) reaches this machine only."""
    name = host_name(host) if host else host
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = _ip(name)
    return address is not None and address.is_loopback


class ServedHosts:
    """The Host rule: `serves(host_header)` for names that resolve to this server."""

    def __init__(self, bound_host: str, allowed_hosts: Iterable[str] = ()) -> None:
        bound = host_name(bound_host) if bound_host else ""
        self._wildcard = bound in WILDCARD_ADDRESSES
        self._any = False
        names = set(ALWAYS_SERVED_NAMES)
        addresses = set()
        for given in [bound, *allowed_hosts]:
            name = host_name(given) if given else ""
            if not name:
                continue
            if name == ANY_HOST:
                self._any = True
            elif _ip(name) is not None:
                addresses.add(_ip(name))
            elif name not in WILDCARD_ADDRESSES:
                names.add(name)
        if not is_loopback(bound_host or "127.0.0.1"):
            names.add(socket.gethostname().lower())
        self._names = frozenset(names)
        self._addresses = frozenset(addresses)

    def serves(self, host_header: str | None) -> bool:
        if self._any or not host_header:
            return True
        name = host_name(host_header)
        address = _ip(name)
        if address is not None:
            return address.is_loopback or address in self._addresses or self._wildcard
        return any(name == served or name.endswith("." + served) for served in self._names)


class OriginPolicy:
    """The Origin rule and the CORS answers for the origins allowed with --cors-origin."""

    def __init__(self, cors_origins: Iterable[str] = ()) -> None:
        self._allowed = frozenset(origin.strip().rstrip("/").lower() for origin in cors_origins)

    @staticmethod
    def origin_of(request: Request) -> str | None:
        origin = request.headers.get("origin")
        return origin.strip().rstrip("/").lower() if origin is not None else None

    @staticmethod
    def own_origin(request: Request) -> str:
        return f"{request.url.scheme}://{request.headers.get('host', '').strip().lower()}"

    def allows(self, origin: str) -> bool:
        return origin in self._allowed

    def refuses(self, request: Request) -> bool:
        """Whether a state-changing request comes from a foreign, not allowed origin."""
        if request.method in SAFE_METHODS:
            return False
        origin = self.origin_of(request)
        if origin is None or origin == self.own_origin(request):
            return False
        return not self.allows(origin)

    @staticmethod
    def is_preflight(request: Request) -> bool:
        return (
            request.method == "OPTIONS"
            and "origin" in request.headers
            and "access-control-request-method" in request.headers
        )

    def preflight(self, request: Request) -> Response | None:
        """The answer to an allowed preflight; None when the origin is not allowed."""
        origin = self.origin_of(request)
        if origin is None or not self.allows(origin):
            return None
        headers = {
            "Access-Control-Allow-Origin": request.headers["origin"],
            "Access-Control-Allow-Methods": CORS_METHODS,
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
            "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        }
        wanted = request.headers.get("access-control-request-headers")
        if wanted:
            headers["Access-Control-Allow-Headers"] = wanted
        return Response(b"", status_code=200, headers=headers)

    def decorate(self, request: Request, response: Response) -> None:
        """Adds the CORS headers to the response to an allowed origin's request."""
        origin = self.origin_of(request)
        if origin is None or not self.allows(origin):
            return
        response.headers["Access-Control-Allow-Origin"] = request.headers["origin"]
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
        response.headers.append("Vary", "Origin")
