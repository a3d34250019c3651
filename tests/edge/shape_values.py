"""Hypothesis strategies for values that satisfy a botocore shape's constraints.

`valid_value(shape)` draws JSON values a model-driven validator must accept: every
required member, a random choice of optional ones, lengths, ranges, enums and
patterns respected. The malformed-request tests start from such a value and break
exactly one constraint, so an answer must name that constraint's member.

`defuse(value)` replaces the members that could make an accepted request start real
work (images, programs, S3 locations) with ones that cannot exist.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from functools import cache
from typing import Any

import regex
from botocore.model import Shape
from hypothesis import strategies as st

# Nesting below this depth draws required members only, to keep requests small.
MAX_OPTIONAL_DEPTH = 5
MAX_EXTRA_ITEMS = 2
MAX_FREE_TEXT = 24

# Java character classes the `re` module (and so Hypothesis's from_regex) cannot read,
# with a plain stand-in for generation; the drawn text is still checked against the
# original pattern with the `regex` module.
_JAVA_CLASSES = {
    r"\p{Alnum}": "a-zA-Z0-9",
    r"\p{L}": "a-zA-Zé",
    r"\p{Z}": " ",
    r"\p{N}": "0-9",
    r"\p{M}": "",
    r"\p{S}": "+$",
    r"\p{P}": "._!?",
    r"\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t": " -~",
}

# Values for members that would otherwise let an accepted request do real work.
MISSING_BUCKET = "sagebox-malformed-no-such-bucket"
_DEFUSED: dict[str, Any] = {
    "TrainingImage": "malformed.invalid/sagebox-no-such-image:1",
    "Image": "malformed.invalid/sagebox-no-such-image:1",
    "ImageUri": "malformed.invalid/sagebox-no-such-image:1",
    "AlgorithmName": "sagebox-no-such-algorithm",
    "ContainerEntrypoint": ["/nonexistent/sagebox-malformed-program"],
    "ModelDataUrl": f"s3://{MISSING_BUCKET}/model.tar.gz",
}


@cache
def compiled(pattern: str) -> regex.Pattern[str] | None:
    """The pattern, or None for the few the `regex` module cannot read (the edge skips those)."""
    try:
        return regex.compile(pattern, regex.DOTALL)
    except regex.error:
        return None


def matches(shape: Shape, text: str) -> bool:
    """Whether `text` satisfies the shape's length and pattern constraints."""
    low, high = shape.metadata.get("min", 0), shape.metadata.get("max")
    if len(text) < low or (high is not None and len(text) > high):
        return False
    checker = compiled(shape.metadata["pattern"]) if "pattern" in shape.metadata else None
    return checker is None or checker.fullmatch(text) is not None


@cache
def _pattern_text(pattern: str) -> st.SearchStrategy[str]:
    generating = pattern
    for java, plain in _JAVA_CLASSES.items():
        generating = generating.replace(java, plain)
    try:
        re.compile(generating)
    except re.error:  # Java-only syntax (e.g. `${1,256}`): plain letters and digits, checked later
        return st.text(alphabet="abcxyz0123", max_size=MAX_FREE_TEXT)
    return st.from_regex(generating, fullmatch=True)


def _string(shape: Shape) -> st.SearchStrategy[str]:
    if shape.enum:
        return st.sampled_from(list(shape.enum))
    low, high = shape.metadata.get("min", 0), shape.metadata.get("max")
    pattern = shape.metadata.get("pattern")
    if pattern and pattern not in (".*", "[\\S\\s]*", "[\\s\\S]*"):
        return _pattern_text(pattern).filter(lambda text: matches(shape, text))
    longest = low + MAX_FREE_TEXT if high is None else min(high, low + MAX_FREE_TEXT)
    alphabet = st.sampled_from(string.ascii_letters + string.digits + "-_ ")
    return st.text(alphabet, min_size=low, max_size=longest)


def _number_bounds(shape: Shape, floor: float, ceiling: float) -> tuple[float, float]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    low = floor if low is None else max(low, floor)
    high = ceiling if high is None else min(high, ceiling)
    return low, max(low, high)


def valid_value(shape: Shape, depth: int = 0, *, optional_members: bool = True) -> st.SearchStrategy[Any]:
    """JSON values that satisfy `shape`'s constraints; required members only unless `optional_members`."""
    kind = shape.type_name
    if kind == "structure":
        members = shape.members  # type: ignore[attr-defined]
        required = {name: valid_value(members[name], depth + 1, optional_members=optional_members) for name in shape.required_members}  # type: ignore[attr-defined]
        optional = {}
        if optional_members and depth < MAX_OPTIONAL_DEPTH:
            optional = {
                name: valid_value(member, depth + 1, optional_members=optional_members)
                for name, member in members.items()
                if name not in required and not member.metadata.get("deprecated")
            }
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "list":
        low = shape.metadata.get("min", 0)
        high = min(shape.metadata.get("max", low + MAX_EXTRA_ITEMS), low + MAX_EXTRA_ITEMS)
        return st.lists(valid_value(shape.member, depth + 1, optional_members=optional_members), min_size=low, max_size=high)  # type: ignore[attr-defined]
    if kind == "map":
        low = shape.metadata.get("min", 0)
        high = min(shape.metadata.get("max", low + MAX_EXTRA_ITEMS), low + MAX_EXTRA_ITEMS)
        keys = _string(shape.key)  # type: ignore[attr-defined]
        return st.dictionaries(keys, valid_value(shape.value, depth + 1, optional_members=optional_members), min_size=low, max_size=high)  # type: ignore[attr-defined]
    if kind == "string":
        return _string(shape)
    if kind == "integer":
        low, high = _number_bounds(shape, -(2**31), 2**31 - 1)
        return st.integers(int(low), int(high))
    if kind == "long":
        low, high = _number_bounds(shape, -(2**63), 2**63 - 1)
        return st.integers(int(low), int(high))
    if kind in ("float", "double"):
        low, high = _number_bounds(shape, -1e9, 1e9)
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.one_of(st.integers(0, 4_000_000_000), st.just("2026-01-02T03:04:05Z"))
    if kind == "blob":
        return st.just("c2FnZWJveA==")
    raise ValueError(f"no strategy for shape {shape.name} of type {kind}")


def defuse(shape: Shape, value: Any, names: Mapping[str, Any] | None = None) -> Any:
    """`value` with every member that could start real work pointed at nothing, and the
    members in `names` (e.g. ModelName) set to the values given.

    A replacement is used only where it satisfies the member's own constraints, so the
    value stays valid.
    """
    replacements = {**_DEFUSED, **(names or {})}
    kind = shape.type_name
    if kind == "list" and isinstance(value, list):
        return [defuse(shape.member, item, names) for item in value]  # type: ignore[attr-defined]
    if kind == "map" and isinstance(value, dict):
        return {key: defuse(shape.value, item, names) for key, item in value.items()}  # type: ignore[attr-defined]
    if kind != "structure" or not isinstance(value, dict):
        return value
    members = shape.members  # type: ignore[attr-defined]
    safe = {}
    for name, item in value.items():
        member = members[name]
        replacement = replacements.get(name)
        if replacement is None and isinstance(item, str) and item.startswith(("s3://", "https://")):
            replacement = f"s3://{MISSING_BUCKET}/data"
        if replacement is not None and _satisfies(member, replacement):
            safe[name] = replacement
        else:
            safe[name] = defuse(member, item, names)
    return safe


def _satisfies(shape: Shape, value: Any) -> bool:
    if shape.type_name == "string":
        return isinstance(value, str) and matches(shape, value)
    if shape.type_name == "list":
        return isinstance(value, list) and all(_satisfies(shape.member, item) for item in value)  # type: ignore[attr-defined]
    return False
