"""Malformed JSON 1.1 requests drawn from a botocore input shape, each with what its answer must say.

A request starts as a value that satisfies the shape (`shape_values.valid_value`) and
then breaks one thing: a member (missing, null, wrong type, out of range, too long,
bad enum or pattern, bad timestamp, unknown) or the body itself (invalid JSON, invalid
UTF-8, deep nesting, non-standard literals, a body over the size limit).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.model import Shape, StructureShape
from hypothesis import strategies as st

from tests.edge.shape_values import compiled, defuse, valid_value

# The SageMaker and Logs body limit the edge enforces (sagebox.edge.body_limits).
BODY_LIMIT = 4 * 1024 * 1024
# Deeper than any request a model allows, shallower than the Python recursion limit.
DEEP = 2_000
VERY_DEEP = 200_000

Step = tuple[str, Any]  # ("member", name) | ("index", i) | ("key", map key)


@dataclass(frozen=True)
class Malformed:
    """One request body and what the answer must be."""

    kind: str
    body: bytes
    must_fail: bool  # breaks a constraint: the answer must be a 4xx
    codes: tuple[str, ...] = ()  # the acceptable __type values when it fails; () for any
    names: str | None = None  # text the error message must contain (the member's path)
    status: int | None = None  # the exact status it must get, when known


@dataclass(frozen=True)
class Target:
    steps: tuple[Step, ...]
    shape: Shape
    present: bool
    required: bool


class Raw:
    """A value written into the body verbatim (not JSON-encoded)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def edge_path(steps: tuple[Step, ...]) -> str:
    """The member path as AWS's validation messages write it: `tags.1.member.key`."""
    parts = []
    for kind, value in steps:
        if kind == "member":
            parts.append(_camel(value))
        elif kind == "index":
            parts.append(f"{value + 1}.member")
        else:
            parts.append(f"{value}.value")
    return ".".join(parts)


def targets(shape: Shape, value: Any, steps: tuple[Step, ...] = ()) -> Iterator[Target]:
    """Every member present in `value`, and every member a structure could have but lacks."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        required = set(shape.required_members)  # type: ignore[attr-defined]
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            where = (*steps, ("member", name))
            if name in value:
                yield Target(where, member, True, name in required)
                yield from targets(member, value[name], where)
            else:
                yield Target(where, member, False, name in required)
    elif kind == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            where = (*steps, ("index", index))
            yield Target(where, shape.member, True, True)  # type: ignore[attr-defined]
            yield from targets(shape.member, item, where)  # type: ignore[attr-defined]
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            where = (*steps, ("key", key))
            yield Target(where, shape.value, True, True)  # type: ignore[attr-defined]
            yield from targets(shape.value, item, where)  # type: ignore[attr-defined]


def _wrong_types(shape: Shape) -> list[Any]:
    kind = shape.type_name
    if kind == "string":
        return [123, True, {}, ["x"], 1.5]
    if kind in ("integer", "long"):
        return ["7", 1.5, True, {}, []]
    if kind in ("float", "double"):
        return ["1.5", True, {}, []]
    if kind == "boolean":
        return ["true", 1, {}, []]
    if kind == "structure":
        return ["x", [], 1]
    if kind == "list":
        return ["x", {}, 1]
    if kind == "map":
        return ["x", [], 1]
    if kind == "timestamp":
        return [True, {}, [], "not-a-timestamp"]
    if kind == "blob":
        return [1, {}, [], "!!not base64!!"]
    return [object()]


def _out_of_range(shape: Shape) -> list[Any]:
    """Values of the right JSON type that break a range, an enum, a length or a pattern."""
    kind, low, high = shape.type_name, shape.metadata.get("min"), shape.metadata.get("max")
    found: list[Any] = []
    if kind in ("integer", "long"):
        limit = 2**31 if kind == "integer" else 2**63
        found += [limit, -limit - 1, 10**30]
        found += [low - 1] if low is not None and low - 1 >= -limit else []
        found += [high + 1] if high is not None and high + 1 < limit else []
        found.append(Raw("1e400"))
    elif kind in ("float", "double"):
        found += [low - 1.0] if low is not None else []
        found += [high + 1.0] if high is not None else []
        found.append(Raw("1e400"))
    elif kind == "timestamp":
        found += [1e20, -1e15, "inf", "nan", "-inf", "1e400", 9e15, "99999-01-01T00:00:00Z", Raw("1e400")]
    elif kind == "string":
        if shape.enum:
            return ["SageboxNotAnEnumValue"]
        if high is not None and high < BODY_LIMIT // 4:
            found.append("a" * (high + 1))
        if low:
            found.append("")
        checker = compiled(shape.metadata["pattern"]) if "pattern" in shape.metadata else None
        if checker is not None:
            for candidate in ("\u0007", " ", "!", "-", "a b", "../", "\u00e9\u00e9"):
                padded = candidate * max(1, low or 1)
                if (high is None or len(padded) <= high) and checker.fullmatch(padded) is None:
                    found.append(padded)
                    break
    elif kind in ("list", "map") and low:
        found.append([] if kind == "list" else {})
    return found


def _too_many(shape: Shape, value: Any) -> Any | None:
    high = shape.metadata.get("max")
    if shape.type_name == "list" and isinstance(value, list) and value and high is not None and high < 2000:
        return [copy.deepcopy(value[0]) for _ in range(high + 1)]
    return None


def _set(document: dict[str, Any], steps: tuple[Step, ...], value: Any, delete: bool = False) -> None:
    parent: Any = document
    for _, step in steps[:-1]:
        parent = parent[step]
    last = steps[-1][1]
    if delete:
        del parent[last]
    else:
        parent[last] = value


def encode(document: Any) -> bytes:
    """`document` as JSON, `Raw` values written verbatim."""
    raws: list[str] = []

    def default(value: Any) -> Any:
        if isinstance(value, Raw):
            raws.append(value.text)
            return f"\u0000raw{len(raws) - 1}\u0000"
        raise TypeError(f"cannot encode {value!r}")

    text = json.dumps(document, default=default)
    for index, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\u0000raw{index}\u0000"), raw, 1)
    return text.encode("utf-8")


@st.composite
def member_mutation(draw: st.DrawFn, shape: StructureShape, base: dict[str, Any]) -> Malformed:
    """`base` with one member broken."""
    found = [t for t in targets(shape, base) if t.steps]
    if not found:
        return Malformed("unknown-member", encode({**base, "SageboxUnknownMember": 1}), must_fail=False)
    target = draw(st.sampled_from(found))
    path = edge_path(target.steps)
    document = copy.deepcopy(base)
    names = f"at '{path}'"
    choices: list[tuple[str, Any]] = [("wrong-type", value) for value in _wrong_types(target.shape)]
    choices += [("out-of-range", value) for value in _out_of_range(target.shape)]
    choices += [("null", None)]
    choices += [("deep-member", Raw("[" * depth + "]" * depth)) for depth in (40, 100, DEEP)]
    if target.present:
        current = _get(base, target.steps)
        many = _too_many(target.shape, current)
        if many is not None:
            choices.append(("too-many-items", many))
        if target.required and target.steps[-1][0] == "member":
            choices.append(("missing", None))
        if target.shape.type_name == "structure":
            choices.append(("unknown-member", {**current, "SageboxUnknownMember": 1}))
        if target.shape.type_name == "string":
            choices.append(("invalid-utf8", None))
            choices.append(("surrogate", Raw('"\\ud800"')))
            choices.append(("nan-literal", Raw("NaN")))
    kind, value = draw(st.sampled_from(choices))
    if kind == "missing":
        _set(document, target.steps, None, delete=True)
        return Malformed(kind, encode(document), True, ("ValidationException",), names, 400)
    if kind == "null":
        _set(document, target.steps, None)
        # AWS reads a null optional member as an absent one; a null list item or map value is wrong.
        if not target.required and target.steps[-1][0] == "member":
            return Malformed(kind, encode(document), False)
        return Malformed(kind, encode(document), True, ("ValidationException",), names, 400)
    if kind == "unknown-member":
        _set(document, target.steps, value)
        return Malformed(kind, encode(document), False)
    if kind == "invalid-utf8":
        marker = "\u0000utf8\u0000"
        _set(document, target.steps, marker)
        body = encode(document).replace(json.dumps(marker).encode()[1:-1], b"\xff\xfe\xc3\x28")
        return Malformed(kind, body, True, ("SerializationException",), None, 400)
    _set(document, target.steps, value)
    if kind in ("surrogate", "nan-literal"):
        return Malformed(kind, encode(document), True, ("SerializationException",), None, 400)
    if kind == "deep-member":
        return Malformed(kind, encode(document), True, ("SerializationException", "ValidationException"), None, 400)
    return Malformed(kind, encode(document), True, ("ValidationException",), names, 400)


def _get(document: Any, steps: tuple[Step, ...]) -> Any:
    for _, step in steps:
        document = document[step]
    return document


@st.composite
def body_mutation(draw: st.DrawFn, base: dict[str, Any]) -> Malformed:
    """`base` (or no request at all) as a body that is not a JSON object the service can read."""
    text = encode(base)
    kind = draw(st.sampled_from([
        "truncated", "trailing-garbage", "not-an-object", "invalid-utf8", "deep-root",
        "very-deep-root", "over-limit", "huge-integer", "empty",
    ]))
    serialization = ("SerializationException",)
    if kind == "truncated":
        return Malformed(kind, text[: max(1, len(text) // 2)], True, serialization, None, 400)
    if kind == "trailing-garbage":
        return Malformed(kind, text + b"}", True, serialization, None, 400)
    if kind == "not-an-object":
        return Malformed(kind, draw(st.sampled_from([b"[]", b'"x"', b"1", b"null", b"true"])), True, serialization, None, 400)
    if kind == "invalid-utf8":
        cut = draw(st.integers(0, len(text)))
        junk = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]))
        return Malformed(kind, text[:cut] + junk + text[cut:], True, serialization, None, 400)
    if kind == "deep-root":
        return Malformed(kind, b"[" * DEEP + b"]" * DEEP, True, serialization, None, 400)
    if kind == "very-deep-root":
        return Malformed(kind, b"[" * VERY_DEEP, True, serialization, None, 400)
    if kind == "over-limit":
        padded = json.dumps({**base, "SageboxPadding": "x" * BODY_LIMIT}).encode()
        return Malformed(kind, padded, True, (), None, 413)
    if kind == "huge-integer":
        return Malformed(kind, b'{"MaxResults": ' + b"9" * 5000 + b"}", True, serialization, None, 400)
    return Malformed(kind, b"", False)


@st.composite
def malformed_request(
    draw: st.DrawFn, shape: StructureShape, existing: Mapping[str, Any] | None = None
) -> Malformed:
    """A request for an operation with input `shape` that breaks one of its constraints, or now and
    then a valid one that cannot start real work (`shape_values.defuse`, which also sets the
    members in `existing` to resources that exist, e.g. a ModelName, so the request gets past
    those checks)."""
    base = defuse(shape, draw(st.one_of(valid_value(shape, optional_members=False), valid_value(shape))), existing)
    # Hypothesis tries the simplest choices early, so every run soon sends the defused valid
    # request with required members only, which services must cope with.
    which = draw(st.sampled_from(["defused", "member", "member", "member", "body"]))
    if which == "body":
        return draw(body_mutation(base))
    if which == "defused":  # valid but harmless: the services must cope with every optional member absent
        return Malformed("defused", encode(base), must_fail=False)
    return draw(member_mutation(shape, base))

