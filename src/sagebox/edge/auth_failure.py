"""Why a request was not authenticated, independent of the protocol that reports it."""

from __future__ import annotations

import time
from enum import Enum


class Refusal(Enum):
    """Why a request was not authenticated."""

    MISSING = "missing"  # no signature at all
    MALFORMED = "malformed"  # a signature that cannot be read
    BAD_PAYLOAD_HASH = "bad-payload-hash"  # x-amz-content-sha256 missing or not valid
    UNKNOWN_KEY = "unknown-key"
    BAD_SIGNATURE = "bad-signature"
    UNSIGNED_HEADERS = "unsigned-headers"
    SKEWED = "skewed"  # header signature dated outside the 15-minute window
    EXPIRED = "expired"  # presigned URL past its X-Amz-Expires
    NOT_YET_VALID = "not-yet-valid"  # presigned URL dated in the future
    PAYLOAD_MISMATCH = "payload-mismatch"  # body differs from its signed hash


class AuthFailure(Exception):
    """A request that is not authenticated: the reason, a message detail and the facts
    (access key id, string to sign, times ...) AWS's error documents report."""

    def __init__(self, reason: Refusal, detail: str = "", **facts: str) -> None:
        super().__init__(detail or reason.value)
        self.reason = reason
        self.detail = detail
        self.facts = facts


def iso_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
