"""Splitting input into records and batches: lines, RecordIO frames, whole objects."""

from __future__ import annotations

import pytest

from sagebox.services.transform.records import (
    RecordError,
    compact,
    iter_lines,
    iter_recordio,
    line_batches,
    record_batches,
    whole_object,
    write_recordio,
)


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
def test_lines_keep_their_numbers_across_chunks_and_skip_empty_ones(size: int) -> None:
    data = b"a,1\r\nb,2\n\nc,3\nd,4"
    records = list(iter_lines(chunked(data, size)))
    assert [(r.number, r.data) for r in records] == [(1, b"a,1"), (2, b"b,2"), (4, b"c,3"), (5, b"d,4")]


@pytest.mark.parametrize("size", [2, 5, 64])
def test_line_batches_cut_at_line_ends_within_the_limit(size: int) -> None:
    lines = [f"{i},{i * 2}".encode() for i in range(1, 40)]
    data = b"\n".join(lines) + b"\n"
    batches = list(line_batches(chunked(data, size), limit=20))
    assert all(len(b.payload) <= 20 for b in batches)
    assert b"".join(b.payload for b in batches) == data
    assert [r.data for b in batches for r in b.record_list()] == lines
    numbers = [r.number for b in batches for r in b.record_list()]
    assert numbers == list(range(1, 40))
    assert batches[1].first_line == len(batches[0].record_list()) + 1


def test_a_line_larger_than_the_limit_is_named() -> None:
    data = b"1,2\n3,4\n" + b"9" * 50 + b"\n5,6\n"
    with pytest.raises(RecordError) as caught:
        list(line_batches(chunked(data, 4), limit=20))
    assert caught.value.position == "line 3"
    assert "larger than MaxPayloadInMB" in caught.value.message


def test_compact_drops_empty_lines_and_carriage_returns() -> None:
    assert compact(b"1\r\n\r\n2\n") == b"1\n2\n"
    assert compact(b"1\n2\n") == b"1\n2\n"


def test_record_batches_single_and_multi() -> None:
    records = list(iter_lines([b"aaaa\nbbbb\ncccc\ndddd\n"]))
    single = list(record_batches(records, multi_record=False, limit=100))
    assert [b.count for b in single] == [1, 1, 1, 1]
    multi = list(record_batches(records, multi_record=True, limit=10))  # 5 bytes per line
    assert [[r.data for r in b.record_list()] for b in multi] == [[b"aaaa", b"bbbb"], [b"cccc", b"dddd"]]
    assert multi[1].position() == "lines 3-4"
    unlimited = list(record_batches(records, multi_record=True, limit=0))
    assert len(unlimited) == 1 and unlimited[0].count == 4


def test_record_batches_reject_an_oversized_record() -> None:
    records = list(iter_lines([b"ab\n" + b"x" * 30 + b"\n"]))
    with pytest.raises(RecordError) as caught:
        list(record_batches(records, multi_record=False, limit=10))
    assert caught.value.position == "line 2"


def test_recordio_frames_round_trip_with_padding() -> None:
    payloads = [b"a", b"bcdef", b"", b"0123"]
    data = write_recordio(payloads)
    assert len(data) == sum(8 + (len(p) + 3) // 4 * 4 for p in payloads)
    records = list(iter_recordio(chunked(data, 3)))
    assert [r.data for r in records] == payloads
    assert [r.number for r in records] == [1, 2, 3, 4]
    assert b"".join(r.framed for r in records) == data


def test_recordio_multi_frame_records_are_joined() -> None:
    import struct

    def frame(flag: int, payload: bytes) -> bytes:
        return struct.pack("<II", 0xCED7230A, (flag << 29) | len(payload)) + payload + b"\0" * (-len(payload) % 4)

    data = frame(1, b"hello ") + frame(2, b"big ") + frame(3, b"world") + frame(0, b"next")
    records = list(iter_recordio([data]))
    magic = struct.pack("<I", 0xCED7230A)
    assert [r.data for r in records] == [b"hello " + magic + b"big " + magic + b"world", b"next"]
    assert records[0].framed == data[: len(records[0].framed)]


def test_recordio_errors_name_the_record() -> None:
    good = write_recordio([b"abcd"])
    with pytest.raises(RecordError) as caught:
        list(iter_recordio([good + b"\x00\x01\x02\x03" + b"\x00" * 4]))
    assert caught.value.position == "record 2" and "magic" in caught.value.message
    with pytest.raises(RecordError, match="truncated"):
        list(iter_recordio([good[:-2]]))


def test_whole_object_is_one_record_within_the_limit() -> None:
    batch = whole_object([b"ab", b"cd"], limit=10)
    assert batch.record_list()[0].data == b"abcd"
    with pytest.raises(RecordError, match="SplitType None"):
        whole_object([b"a" * 8, b"b" * 8], limit=10)
