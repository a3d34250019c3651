"""A Condition step's conditions: Equals, GreaterThan[OrEqualTo], LessThan[OrEqualTo], In,
Not and Or; the step's list of conditions holds when every one of them holds.

Values are compared as SageMaker compares them: numbers numerically (a JSON value read
from a property file may be a number or a numeric string), everything else as it is,
booleans and their ``true``/``false`` spellings alike. Pure: no I/O.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import Any

from sagebox.services.pipelines.expressions import Scope, evaluate

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "GreaterThan": operator.gt,
    "GreaterThanOrEqualTo": operator.ge,
    "LessThan": operator.lt,
    "LessThanOrEqualTo": operator.le,
}
CONDITION_TYPES = (*COMPARISONS, "In", "Not", "Or")


class ConditionError(ValueError):
    """A condition is malformed or compares values that cannot be compared."""


def check(condition: Any, where: str) -> None:
    """Raises ConditionError when a condition's shape is not one SageMaker accepts."""
    if not isinstance(condition, dict) or condition.get("Type") not in CONDITION_TYPES:
        kind = condition.get("Type") if isinstance(condition, dict) else condition
        raise ConditionError(
            f"{where}: condition Type {kind!r} is not one of {', '.join(CONDITION_TYPES)}"
        )
    kind = condition["Type"]
    if kind in COMPARISONS:
        for member in ("LeftValue", "RightValue"):
            if member not in condition:
                raise ConditionError(f"{where}: a {kind} condition needs {member}")
    elif kind == "In":
        if "QueryValue" not in condition or not isinstance(condition.get("Values"), list):
            raise ConditionError(f"{where}: an In condition needs QueryValue and a list of Values")
    elif kind == "Not":
        check(condition.get("Condition"), f"{where}.Condition")
    else:
        inner = condition.get("Conditions")
        if not isinstance(inner, list) or not inner:
            raise ConditionError(f"{where}: an Or condition needs a non-empty list of Conditions")
        for index, item in enumerate(inner):
            check(item, f"{where}.Conditions[{index}]")


def operands(condition: Any) -> Iterator[Any]:
    """The value expressions inside a condition (for validation and dependencies)."""
    if not isinstance(condition, dict):
        return
    kind = condition.get("Type")
    if kind in COMPARISONS:
        yield condition.get("LeftValue")
        yield condition.get("RightValue")
    elif kind == "In":
        yield condition.get("QueryValue")
        yield from condition.get("Values") or []
    elif kind == "Not":
        yield from operands(condition.get("Condition"))
    elif kind == "Or":
        for item in condition.get("Conditions") or []:
            yield from operands(item)


def holds_all(conditions: list[Any], scope: Scope) -> bool:
    """The outcome of a Condition step: all of its conditions hold."""
    return all(holds(condition, scope) for condition in conditions)


def holds(condition: dict[str, Any], scope: Scope) -> bool:
    kind = condition["Type"]
    if kind in COMPARISONS:
        left = evaluate(condition["LeftValue"], scope)
        right = evaluate(condition["RightValue"], scope)
        return compare(kind, left, right)
    if kind == "In":
        value = evaluate(condition["QueryValue"], scope)
        return any(compare("Equals", value, evaluate(item, scope)) for item in condition["Values"])
    if kind == "Not":
        return not holds(condition["Condition"], scope)
    return any(holds(item, scope) for item in condition["Conditions"])


def compare(kind: str, left: Any, right: Any) -> bool:
    left, right = _comparable(left, right)
    mixed = isinstance(left, bool) or isinstance(right, bool) or type(left) is not type(right)
    if kind != "Equals" and mixed and not (_is_number(left) and _is_number(right)):
        raise ConditionError(f"a {kind} condition cannot compare {left!r} with {right!r}")
    try:
        return bool(COMPARISONS[kind](left, right))
    except TypeError as exc:
        raise ConditionError(f"a {kind} condition cannot compare {left!r} with {right!r}") from exc


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Both sides as numbers when either is a number and the other reads as one; booleans alike."""
    if isinstance(left, bool) or isinstance(right, bool):
        return _as_bool(left), _as_bool(right)
    if _is_number(left) and isinstance(right, str):
        return left, _as_number(right)
    if _is_number(right) and isinstance(left, str):
        return _as_number(left), right
    return left, right


def _as_bool(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _as_number(value: str) -> Any:
    try:
        number = float(value)
    except ValueError:
        return value
    return (
        int(number)
        if number.is_integer() and "." not in value and "e" not in value.lower()
        else number
    )
