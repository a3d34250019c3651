"""CBOR (RFC 8949) as the Smithy RPC v2 CBOR protocol uses it: the bytes on the wire only.

botocore sends CloudWatch requests in this protocol (``smithy-rpc-v2-cbor``, the first one
its model lists). What is here is the data model that protocol needs, both ways: unsigned
and negative integers, byte and text strings (definite or indefinite length), arrays, maps,
``false`` / ``true`` / ``null`` / undefined, half, single and double floats, and tag 1
(epoch-based date/time), which decodes to an aware UTC `datetime` and is how timestamps
are encoded. Shapes are the caller's business (`edge/cloudwatch.py`).
"""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime
from typing import Any

_BREAK = 0xFF
_INDEFINITE = 31
_EPOCH_TAG = 1


class CBORError(ValueError):
    """The bytes are not well-formed CBOR (or use a part this codec does not read)."""


# -- decoding ------------------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.position = 0

    def take(self, count: int) -> bytes:
        end = self.position + count
        if end > len(self.data):
            raise CBORError(f"truncated CBOR: {count} more bytes expected at offset {self.position}")
        chunk = bytes(self.data[self.position : end])
        self.position = end
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def peek_break(self) -> bool:
        if self.position < len(self.data) and self.data[self.position] == _BREAK:
            self.position += 1
            return True
        return False


def decode(data: bytes) -> Any:
    """The one data item `data` holds; CBORError if it is not exactly one well-formed item."""
    reader = _Reader(data)
    value = _item(reader)
    if reader.position != len(reader.data):
        raise CBORError(f"{len(reader.data) - reader.position} bytes follow the CBOR data item")
    return value


def _argument(reader: _Reader, info: int) -> int:
    if info < 24:
        return info
    sizes = {24: 1, 25: 2, 26: 4, 27: 8}
    if info not in sizes:
        raise CBORError(f"invalid CBOR additional information {info}")
    return int.from_bytes(reader.take(sizes[info]), "big")


def _item(reader: _Reader) -> Any:
    initial = reader.byte()
    major, info = initial >> 5, initial & 0x1F
    if major == 0:
        return _argument(reader, info)
    if major == 1:
        return -1 - _argument(reader, info)
    if major in (2, 3):
        raw = _string_bytes(reader, major, info)
        return raw if major == 2 else raw.decode("utf-8")
    if major == 4:
        if info == _INDEFINITE:
            items = []
            while not reader.peek_break():
                items.append(_item(reader))
            return items
        return [_item(reader) for _ in range(_argument(reader, info))]
    if major == 5:
        result: dict[Any, Any] = {}
        if info == _INDEFINITE:
            while not reader.peek_break():
                key = _item(reader)
                result[key] = _item(reader)
            return result
        for _ in range(_argument(reader, info)):
            key = _item(reader)
            result[key] = _item(reader)
        return result
    if major == 6:
        tag = _argument(reader, info)
        value = _item(reader)
        if tag == _EPOCH_TAG and isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=UTC)
        return value  # other tags carry their content unchanged
    return _simple(reader, info)


def _string_bytes(reader: _Reader, major: int, info: int) -> bytes:
    if info != _INDEFINITE:
        return reader.take(_argument(reader, info))
    chunks = []
    while not reader.peek_break():
        initial = reader.byte()
        if initial >> 5 != major or initial & 0x1F == _INDEFINITE:
            raise CBORError("an indefinite-length string holds a chunk of another type")
        chunks.append(reader.take(_argument(reader, initial & 0x1F)))
    return b"".join(chunks)


def _simple(reader: _Reader, info: int) -> Any:
    if info == 20:
        return False
    if info == 21:
        return True
    if info in (22, 23):
        return None
    if info == 25:
        return struct.unpack(">e", reader.take(2))[0]
    if info == 26:
        return struct.unpack(">f", reader.take(4))[0]
    if info == 27:
        return struct.unpack(">d", reader.take(8))[0]
    if info == 24:
        reader.take(1)
        return None
    raise CBORError(f"unsupported CBOR simple value {info}")


# -- encoding ------------------------------------------------------------------------------


def encode(value: Any) -> bytes:
    """`value` (None, bool, int, float, str, bytes, list, dict, datetime) as CBOR."""
    out = bytearray()
    _write(out, value)
    return bytes(out)


def _head(out: bytearray, major: int, argument: int) -> None:
    if argument < 24:
        out.append(major << 5 | argument)
    elif argument < 1 << 8:
        out += bytes((major << 5 | 24, argument))
    elif argument < 1 << 16:
        out.append(major << 5 | 25)
        out += argument.to_bytes(2, "big")
    elif argument < 1 << 32:
        out.append(major << 5 | 26)
        out += argument.to_bytes(4, "big")
    else:
        out.append(major << 5 | 27)
        out += argument.to_bytes(8, "big")


def _write(out: bytearray, value: Any) -> None:
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, int):
        if value >= 0:
            _head(out, 0, value)
        else:
            _head(out, 1, -1 - value)
    elif isinstance(value, float):
        _write_float(out, value)
    elif isinstance(value, str):
        encoded = value.encode("utf-8")
        _head(out, 3, len(encoded))
        out += encoded
    elif isinstance(value, (bytes, bytearray, memoryview)):
        _head(out, 2, len(value))
        out += bytes(value)
    elif isinstance(value, datetime):
        _head(out, 6, _EPOCH_TAG)
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        _write_float(out, moment.timestamp())
    elif isinstance(value, (list, tuple)):
        _head(out, 4, len(value))
        for item in value:
            _write(out, item)
    elif isinstance(value, dict):
        _head(out, 5, len(value))
        for key, item in value.items():
            _write(out, key)
            _write(out, item)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as CBOR")


def _write_float(out: bytearray, value: float) -> None:
    if math.isnan(value):
        out += b"\xf9\x7e\x00"
    elif math.isinf(value):
        out += b"\xf9\x7c\x00" if value > 0 else b"\xf9\xfc\x00"
    else:
        out.append(0xFB)
        out += struct.pack(">d", value)
