"""Splitting an input object into records and records into request payloads.

SplitType decides what a record is: `Line` (a line of text; empty lines carry no
record), `RecordIO` (one RecordIO record, possibly spread over several frames) or
`None` (the whole object). BatchStrategy decides how many records one request
carries: `SingleRecord` (one) or `MultiRecord` (as many as fit in MaxPayloadInMB).

A RecordIO record travels as it is framed in the file when requests carry several
(MultiRecord), and as its bare payload, without the framing, when each request
carries one (SingleRecord), as SageMaker documents for binary record formats.

Records keep their position in the file (the line number, or the record's ordinal
for RecordIO) so that a failure can name exactly which one was at fault.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

RECORDIO_MAGIC = 0xCED7230A
_HEADER = struct.Struct("<II")
_MAGIC_BYTES = struct.pack("<I", RECORDIO_MAGIC)
_LENGTH_MASK = (1 << 29) - 1
# Continuation flag (upper 3 bits of the length word): a whole record, or the first,
# a middle or the last frame of a record split over several frames.
_WHOLE, _FIRST, _MIDDLE, _LAST = 0, 1, 2, 3
# An empty line inside a payload. The regex engine scans for this literal about twice as
# fast as ``b"\n\n" in payload`` (which every multi-record request of lines pays).
_EMPTY_LINE = re.compile(rb"\n\n")


class RecordError(Exception):
    """The input cannot be split or batched; `position` names the offending record."""

    def __init__(self, message: str, position: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Record:
    number: int  # line number (Line), ordinal (RecordIO), 1 for a whole object
    data: bytes  # what the record sends on its own (no line ending, no RecordIO framing)
    framed: bytes = b""  # RecordIO only: the record's frames as they were in the file


@dataclass
class Batch:
    """The records of one request.

    Either `records` is set, or (for lines sent as they are) `payload` holds the
    lines exactly as they are in the file, first line number `first_line`.
    """

    records: list[Record] | None = None
    payload: bytes = b""
    first_line: int = 0

    def record_list(self) -> list[Record]:
        if self.records is None:
            self.records = lines_of(self.payload, self.first_line)
        return self.records

    @property
    def count(self) -> int:
        if self.records is not None:
            return len(self.records)
        return len(self.record_list())

    def position(self) -> str:
        records = self.record_list()
        if not records:
            return f"line {self.first_line}"
        first, last = records[0], records[-1]
        unit = "record" if first.framed else "line"
        if first.number == last.number:
            return f"{unit} {first.number}"
        return f"{unit}s {first.number}-{last.number}"


def lines_of(payload: bytes, first_line: int) -> list[Record]:
    """The non-empty lines of `payload` with their line numbers (a trailing \\r is dropped)."""
    records = []
    for offset, line in enumerate(payload.split(b"\n")):
        if line.endswith(b"\r"):
            line = line[:-1]
        if line:
            records.append(Record(first_line + offset, line))
    return records


# -- Line -----------------------------------------------------------------------------


def iter_lines(chunks: Iterable[bytes]) -> Iterator[Record]:
    """Every non-empty line of a stream of byte chunks, numbered from 1."""
    pending = bytearray()
    number = 1
    for chunk in chunks:
        pending += chunk
        cut = pending.rfind(b"\n")
        if cut < 0:
            continue
        with memoryview(pending) as view:
            complete = bytes(view[: cut + 1])
        del pending[: cut + 1]
        yield from lines_of(complete[:-1], number)
        number += complete.count(b"\n")
    if pending:
        yield from lines_of(bytes(pending), number)


def line_batches(chunks: Iterable[bytes], limit: int) -> Iterator[Batch]:
    """Lines packed into payloads of at most `limit` bytes, cut only at line ends.

    The payload is the file's own bytes (no per-line work), which keeps this path as
    fast as copying. A line longer than `limit` on its own is a RecordError.
    """
    pending = bytearray()
    line = 1
    for chunk in chunks:
        pending += chunk
        while len(pending) > limit:
            cut = pending.rfind(b"\n", 0, limit)
            if cut < 0:
                raise RecordError(
                    f"the record is larger than MaxPayloadInMB allows ({_size(limit)}); "
                    "split it or raise MaxPayloadInMB",
                    f"line {line}",
                )
            with memoryview(pending) as view:  # one copy out of the buffer, not two
                payload = bytes(view[: cut + 1])
            del pending[: cut + 1]
            yield Batch(payload=payload, first_line=line)
            line += payload.count(b"\n")
    if pending.strip():
        yield Batch(payload=bytes(pending), first_line=line)


def compact(payload: bytes) -> bytes:
    """A payload of lines without its empty lines (and without \\r line endings)."""
    if b"\r" in payload:
        payload = payload.replace(b"\r\n", b"\n")
    if payload.startswith(b"\n") or _EMPTY_LINE.search(payload):
        payload = b"\n".join(line for line in payload.split(b"\n") if line) + b"\n"
    return payload


# -- RecordIO ---------------------------------------------------------------------------


def iter_recordio(chunks: Iterable[bytes]) -> Iterator[Record]:
    """RecordIO records: magic, a length word whose top 3 bits flag continuation, the
    payload padded to 4 bytes. A record that held the magic number itself was split
    there into several frames; they are joined back with the magic between them."""
    buffer = bytearray()
    position = 0
    ordinal = 0
    parts: list[bytes] = []
    frames: list[bytes] = []
    stream = iter(chunks)
    exhausted = False

    def fill(needed: int) -> bool:
        nonlocal exhausted, position
        if position > (1 << 20):
            del buffer[:position]
            position = 0
        while len(buffer) - position < needed and not exhausted:
            chunk = next(stream, None)
            if chunk is None:
                exhausted = True
            else:
                buffer.extend(chunk)
        return len(buffer) - position >= needed

    while fill(_HEADER.size):
        magic, word = _HEADER.unpack_from(buffer, position)
        where = f"record {ordinal + 1}"
        if magic != RECORDIO_MAGIC:
            raise RecordError(
                f"not a RecordIO frame (magic 0x{magic:08x} at byte offset {position}, expected "
                f"0x{RECORDIO_MAGIC:08x})",
                where,
            )
        flag, length = word >> 29, word & _LENGTH_MASK
        padded = (length + 3) & ~3
        if not fill(_HEADER.size + padded):
            raise RecordError(f"the RecordIO frame is truncated ({length} bytes announced)", where)
        start = position + _HEADER.size
        parts.append(bytes(buffer[start : start + length]))
        frames.append(bytes(buffer[position : start + padded]))
        position = start + padded
        if flag in (_WHOLE, _LAST):
            ordinal += 1
            yield Record(ordinal, _MAGIC_BYTES.join(parts), b"".join(frames))
            parts, frames = [], []
        elif flag not in (_FIRST, _MIDDLE):
            raise RecordError(f"invalid RecordIO continuation flag {flag}", where)
    if len(buffer) > position:
        raise RecordError("trailing bytes after the last RecordIO frame", f"record {ordinal + 1}")
    if parts:
        raise RecordError("the last RecordIO record has no final frame", f"record {ordinal + 1}")


def write_recordio(payloads: Iterable[bytes]) -> bytes:
    """RecordIO frames for whole records (one frame each)."""
    out = bytearray()
    for payload in payloads:
        out += _HEADER.pack(RECORDIO_MAGIC, len(payload))
        out += payload
        out += b"\0" * (-len(payload) % 4)
    return bytes(out)


# -- batching ---------------------------------------------------------------------------


def record_batches(
    records: Iterable[Record], *, multi_record: bool, limit: int
) -> Iterator[Batch]:
    """Records grouped per request: one each, or as many as fit in `limit` bytes.

    `limit` 0 means no limit. Sizes count one separator byte per record (a newline
    between lines; a RecordIO frame's own padding is in its size).
    """
    group: list[Record] = []
    used = 0
    for record in records:
        own = len(record.framed or record.data)
        size = own if record.framed else own + 1
        if limit and own > limit:
            unit = "record" if record.framed else "line"
            raise RecordError(
                f"the record is {_size(own)}, larger than MaxPayloadInMB allows ({_size(limit)}); "
                "raise MaxPayloadInMB",
                f"{unit} {record.number}",
            )
        if group and (not multi_record or (limit and used + size > limit)):
            yield Batch(records=group)
            group, used = [], 0
        group.append(record)
        used += size
    if group:
        yield Batch(records=group)


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    return f"{count} bytes"


# -- None ------------------------------------------------------------------------------


def whole_object(chunks: Iterable[bytes], limit: int) -> Batch:
    """The whole object as one record (SplitType None); larger than `limit` is an error."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if limit and len(data) > limit:
            raise RecordError(
                f"with SplitType None the whole object is one request, and it is larger than "
                f"MaxPayloadInMB allows ({_size(limit)}); use SplitType Line or RecordIO, or raise "
                "MaxPayloadInMB"
            )
    return Batch(records=[Record(1, bytes(data))])
