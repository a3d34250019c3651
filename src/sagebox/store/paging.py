"""Opaque pagination tokens for keyset paging over (sort value, name).

A token is URL-safe base64 of a small JSON object holding a fingerprint of the
query it was made for and the sort key of the last record returned. Keyset
paging (rather than offsets) means records created, changed or deleted between
two pages never make another record appear twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sagebox.store.errors import InvalidNextToken

_VERSION = 1
SortValue = str | datetime


def query_fingerprint(kind: str, criteria: Mapping[str, Any]) -> str:
    """A short digest of everything that defines a listing except its page size."""
    canonical = json.dumps(
        {"kind": kind, **{key: _plain(value) for key, value in criteria.items()}},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_token(fingerprint: str, value: SortValue, name: str) -> str:
    payload = {"v": _VERSION, "q": fingerprint, "k": [_plain(value), name]}
    text = json.dumps(payload, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_token(
    token: str, *, kind: str, fingerprint: str, is_time: bool
) -> tuple[SortValue, str]:
    """The (sort value, name) a token continues after; InvalidNextToken otherwise."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
        value, name = payload["k"]
        if payload["v"] != _VERSION or not isinstance(name, str) or not isinstance(value, str):
            raise ValueError("unexpected token contents")
        made_for = payload["q"]
        decoded: SortValue = datetime.fromisoformat(value) if is_time else value
    except (binascii.Error, UnicodeError, ValueError, KeyError, TypeError) as error:
        raise InvalidNextToken(kind, "the token is malformed") from error
    if made_for != fingerprint:
        raise InvalidNextToken(kind, "the token was issued for a different filter or sort order")
    if isinstance(decoded, datetime) and decoded.tzinfo is None:
        raise InvalidNextToken(kind, "the token is malformed")
    return decoded, name


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


# Tokens of document queries (`ResourceRepository.query`) hold a whole keyset
# position: [sort value, name] or [sort value, name, kind], where the sort value
# may be a number, text, an ISO time or None (no value at the sorted path).
_POSITION_VERSION = 2
PositionValue = str | int | float | None


def encode_position(fingerprint: str, position: list[PositionValue]) -> str:
    payload = {"v": _POSITION_VERSION, "q": fingerprint, "p": position}
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_position(
    token: str, *, scope: str, fingerprint: str, length: int
) -> list[PositionValue]:
    """The keyset position a token continues after; InvalidNextToken otherwise.

    Only the shape is checked here; the caller checks each value's type.
    """
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
        position = payload["p"]
        made_for = payload["q"]
        if payload["v"] != _POSITION_VERSION or not isinstance(position, list):
            raise ValueError("unexpected token contents")
    except (binascii.Error, UnicodeError, ValueError, KeyError, TypeError) as error:
        raise InvalidNextToken(scope, "the token is malformed") from error
    if made_for != fingerprint:
        raise InvalidNextToken(scope, "the token was issued for a different filter or sort order")
    if len(position) != length:
        raise InvalidNextToken(scope, "the token is malformed")
    return position
