"""The signature chain of a signed `aws-chunked` body (S3's chunked upload).

With `x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` the request's
own signature is the seed; every chunk then carries `chunk-signature=<hex>`, the HMAC
(with the request's signing key) of

    AWS4-HMAC-SHA256-PAYLOAD \\n <timestamp> \\n <scope> \\n <previous signature> \\n
    <sha256 of nothing> \\n <sha256 of the chunk's data>

and, in the -TRAILER variant, the trailing headers are signed last by
`x-amz-trailer-signature`, the HMAC of

    AWS4-HMAC-SHA256-TRAILER \\n <timestamp> \\n <scope> \\n <previous signature> \\n
    <sha256 of the trailing headers as "name:value\\n" lines>

The signing key is botocore's (the verifier passes a function that signs a string
with it). S3 answers a broken chain with 403 SignatureDoesNotMatch.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from sagebox.objects.errors import ObjectStoreError, error_for_code

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
TRAILER_SIGNATURE = "x-amz-trailer-signature"
# Where the verifier leaves a request's chain for the S3 body decoder (ASGI scope key).
SCOPE_KEY = "sagebox.chunk_signatures"


class ChunkSignatures:
    """Checks each chunk's signature as the body is decoded, chained from the seed."""

    def __init__(
        self,
        sign: Callable[[str], str],
        *,
        timestamp: str,
        scope: str,
        seed_signature: str,
        signed_trailer: bool,
    ) -> None:
        self._sign = sign
        self._timestamp = timestamp
        self._scope = scope
        self._previous = seed_signature
        self._signed_trailer = signed_trailer
        self._claimed: str | None = None
        self._digest = hashlib.sha256()

    def begin_chunk(self, signature: str | None) -> None:
        if not signature:
            raise _mismatch("a chunk of a signed aws-chunked body has no chunk-signature")
        self._claimed = signature.strip().lower()
        self._digest = hashlib.sha256()

    def update(self, data: bytes | bytearray) -> None:
        self._digest.update(data)

    def end_chunk(self) -> None:
        text = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                self._timestamp,
                self._scope,
                self._previous,
                EMPTY_SHA256,
                self._digest.hexdigest(),
            ]
        )
        self._previous = self._check(text, self._claimed, "chunk")
        self._claimed = None

    def end_body(self, trailer_lines: list[tuple[str, str]]) -> None:
        """Checks the trailer signature (the -TRAILER variant) once the body has ended."""
        if not self._signed_trailer:
            return
        signature = None
        canonical = ""
        for name, value in trailer_lines:
            if name == TRAILER_SIGNATURE:
                signature = value
            else:
                canonical += f"{name}:{value}\n"
        text = "\n".join(
            [
                "AWS4-HMAC-SHA256-TRAILER",
                self._timestamp,
                self._scope,
                self._previous,
                hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
            ]
        )
        self._check(text, signature, "trailer")

    def _check(self, string_to_sign: str, claimed: str | None, what: str) -> str:
        expected = self._sign(string_to_sign)
        provided = (claimed or "").strip().lower().encode()
        if claimed is None or not hmac.compare_digest(expected.encode(), provided):
            raise _mismatch(f"the {what} signature does not match the {what} sent")
        return expected


def _mismatch(why: str) -> ObjectStoreError:
    return error_for_code(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        f"Check your key and signing method. ({why})",
        status=403,
    )
