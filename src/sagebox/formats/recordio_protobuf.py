"""The ``aialgs.data.Record`` protobuf message of RecordIO-protobuf data, encoded by hand.

Only the wire format these messages use is implemented: varints, length-delimited
fields and packed repeated numbers (unknown fields are skipped, as protobuf does)::

    message Record        { map<string, Value> features = 1; map<string, Value> label = 2;
                            optional string uid = 3; optional string metadata = 4;
                            optional string configuration = 5; }
    message Value         { oneof value { Float32Tensor float32_tensor = 2;
                            Float64Tensor float64_tensor = 3; Int32Tensor int32_tensor = 7;
                            Bytes bytes = 9; } }
    message *Tensor       { repeated <float|double|int32> values = 1 [packed = true];
                            repeated uint64 keys = 2 [packed = true];
                            repeated uint64 shape = 3 [packed = true]; }

Written by hand on purpose: the only libraries that ship this message type are the
SageMaker SDK and containers, and a protobuf runtime plus generated code would be a
heavy dependency for four small messages. ``encode_record`` emits fields in
field-number order and leaves empty packed fields out, exactly as protobuf's own
serializer does, so the bytes match what the SageMaker SDK writes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
# Value.<oneof> field number -> element dtype, and back
_VALUE_DTYPES: dict[int, np.dtype] = {2: np.dtype("<f4"), 3: np.dtype("<f8"), 7: np.dtype(np.int32)}
_VALUE_FIELDS = {np.dtype(np.float32): 2, np.dtype(np.float64): 3, np.dtype(np.int32): 7}
_BYTES_VALUE = 9


@dataclass(frozen=True)
class Tensor:
    """One ``Value``: a Float32, Float64 or Int32 tensor (dtype of ``values``)."""

    values: np.ndarray
    keys: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    shape: tuple[int, ...] = ()

    @property
    def size(self) -> int:
        """Number of elements the tensor stands for (dense length, or the product of shape)."""
        return math.prod(self.shape) if self.shape else len(self.values)

    @property
    def is_sparse(self) -> bool:
        return len(self.keys) > 0 or len(self.values) != self.size


@dataclass(frozen=True)
class Record:
    """One ``aialgs.data.Record``."""

    features: dict[str, Tensor] = field(default_factory=dict)
    label: dict[str, Tensor] = field(default_factory=dict)
    uid: str | None = None
    metadata: str | None = None
    configuration: str | None = None


class ProtobufError(ValueError):
    """Malformed protobuf bytes."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _varints(values: np.ndarray) -> bytes:
    """Concatenated varints of unsigned 64-bit integers, vectorized."""
    v = np.asarray(values, dtype=np.uint64)
    if v.size == 0:
        return b""
    if int(v.max()) < 0x80:
        return v.astype(np.uint8).tobytes()
    widths = np.ones(len(v), dtype=np.int64)
    rest = v >> np.uint64(7)
    while rest.any():
        widths += rest > 0
        rest >>= np.uint64(7)
    starts = np.cumsum(widths) - widths
    out = np.empty(int(widths.sum()), dtype=np.uint8)
    for k in range(int(widths.max())):
        here = widths > k
        chunk = (v[here] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (widths[here] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[here] + k] = (chunk | more).astype(np.uint8)
    return out.tobytes()


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | _LEN) + _varint(len(payload)) + payload


def tensor_dtype(dtype: np.dtype) -> np.dtype:
    """The tensor type the SageMaker SDK picks for an array dtype."""
    if dtype.kind == "f" and dtype.itemsize == 4:
        return np.dtype(np.float32)
    if dtype.kind == "f" and dtype.itemsize == 8:
        return np.dtype(np.float64)
    if dtype.kind in "iu":
        return np.dtype(np.int32)
    raise TypeError(f"unsupported dtype {dtype}; expected float32, float64 or an integer type")


def _encode_value(tensor: Tensor) -> bytes:
    """A ``Value`` message: the tensor under its oneof field."""
    kind = tensor_dtype(tensor.values.dtype)
    values = tensor.values
    if kind.kind == "f":
        packed = np.ascontiguousarray(values, dtype=kind.newbyteorder("<")).tobytes()
    else:
        as_int = np.asarray(values, dtype=np.int64)
        if as_int.size and (as_int.min() < -(2**31) or as_int.max() >= 2**31):
            raise ValueError("Int32 tensor values must fit in 32 bits")
        packed = _varints(as_int.view(np.uint64))
    body = _len_field(1, packed) if len(values) else b""
    if len(tensor.keys):
        body += _len_field(2, _varints(tensor.keys))
    if tensor.shape:
        body += _len_field(3, _varints(np.asarray(tensor.shape, dtype=np.uint64)))
    return _len_field(_VALUE_FIELDS[kind], body)


def encode_map(number: int, entries: Mapping[str, Tensor]) -> bytes:
    return b"".join(
        _len_field(number, _len_field(1, key.encode()) + _len_field(2, _encode_value(tensor)))
        for key, tensor in entries.items()
    )


def encode_record(record: Record) -> bytes:
    """The protobuf serialization of one ``Record`` (fields in field-number order)."""
    parts = [encode_map(1, record.features), encode_map(2, record.label)]
    for number, text in ((3, record.uid), (4, record.metadata), (5, record.configuration)):
        if text is not None:
            parts.append(_len_field(number, text.encode()))
    return b"".join(parts)


def _read_varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise ProtobufError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint longer than 10 bytes")


def _fields(buf: bytes, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, start, stop) of each field; for varints start is the value."""
    while pos < end:
        tag, pos = _read_varint(buf, pos, end)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ProtobufError("field number 0")
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos, end)
            yield number, wire, value, pos
            continue
        if wire == _LEN:
            size, pos = _read_varint(buf, pos, end)
        elif wire in (_I32, _I64):
            size = 4 if wire == _I32 else 8
        else:
            raise ProtobufError(f"unsupported wire type {wire} (field {number})")
        if pos + size > end:
            raise ProtobufError(f"field {number} runs past the end of its message")
        yield number, wire, pos, pos + size
        pos += size


def _decode_varints(buf: bytes, start: int, stop: int) -> np.ndarray:
    raw = np.frombuffer(buf, dtype=np.uint8, count=stop - start, offset=start)
    if raw.size == 0:
        return np.empty(0, dtype=np.uint64)
    ends = np.flatnonzero(raw < 0x80)
    if ends.size == raw.size:
        return raw.astype(np.uint64)
    if ends.size == 0 or ends[-1] != raw.size - 1:
        raise ProtobufError("truncated packed varints")
    starts = np.concatenate(([0], ends[:-1] + 1))
    if int((ends - starts).max()) >= 10:
        raise ProtobufError("varint longer than 10 bytes")
    position = np.arange(raw.size) - np.repeat(starts, ends - starts + 1)
    parts = (raw & 0x7F).astype(np.uint64) << (7 * position).astype(np.uint64)
    return np.add.reduceat(parts, starts)


def _decode_tensor(buf: bytes, start: int, stop: int, dtype: np.dtype) -> Tensor:
    values: list[np.ndarray] = []
    keys: list[np.ndarray] = []
    shape: list[np.ndarray] = []
    element = _I32 if dtype.itemsize == 4 and dtype.kind == "f" else _I64
    for number, wire, a, b in _fields(buf, start, stop):
        if number == 1 and wire == _LEN and dtype.kind == "f":
            if (b - a) % dtype.itemsize:
                raise ProtobufError("packed float values have a partial element")
            values.append(
                np.frombuffer(buf, dtype=dtype, count=(b - a) // dtype.itemsize, offset=a)
            )
        elif number == 1 and wire == element and dtype.kind == "f":
            values.append(np.frombuffer(buf, dtype=dtype, count=1, offset=a))
        elif number == 1 and dtype.kind == "i" and wire in (_LEN, _VARINT):
            raw = _decode_varints(buf, a, b) if wire == _LEN else np.array([a], np.uint64)
            values.append(raw.view(np.int64).astype(np.int32))
        elif number in (2, 3) and wire in (_LEN, _VARINT):
            raw = _decode_varints(buf, a, b) if wire == _LEN else np.array([a], np.uint64)
            (keys if number == 2 else shape).append(raw)
        elif number in (1, 2, 3):
            raise ProtobufError(f"tensor field {number} has unexpected wire type {wire}")
    return Tensor(
        np.concatenate(values).astype(dtype.newbyteorder("=")) if values else np.empty(0, dtype),
        np.concatenate(keys) if keys else np.empty(0, dtype=np.uint64),
        tuple(int(n) for n in np.concatenate(shape)) if shape else (),
    )


def _decode_entry(buf: bytes, start: int, stop: int) -> tuple[str, Tensor]:
    key = ""
    tensor = Tensor(np.empty(0, dtype=np.float32))
    for number, wire, a, b in _fields(buf, start, stop):
        if number == 1 and wire == _LEN:
            key = _text(buf, a, b)
        elif number == 2 and wire == _LEN:
            for kind, value_wire, c, d in _fields(buf, a, b):
                if kind in _VALUE_DTYPES and value_wire == _LEN:
                    tensor = _decode_tensor(buf, c, d, _VALUE_DTYPES[kind])
                elif kind == _BYTES_VALUE:
                    raise ProtobufError("a Bytes value is not a numeric tensor")
    return key, tensor


def _text(buf: bytes, start: int, stop: int) -> str:
    try:
        return bytes(buf[start:stop]).decode("utf-8")
    except UnicodeDecodeError:
        raise ProtobufError("a string field is not UTF-8") from None


def decode_record(payload: bytes) -> Record:
    """Parse one serialized ``Record``; raises ``ValueError`` when malformed."""
    features: dict[str, Tensor] = {}
    label: dict[str, Tensor] = {}
    texts: dict[int, str] = {}
    for number, wire, a, b in _fields(payload, 0, len(payload)):
        if number in (1, 2, 3, 4, 5) and wire != _LEN:
            raise ProtobufError(f"Record field {number} has unexpected wire type {wire}")
        if number in (1, 2):
            key, tensor = _decode_entry(payload, a, b)
            (features if number == 1 else label)[key] = tensor
        elif number in (3, 4, 5):
            texts[number] = _text(payload, a, b)
    return Record(features, label, texts.get(3), texts.get(4), texts.get(5))
