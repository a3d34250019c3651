"""The JSON 1.1 protocol driven by botocore's model: validate input, serialize output.

Validation follows the model's constraints (required members, types, enums, lengths,
ranges, patterns) and words its errors the way AWS services do:
"1 validation error detected: Value null at 'roleArn' failed to satisfy constraint:
Member must not be null". Beyond the model, integers must fit 32 bits and longs 64
(Java's int and long, as AWS reads them), and timestamps must be finite and within
the years 1 to 9999. A message quotes at most the first `MAX_QUOTED` characters of a
value and lists at most `_MAX_REPORTED` violations, as AWS does.
"""

from __future__ import annotations

import base64
import binascii
import math
import reprlib
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

import regex
from botocore.model import ListShape, MapShape, Shape, StructureShape

_MAX_REPORTED = 10
MAX_QUOTED = 200
_INTEGER_BITS = {"integer": 32, "long": 64}
EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
_TIMESTAMP_RANGE = "between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z"


def _bounded_repr() -> reprlib.Repr:
    """A repr that stops after a few levels and items, however large the value is."""
    bounded = reprlib.Repr()
    bounded.maxlevel, bounded.maxdict, bounded.maxlist = 3, 8, 8
    bounded.maxstring = bounded.maxother = MAX_QUOTED
    return bounded


_BOUNDED_REPR = _bounded_repr()


@cache
def compiled_pattern(pattern: str) -> regex.Pattern[str] | None:
    """Model patterns are Java regexes; the `regex` module reads \\p{..} classes."""
    try:
        return regex.compile(pattern, regex.DOTALL)
    except regex.error:
        return None


@cache
def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _cut(text: str) -> str:
    return text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED]


def _show(value: Any) -> str:
    """The value as a message quotes it: at most MAX_QUOTED characters, however large it is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, (dict, list)):
        return _cut(_BOUNDED_REPR.repr(value))
    try:
        return _cut(str(value))
    except ValueError:  # an integer past Python's 4,300-digit conversion limit
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"


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
            yield from _integer_violations(shape, value, path)
    elif type_name in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a number"
        else:
            yield from _range_violations(shape, value, path)
    elif type_name == "boolean":
        if not isinstance(value, bool):
            yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a boolean"
    elif type_name == "timestamp":
        yield from _timestamp_violations(value, path)
    elif type_name == "blob":
        yield from _blob_violations(value, path)


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
        shown = _cut(key)
        yield from _violations(shape.key, key, f"{path}.{shown}.key")
        if item is None:
            yield f"Value null at '{path}.{shown}.value' failed to satisfy constraint: Member must not be null"
        else:
            yield from _violations(shape.value, item, f"{path}.{shown}.value")


def _string_violations(shape: Shape, value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, str):
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a string"
        return
    enum = shape.enum
    if enum and value not in enum:
        allowed = ", ".join(enum)
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must satisfy enum value set: [{allowed}]"
        return
    yield from _length_violations(shape, value, len(value), path)
    pattern = shape.metadata.get("pattern")
    if pattern:
        compiled = compiled_pattern(pattern)
        # concurrent=False: `regex` otherwise lets go of the interpreter lock for every match,
        # and a request then waits for the lock back once per patterned string.
        if compiled is not None and compiled.fullmatch(value, concurrent=False) is None:
            yield (
                f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
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


def _integer_violations(shape: Shape, value: int, path: str) -> Iterator[str]:
    """The model's range, or else the range of the Java type AWS reads the member into."""
    bits = _INTEGER_BITS[shape.type_name]
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if value < low and shape.metadata.get("min") is None:
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must have value greater than or equal to {low}"
    elif value > high and shape.metadata.get("max") is None:
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must have value less than or equal to {high}"
    else:
        yield from _range_violations(shape, value, path)


def _timestamp_violations(value: Any, path: str) -> Iterator[str]:
    if parse_timestamp(value) is not None:
        return
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if numeric or _timestamp_number(value) is not None:
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a timestamp {_TIMESTAMP_RANGE}"
    else:
        yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a timestamp"


def _blob_violations(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        try:
            base64.b64decode(value, validate=True)
            return
        except (binascii.Error, ValueError):
            pass
    yield f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be base64-encoded binary data"


def validate(shape: StructureShape | None, params: Any) -> str | None:
    """An AWS-worded message listing every violation (the first ten spelled out), or None when `params` is valid."""
    if shape is None:
        return None
    shown: list[str] = []
    count = 0
    for violation in _violations(shape, params, ""):
        count += 1
        if count <= _MAX_REPORTED:
            shown.append(violation)
    if not count:
        return None
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(shown)


def _timestamp_number(value: Any) -> float | None:
    """A string that reads as a number of epoch seconds ("1767323045", "1e20", "inf"), as a float."""
    if not isinstance(value, str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _from_epoch(seconds: float) -> datetime | None:
    if not math.isfinite(seconds):
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_timestamp(value: Any) -> datetime | None:
    """A timestamp as the JSON protocol sends it (epoch seconds) or an ISO 8601 string;
    None when it is neither or lies outside the years 1 to 9999."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_epoch(value)
    if isinstance(value, str):
        number = _timestamp_number(value)
        if number is not None:
            return _from_epoch(number)
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            return None
    return None


def parse_input(shape: StructureShape | None, params: dict[str, Any]) -> dict[str, Any]:
    """Validated input as the services read it: timestamps as aware datetimes, blobs as bytes.

    A null member is an absent member and a member the model does not know is dropped, as
    AWS reads them, so a service finds exactly the members the model describes.
    """
    if shape is None:
        return {}
    return _decode(shape, params)


def _decode(shape: Shape, value: Any) -> Any:
    type_name = shape.type_name
    if type_name == "structure":
        members = shape.members  # type: ignore[attr-defined]
        return {
            name: _decode(members[name], item)
            for name, item in value.items()
            if item is not None and name in members
        }
    if type_name == "list":
        return [_decode(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if type_name == "map":
        return {key: _decode(shape.value, item) for key, item in value.items()}  # type: ignore[attr-defined]
    if type_name == "timestamp":
        return parse_timestamp(value)
    if type_name == "blob" and isinstance(value, str):
        return base64.b64decode(value, validate=True)
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
