"""S3 presigned URLs in the legacy Signature Version 2 form (?AWSAccessKeyId&Expires&Signature).

boto3 still presigns S3 URLs this way unless the client is configured with
signature_version="s3v4", so a server that requires authentication must accept them.
The signature is recomputed with botocore's own HmacV1QueryAuth (its canonical string:
method, Content-MD5, Content-Type, the expiry, x-amz-* headers, the resource with its
sub-resources) and compared in constant time.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from botocore.auth import HmacV1QueryAuth
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials
from starlette.requests import Request

from sagebox.edge.auth_failure import AuthFailure, Refusal, iso_time
from sagebox.edge.s3_wire import bucket_from_host
from sagebox.services.access_keys import AccessKey

QUERY_PARAMETERS = ("AWSAccessKeyId", "Expires", "Signature")


def is_presigned_v2(request: Request) -> bool:
    query = request.query_params
    return "authorization" not in request.headers and all(n in query for n in QUERY_PARAMETERS)


def check_expiry(request: Request, now: float) -> None:
    """AuthFailure when the URL has expired."""
    expires = request.query_params["Expires"]
    if not expires.isdigit():
        raise AuthFailure(Refusal.MALFORMED, "Expires should be a number.", mechanism="query")
    if now > int(expires):
        raise AuthFailure(
            Refusal.EXPIRED,
            "Request has expired",
            expires_seconds="",
            expires=iso_time(int(expires)),
            server_time=iso_time(now),
        )


class _ExpiringSigner(HmacV1QueryAuth):
    """botocore's v2 query signer with the URL's own expiry as its date."""

    def __init__(self, credentials: Credentials, expires: str) -> None:
        super().__init__(credentials)
        self._expires_at = expires

    def _get_date(self) -> str:
        return self._expires_at


def verify_presigned_v2(request: Request, key: AccessKey) -> None:
    """AuthFailure unless the URL's signature is the key's."""
    query = request.query_params
    signer = _ExpiringSigner(
        Credentials(key.access_key_id, key.secret_access_key), query["Expires"]
    )
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1").split("?", 1)[0] if isinstance(raw_path, bytes) else "/"
    query_string = request.scope.get("query_string", b"").decode("latin-1")
    split = urlsplit(f"http://host{path}?{query_string}")
    bucket = bucket_from_host(request.headers.get("host", ""))
    auth_path = f"/{bucket}{path}" if bucket else None
    headers = HTTPHeaders()
    for name, value in request.headers.items():
        if name.lower() in ("content-md5", "content-type") or name.lower().startswith("x-amz-"):
            headers[name.lower()] = value
    for name, value in query.multi_items():
        if name.lower().startswith("x-amz-") and name.lower() not in headers:
            headers[name.lower()] = value
    string_to_sign = signer.canonical_string(request.method, split, headers, auth_path=auth_path)
    expected = signer.sign_string(string_to_sign)
    provided = query["Signature"]
    if not hmac.compare_digest(expected.encode(), provided.encode()):
        raise AuthFailure(
            Refusal.BAD_SIGNATURE,
            access_key_id=key.access_key_id,
            string_to_sign=string_to_sign,
            signature_provided=provided,
        )
