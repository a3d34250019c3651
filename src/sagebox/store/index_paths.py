"""What the document index holds: declared path patterns, and the entries of a document.

A kind declares `IndexedPath` patterns (the services layer does, as data). A pattern
is a path (`sagebox.store.query`) that may also contain wildcards standing for every
name found in a document:

- `ByField("MetricName")` at an array of objects: each element whose member
  ``MetricName`` is a string, reached as ``Match("MetricName", <that string>)``;
- `ANY_MEMBER` at an object: each of its members, reached by its name.

So ``("Metrics", ByField("MetricName"), "Max")`` indexes the Max of every metric of a
trial component, each under its own concrete path ``("Metrics", Match("MetricName",
"acc"), "Max")``, which is what a query names.

Under a concrete path a record has values of one or more types, each a separate
`IndexKey`: JSON numbers ("number"), JSON strings ("text") and, for patterns declared
with ``numeric_strings``, numbers and strings spelling numbers ("spelled_number",
`sagebox.store.json_sql.NUMBER_TEXT`). `entries` computes them in Python with exactly
the semantics the SQL of `sagebox.store.query_sql` has, which is what lets the index
answer a query instead of the documents: a member of a non-object and an element of a
non-array are missing, Match compares strings exactly, booleans are neither numbers
nor strings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any, Final, Literal

from sagebox.store.errors import QueryError
from sagebox.store.json_sql import check_member_name, spelled_number
from sagebox.store.query import EACH, MAX_PATH_SEGMENTS, Each, Match, Segment, canonical_path

ValueType = Literal["number", "text", "spelled_number"]
Value = float | str


class AnyMember(Enum):
    """The pattern segment meaning "every member of an object"; use `ANY_MEMBER`."""

    ANY_MEMBER = "ANY_MEMBER"

    def __repr__(self) -> str:
        return "ANY_MEMBER"


ANY_MEMBER: Final = AnyMember.ANY_MEMBER


@dataclass(frozen=True)
class ByField:
    """Every element of an array of objects, told apart by its string member ``field``."""

    field: str

    def __post_init__(self) -> None:
        check_member_name(self.field)


PatternSegment = str | Each | ByField | AnyMember


@dataclass(frozen=True)
class IndexedPath:
    """A document path pattern whose values a kind keeps in the document index."""

    pattern: Sequence[PatternSegment]
    numeric_strings: bool = False
    """Also index numbers and strings spelling numbers as "spelled_number" values."""

    def __post_init__(self) -> None:
        segments = tuple(self.pattern)
        if isinstance(self.pattern, str) or not segments:
            raise QueryError(f"an indexed path needs a sequence of segments, got {self.pattern!r}")
        if len(segments) > MAX_PATH_SEGMENTS:
            raise QueryError(f"an indexed path has at most {MAX_PATH_SEGMENTS} segments")
        for segment in segments:
            if isinstance(segment, str):
                check_member_name(segment)
            elif not isinstance(segment, Each | ByField | AnyMember):
                raise QueryError(f"not an indexed path segment: {segment!r}")
        object.__setattr__(self, "pattern", segments)

    def covers(self, path: Sequence[Segment]) -> bool:
        """Whether ``path`` is one of the concrete paths this pattern indexes."""
        if len(path) != len(self.pattern):
            return False
        return all(
            _segment_covers(wanted, given) for wanted, given in zip(self.pattern, path, strict=True)
        )

    def canonical(self) -> list[Any]:
        def one(segment: PatternSegment) -> Any:
            if isinstance(segment, ByField):
                return {"by": segment.field}
            if segment is ANY_MEMBER:
                return {"any_member": True}
            if segment is EACH:
                return {"each": True}
            return segment

        return [one(segment) for segment in self.pattern] + [self.numeric_strings]


@dataclass(frozen=True)
class IndexKey:
    """A concrete path (canonical JSON) and the type of the values found there."""

    path: str
    value_type: ValueType


Entries = dict[IndexKey, set[Value]]


def path_text(path: Sequence[Segment]) -> str:
    """The canonical text of a concrete path, as keys store it."""
    return json.dumps(canonical_path(path), separators=(",", ":"), ensure_ascii=False)


def declaration_text(paths: Sequence[IndexedPath]) -> str:
    """A kind's declaration as canonical text: equal only for equal declarations."""
    unique = sorted({json.dumps(path.canonical(), separators=(",", ":")) for path in paths})
    return "[" + ",".join(unique) + "]"


def key_for(path: Sequence[Segment], value_type: ValueType) -> IndexKey:
    return IndexKey(path_text(path), value_type)


def covered(paths: Sequence[IndexedPath], path: Sequence[Segment], value_type: ValueType) -> bool:
    """Whether some declared pattern indexes values of ``value_type`` at ``path``."""
    for indexed in paths:
        if not indexed.covers(path):
            continue
        if value_type != "spelled_number" or indexed.numeric_strings:
            return True
    return False


def entries(document: Mapping[str, Any], paths: Sequence[IndexedPath]) -> Entries:
    """Every key of ``document`` under the declared patterns, with its distinct values."""
    found: Entries = {}
    for indexed in paths:
        for concrete, value in _walk(document, tuple(indexed.pattern), ()):
            text = _concrete_text(concrete)
            for value_type, typed in _typed_values(value, indexed.numeric_strings):
                found.setdefault(IndexKey(text, value_type), set()).add(typed)
    return found


@lru_cache(maxsize=16_384)
def _concrete_text(path: tuple[Segment, ...]) -> str:
    """`path_text`, remembered: the same few paths recur in every write of a kind (a trial
    component's metric summaries on each append), and encoding them is most of `entries`."""
    return path_text(path)


def rows(found: Entries) -> Iterator[tuple[IndexKey, Value, int]]:
    """(key, value, extreme) rows: bit 1 on the smallest value of a key, bit 2 on the largest."""
    for key, values in found.items():
        ordered = sorted(values)
        for position, value in enumerate(ordered):
            extreme = (1 if position == 0 else 0) | (2 if position == len(ordered) - 1 else 0)
            yield key, value, extreme


def _segment_covers(wanted: PatternSegment, given: Segment) -> bool:
    if isinstance(wanted, str):
        return isinstance(given, str) and given == wanted
    if wanted is EACH:
        return given is EACH
    if isinstance(wanted, ByField):
        return (
            isinstance(given, Match)
            and given.field == wanted.field
            and isinstance(given.value, str)
        )
    return isinstance(given, str)  # ANY_MEMBER


def _walk(
    value: Any, pattern: tuple[PatternSegment, ...], reached: tuple[Segment, ...]
) -> Iterator[tuple[tuple[Segment, ...], Any]]:
    if not pattern:
        yield reached, value
        return
    segment, rest = pattern[0], pattern[1:]
    if isinstance(segment, str):
        if isinstance(value, dict) and segment in value:
            yield from _walk(value[segment], rest, (*reached, segment))
    elif segment is ANY_MEMBER:
        if isinstance(value, dict):
            for name, member in value.items():
                if _queryable(name):
                    yield from _walk(member, rest, (*reached, name))
    elif isinstance(value, list):
        for element in value:
            if segment is EACH:
                yield from _walk(element, rest, (*reached, EACH))
                continue
            field = segment.field  # ByField
            label = element.get(field) if isinstance(element, dict) else None
            if isinstance(label, str) and "\x00" not in label:
                yield from _walk(element, rest, (*reached, Match(field, label)))


def _typed_values(value: Any, numeric_strings: bool) -> Iterator[tuple[ValueType, Value]]:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any double: no backend compares it alike
            return
        if math.isfinite(number):
            yield "number", number
            if numeric_strings:
                yield "spelled_number", number
    elif isinstance(value, str) and "\x00" not in value:
        yield "text", value
        spelled = spelled_number(value) if numeric_strings else None
        if spelled is not None:
            yield "spelled_number", spelled


def _queryable(name: str) -> bool:
    """Names a query can state: no double quote, no NUL (`check_member_name`)."""
    return '"' not in name and "\x00" not in name
