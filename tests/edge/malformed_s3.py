"""Malformed S3 requests: keys, bucket names, Range headers and multipart sequences."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

MAX_KEY_BYTES = 1024

# Segments that file systems cannot name as they are, reserved names and long names.
_SEGMENTS = ["..", ".", "", "a", "\u00e9t\u00e9", ".sagebox-object", ".sagebox-dotdot", "x" * 250, "y" * 251, "%2F", "\\"]


@st.composite
def object_key(draw: st.DrawFn) -> str:
    """A key of odd segments, sometimes past S3's 1,024 bytes, sometimes a long chain of `../`."""
    shape = draw(st.sampled_from(["segments", "chain", "long"]))
    if shape == "chain":
        unit = draw(st.sampled_from(["../", "./", "/", "a/../"]))
        count = draw(st.integers(1, MAX_KEY_BYTES // len(unit) + 2))
        return (unit * count)[: draw(st.sampled_from([MAX_KEY_BYTES, MAX_KEY_BYTES + 1, 10 * MAX_KEY_BYTES]))] or "k"
    if shape == "long":
        return "k" * draw(st.sampled_from([MAX_KEY_BYTES, MAX_KEY_BYTES + 1, 4 * MAX_KEY_BYTES]))
    segments = draw(st.lists(st.sampled_from(_SEGMENTS), min_size=1, max_size=12))
    return "/".join(segments) or "k"


def key_bytes(key: str) -> int:
    return len(key.encode("utf-8"))


BUCKET_NAMES = [
    "A", "ab", "UPPER-case", "-leading", "trailing-", "has..dots", "192.168.1.1", "x" * 64, "under_score",
    "\u00e9t\u00e9-bucket", ".dot-first", "xn--punycode", "sagebox-missing-bucket", "a" * 3,
]

RANGES = [
    "bytes=0-0", "bytes=5-2", "bytes=-0", "bytes=-5", "bytes=999999-", "bytes=0-99999999999999999999999",
    "bytes=0-1,3-4", "items=0-1", "bytes=", "bytes=a-b", "bytes=-", "bytes=--1", "bytes=1-2-3",
    "bytes=" + "9" * 5000 + "-", "bytes=0-1" + ",0-1" * 500,
]

PART_NUMBERS = ["0", "1", "2", "10000", "10001", "-1", "abc", "99999999999999999999999", "", "1.5"]


@dataclass(frozen=True)
class PartStep:
    """One step of a multipart sequence."""

    action: str  # "upload" | "complete" | "abort" | "complete-unknown" | "upload-unknown"
    part_number: str = "1"
    parts: tuple[tuple[str, str], ...] = ()  # (PartNumber text, ETag) listed in a complete
    xml: str | None = None  # a complete body sent verbatim instead of `parts`


@st.composite
def part_step(draw: st.DrawFn) -> PartStep:
    action = draw(st.sampled_from(["upload", "upload", "complete", "abort", "complete-unknown", "upload-unknown"]))
    if action in ("upload", "upload-unknown"):
        return PartStep(action, draw(st.sampled_from(PART_NUMBERS)))
    if action == "complete" and draw(st.integers(0, 3)) == 0:
        xml = draw(st.sampled_from([
            "", "<CompleteMultipartUpload>", "not xml", "<CompleteMultipartUpload/>",
            "<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>",
            "<!DOCTYPE a [<!ENTITY b 'c'>]><CompleteMultipartUpload>&b;</CompleteMultipartUpload>",
        ]))
        return PartStep(action, xml=xml)
    numbers = draw(st.lists(st.sampled_from(PART_NUMBERS[:6]), max_size=4))
    etags = draw(st.lists(st.sampled_from(["known", '"0123"', "", "x" * 300]), min_size=len(numbers), max_size=len(numbers)))
    return PartStep(action, parts=tuple(zip(numbers, etags, strict=True)))
