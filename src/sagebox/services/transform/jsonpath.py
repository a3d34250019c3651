"""The JSONPath subset batch transform's DataProcessing filters accept.

SageMaker documents these operators: `$` (the record), `.name` and `['name']`
(a member), `['a','b']` (several members, giving an object of just those), `*` and
`[*]` (every element), `[i]` and `[i,j,...]` (elements by index, negative from the
end), `[start:end]` (a slice), and unions of indexes and slices such as `$[0,5:]`.
CSV records are arrays of their fields, so `$[1:]` drops the first column.

An index outside the array is an error (SageMaker fails the record); slices clip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_INTEGER = re.compile(r"-?\d+")


class PathSyntaxError(ValueError):
    """The expression is not in the supported JSONPath subset."""


class SelectionError(Exception):
    """The expression does not fit the record (a missing member, an index out of range)."""


@dataclass(frozen=True)
class _Step:
    kind: str  # "name", "names", "wildcard", "items"
    names: tuple[str, ...] = ()
    items: tuple[int | slice, ...] = ()


@dataclass(frozen=True)
class JsonPath:
    text: str
    steps: tuple[_Step, ...]

    @property
    def is_identity(self) -> bool:
        return not self.steps

    @property
    def uses_names(self) -> bool:
        return any(step.kind in ("name", "names") for step in self.steps)

    def select(self, value: Any) -> Any:
        """The selected part: a single value, an object (`['a','b']`) or a list."""
        current, multi = value, False
        for step in self.steps:
            if multi:
                gathered: list[Any] = []
                for element in current:
                    result, many = _apply(step, element)
                    if many:
                        gathered.extend(result)
                    else:
                        gathered.append(result)
                current = gathered
            else:
                current, multi = _apply(step, current)
        return current


def parse(text: str) -> JsonPath:
    """Parses `text`; PathSyntaxError says what is wrong and where."""
    expression = text.strip()
    if not expression.startswith("$"):
        raise PathSyntaxError(f"'{text}' must start with '$'")
    steps: list[_Step] = []
    position = 1
    while position < len(expression):
        char = expression[position]
        if expression.startswith("..", position):
            raise PathSyntaxError(f"'{text}': recursive descent '..' is not supported")
        if char == ".":
            position += 1
            if position < len(expression) and expression[position] == "[":
                continue
            if expression.startswith("*", position):
                steps.append(_Step("wildcard"))
                position += 1
                continue
            match = _NAME.match(expression, position)
            if match is None:
                raise PathSyntaxError(f"'{text}': expected a member name at position {position}")
            steps.append(_Step("name", names=(match.group(),)))
            position = match.end()
        elif char == "[":
            end = _closing_bracket(expression, position, text)
            steps.append(_bracket(expression[position + 1 : end].strip(), text))
            position = end + 1
        else:
            raise PathSyntaxError(f"'{text}': unexpected '{char}' at position {position}")
    return JsonPath(text, tuple(steps))


def _closing_bracket(expression: str, start: int, text: str) -> int:
    quote = ""
    for index in range(start + 1, len(expression)):
        char = expression[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "]":
            return index
    raise PathSyntaxError(f"'{text}': '[' at position {start} is never closed")


def _bracket(inner: str, text: str) -> _Step:
    if inner == "*":
        return _Step("wildcard")
    parts = _split_commas(inner, text)
    if all(p[:1] in ("'", '"') for p in parts):
        names = []
        for part in parts:
            if len(part) < 2 or part[-1] != part[0]:
                raise PathSyntaxError(f"'{text}': badly quoted member name {part}")
            names.append(part[1:-1])
        return _Step("name" if len(names) == 1 else "names", names=tuple(names))
    items: list[int | slice] = []
    for part in parts:
        if ":" in part:
            bounds = [b.strip() for b in part.split(":")]
            if len(bounds) > 3 or any(b and not _INTEGER.fullmatch(b) for b in bounds):
                raise PathSyntaxError(f"'{text}': '{part}' is not a slice like 1:, :3 or 1:3")
            start, stop, *rest = [int(b) if b else None for b in bounds]
            step = rest[0] if rest else None
            if step == 0:
                raise PathSyntaxError(f"'{text}': a slice step cannot be 0")
            items.append(slice(start, stop, step))
        elif _INTEGER.fullmatch(part):
            items.append(int(part))
        else:
            raise PathSyntaxError(
                f"'{text}': '{part}' is neither an index, a slice nor a quoted member name"
            )
    return _Step("items", items=tuple(items))


def _split_commas(inner: str, text: str) -> list[str]:
    parts, current, quote = [], "", ""
    for char in inner:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            current += char
        elif char == ",":
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    if any(not p for p in parts):
        raise PathSyntaxError(f"'{text}': empty selector in '[{inner}]'")
    return parts


def _apply(step: _Step, value: Any) -> tuple[Any, bool]:
    """The step's result on `value`, and whether that result is a list of selections."""
    if step.kind == "wildcard":
        if isinstance(value, dict):
            return list(value.values()), True
        if isinstance(value, list):
            return list(value), True
        raise SelectionError(f"'*' needs an object or an array, found {_kind(value)}")
    if step.kind in ("name", "names"):
        if not isinstance(value, dict):
            raise SelectionError(
                f"member {', '.join(repr(n) for n in step.names)} needs an object, found {_kind(value)}"
            )
        missing = [n for n in step.names if n not in value]
        if missing:
            raise SelectionError(f"the record has no member {missing[0]!r}")
        if step.kind == "name":
            return value[step.names[0]], False
        return {name: value[name] for name in step.names}, False
    if not isinstance(value, list):
        raise SelectionError(f"an index or slice needs an array, found {_kind(value)}")
    if len(step.items) == 1 and isinstance(step.items[0], int):
        return _element(value, step.items[0]), False
    selected: list[Any] = []
    for item in step.items:
        if isinstance(item, slice):
            selected.extend(value[item])
        else:
            selected.append(_element(value, item))
    return selected, True


def _element(value: list[Any], index: int) -> Any:
    if not -len(value) <= index < len(value):
        raise SelectionError(f"index {index} is out of range for an array of {len(value)} elements")
    return value[index]


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return f"the value {value!r}"[:80]
