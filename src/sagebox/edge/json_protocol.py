"""The JSON 1.1 protocol driven by botocore's model: validate input, serialize output.

Validation follows the model's constraints (required members, types, enums, lengths,
ranges, patterns) and words its errors the way AWS services do:
"1 validation error detected: Value null at 'roleArn' failed to satisfy constraint:
Member must not be null".
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

import regex
from botocore.model import ListShape, MapShape, Shape, StructureShape

_MAX_REPORTED = 10


@cache
def _compiled(pattern: str) -> regex.Pattern[str] | None:
    """Model patterns are Java regexes; the `regex` module reads \\p{..} classes."""
    try:
        return regex.compile(pattern, regex.DOTALL)
    except regex.error:
        return None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return str(value)[:100]
    return str(value)


def _violations(shape: Shape, value: Any, path: str) -> Iterator[str]:
    type_name = shape.type_name
    if type_name == "structure":
        yield from _structure_violations(shape, value, path)  # type: ignore[arg-type]
    elif type_name == "list":
        yield from _list_violations(shape, value, path)  # type: ignore[arg-type]
    elif type_name == "map":
        yield from _map_violations(shape, value, path)  # type: ignore[arg-type]
    elif type_name == "string":
        yield from _string_violations(shape, value, path)
    elif type_name in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be an integer"
        else:
            yield from _range_violations(shape, value, path)
    elif type_name in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a number"
        else:
            yield from _range_violations(shape, value, path)
    elif type_name == "boolean":
        if not isinstance(value, bool):
            yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a boolean"
    elif type_name == "timestamp" and parse_timestamp(value) is None:
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a timestamp"


def _structure_violations(shape: StructureShape, value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"Value '{_show(value)}' at '{path or shape.name}' failed to satisfy constraint: Member must be a structure"
        return
    prefix = f"{path}." if path else ""
    for name in shape.required_members:
        if value.get(name) is None:
            yield f"Value null at '{prefix}{_camel(name)}' failed to satisfy constraint: Member must not be null"
    for name, member in shape.members.items():
        if value.get(name) is not None:
            yield from _violations(member, value[name], f"{prefix}{_camel(name)}")


def _list_violations(shape: ListShape, value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, list):
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a list"
        return
    yield from _length_violations(shape, value, len(value), path)
    for index, item in enumerate(value, start=1):
        if item is None:
            yield f"Value null at '{path}.{index}.member' failed to satisfy constraint: Member must not be null"
        else:
            yield from _violations(shape.member, item, f"{path}.{index}.member")


def _map_violations(shape: MapShape, value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a map"
        return
    yield from _length_violations(shape, value, len(value), path)
    for key, item in value.items():
        yield from _violations(shape.key, key, f"{path}.{key}.key")
        if item is None:
            yield f"Value null at '{path}.{key}.value' failed to satisfy constraint: Member must not be null"
        else:
            yield from _violations(shape.value, item, f"{path}.{key}.value")


def _string_violations(shape: Shape, value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, str):
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a string"
        return
    enum = shape.enum
    if enum and value not in enum:
        allowed = ", ".join(enum)
        yield f"Value '{value}' at '{path}' failed to satisfy constraint: Member must satisfy enum value set: [{allowed}]"
        return
    yield from _length_violations(shape, value, len(value), path)
    pattern = shape.metadata.get("pattern")
    if pattern:
        compiled = _compiled(pattern)
        if compiled is not None and compiled.fullmatch(value) is None:
            yield (
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}"
            )


def _length_violations(shape: Shape, value: Any, length: int, path: str) -> Iterator[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and length < low:
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {low}"
    if high is not None and length > high:
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must have length less than or equal to {high}"


def _range_violations(shape: Shape, value: float, path: str) -> Iterator[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must have value greater than or equal to {low}"
    if high is not None and value > high:
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must have value less than or equal to {high}"


def validate(shape: StructureShape | None, params: Any) -> str | None:
    """An AWS-worded message listing every violation, or None when `params` is valid."""
    if shape is None:
        return None
    found = list(_violations(shape, params, ""))
    if not found:
        return None
    count = len(found)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(found[:_MAX_REPORTED])


def parse_timestamp(value: Any) -> datetime | None:
    """A timestamp as the JSON protocol sends it (epoch seconds) or an ISO 8601 string."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                return datetime.fromtimestamp(float(value), tz=UTC)
            except ValueError:
                return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def parse_input(shape: StructureShape | None, params: dict[str, Any]) -> dict[str, Any]:
    """Input with timestamps as aware datetimes and blobs as bytes; other values as sent."""
    if shape is None:
        return {}
    return _decode(shape, params)


def _decode(shape: Shape, value: Any) -> Any:
    type_name = shape.type_name
    if type_name == "structure":
        return {
            name: _decode(shape.members[name], item) if name in shape.members else item  # type: ignore[attr-defined]
            for name, item in value.items()
        }
    if type_name == "list":
        return [_decode(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if type_name == "map":
        return {key: _decode(shape.value, item) for key, item in value.items()}  # type: ignore[attr-defined]
    if type_name == "timestamp":
        return parse_timestamp(value)
    if type_name == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return value


def serialize(shape: StructureShape | None, data: dict[str, Any] | None) -> dict[str, Any]:
    """Output restricted to the model's members, timestamps as epoch seconds."""
    if shape is None or data is None:
        return {}
    return _encode(shape, data)


def _encode(shape: Shape, value: Any) -> Any:
    type_name = shape.type_name
    if type_name == "structure":
        members = shape.members  # type: ignore[attr-defined]
        return {
            name: _encode(members[name], item)
            for name, item in value.items()
            if name in members and item is not None
        }
    if type_name == "list":
        return [_encode(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if type_name == "map":
        return {key: _encode(shape.value, item) for key, item in value.items()}  # type: ignore[attr-defined]
    if type_name == "timestamp":
        moment = parse_timestamp(value)
        return moment.timestamp() if moment is not None else value
    if type_name == "blob" and isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    return value
