"""Reading a JSON 1.1 request body: strict UTF-8, standard JSON, bounded nesting.

Whatever the bytes are, the answer is the parsed object or a SerializationException
(AWS's code for a body it cannot read), never an internal error: invalid UTF-8, a
string with an unpaired surrogate escape ("\\ud800"), the non-standard literals NaN
and Infinity, integers too long to convert, nesting deeper than `MAX_DEPTH` and
anything that is not a JSON object are all refused here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sagebox.edge.errors import AWSError

# Deeper than any request botocore's models describe (about 10 levels; Search's
# recursive expressions excepted) and far below Python's recursion limit.
MAX_DEPTH = 64
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _serialization(message: str) -> AWSError:
    return AWSError("SerializationException", message)


def parse_object(body: bytes) -> dict[str, Any]:
    """The request's JSON object; an empty body is an empty object."""
    if not body.strip():
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _serialization(
            f"The request body is not valid UTF-8: byte 0x{body[exc.start]:02x} at offset {exc.start} "
            "cannot start or continue a character."
        ) from exc
    try:
        params = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise _serialization(f"The request body nests arrays and objects more than {MAX_DEPTH} levels deep.") from exc
    except ValueError as exc:  # JSONDecodeError, a refused constant, an integer too long to convert
        raise _serialization(f"The request body is not valid JSON: {str(exc)[:200]}") from exc
    if not isinstance(params, dict):
        raise _serialization(f"The request body must be a JSON object, not {type(params).__name__}.")
    # Both checks walk the parsed value only when a cheap look at the bytes cannot rule the problem out.
    deep_possible = body.count(b"[") + body.count(b"{") > MAX_DEPTH
    surrogates_possible = _SURROGATE_ESCAPE.search(body) is not None
    if deep_possible or surrogates_possible:
        _check_nesting_and_strings(params, surrogates_possible)
    return params


def _check_nesting_and_strings(root: dict[str, Any], check_strings: bool) -> None:
    pending: list[tuple[Any, int]] = [(root, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            if depth > MAX_DEPTH:
                raise _serialization(f"The request body nests arrays and objects more than {MAX_DEPTH} levels deep.")
            for key, item in value.items():
                if check_strings:
                    _check_string(key)
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > MAX_DEPTH:
                raise _serialization(f"The request body nests arrays and objects more than {MAX_DEPTH} levels deep.")
            pending.extend((item, depth + 1) for item in value)
        elif check_strings and isinstance(value, str):
            _check_string(value)


def _check_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _serialization(
            f"The request body holds a string with an unpaired surrogate (\\u{ord(text[exc.start]):04x}), "
            "which is not valid Unicode."
        ) from exc
