"""A Search request's SearchExpression and SortBy, as store conditions and sorts.

Filters become `Condition`s on document paths (or `TagCondition`s for ``Tags.<key>``),
NestedFilters `AnyElement` (one element of the list satisfies all of them),
SubExpressions `AllOf`/`AnyOf` by their Operator (And by default). A filter's Value
is a string, read by the property's type as the resource's SearchRecord shape gives
it: numbers and timestamps (ISO 8601, compared with the document's epoch seconds)
are ordered, text is matched (Equals, NotEquals, Contains, In with comma-separated
values), booleans are "true" or "false". What SageMaker refuses is refused with a
ValidationException that names the filter: ordering text, Contains or In on a number,
a Value with Exists, none with the other operators, an unknown property, more than
one Contains outside the properties SageMaker allows several on.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sagebox.services.errors import ValidationError
from sagebox.services.search.properties import Property, PropertyResolver
from sagebox.store import (
    AllOf,
    AnyElement,
    AnyOf,
    ColumnSort,
    Condition,
    DocumentSort,
    TagCondition,
)
from sagebox.store.query import ORDERINGS, Expression, Operator, Sort

MAX_ITEMS = 50
_VALUELESS = (Operator.EXISTS, Operator.NOT_EXISTS)
_TEXT_ONLY = (Operator.CONTAINS, Operator.IN)
_TIME_COLUMNS = {"creationtime": "CreationTime", "lastmodifiedtime": "LastModifiedTime"}


class ExpressionBuilder:
    """Builds one resource's store expressions from Search's request members."""

    def __init__(
        self,
        resource: str,
        resolver: PropertyResolver,
        name_member: str | None,
        contains_anywhere: frozenset[str],
    ) -> None:
        self._resource = resource
        self._resolver = resolver
        self._name_member = name_member
        self._contains_anywhere = contains_anywhere

    def where(self, expression: dict[str, Any]) -> Expression:
        counted = _count_items(expression)
        if counted > MAX_ITEMS:
            raise ValidationError(
                f"A SearchExpression can contain at most {MAX_ITEMS} Filters, NestedFilters and "
                f"SubExpressions in all, got {counted}."
            )
        contains: list[str] = []
        built = self._expression(expression, contains)
        limited = [name for name in contains if not self._may_repeat_contains(name)]
        if len(limited) > 1:
            raise ValidationError("'CONTAINS' operator usage limit of 1 exceeded.")
        return built

    def sort(self, sort_by: str | None, sort_order: str | None) -> Sort:
        order = sort_order or "Descending"
        if sort_by is None or sort_by.lower() in _TIME_COLUMNS:
            return ColumnSort(_TIME_COLUMNS[(sort_by or "LastModifiedTime").lower()], order)
        found = self._resolver.resolve(sort_by)
        if found.tag is not None:
            raise ValidationError(f"Cannot sort {self._resource} by the tag property '{sort_by}'.")
        if self._name_member is not None and found.path == (self._name_member,):
            return ColumnSort("Name", order)
        if found.kind in ("number", "timestamp"):
            return DocumentSort(found.path, order)
        if found.kind == "text":
            return DocumentSort(found.path, order, numeric=False)
        if found.kind == "hyperparameter":
            return DocumentSort(found.path, order, numeric_strings=True)
        if found.kind == "parameter":
            return DocumentSort((*found.path, "NumberValue"), order)
        raise ValidationError(
            f"Cannot sort {self._resource} by '{sort_by}': it is not a number, timestamp or text."
        )

    def _expression(self, expression: dict[str, Any], contains: list[str]) -> Expression:
        filters = expression.get("Filters") or []
        nested = expression.get("NestedFilters") or []
        subexpressions = expression.get("SubExpressions") or []
        if not (filters or nested or subexpressions):
            raise ValidationError(
                "A SearchExpression must contain at least one of Filters, NestedFilters or "
                "SubExpressions."
            )
        parts: list[Expression] = [self._filter(item, contains) for item in filters]
        parts += [self._nested(item, contains) for item in nested]
        parts += [self._expression(item, contains) for item in subexpressions]
        if len(parts) == 1:
            return parts[0]
        return AnyOf(parts) if expression.get("Operator") == "Or" else AllOf(parts)

    def _nested(self, nested: dict[str, Any], contains: list[str]) -> Expression:
        list_name = nested["NestedPropertyName"]
        found = self._resolver.resolve(list_name)
        if found.element is None or found.element.type_name != "structure" or found.tag:
            raise ValidationError(
                f"NestedPropertyName '{list_name}' of {self._resource} is not a list of objects."
            )
        conditions: list[Expression] = []
        for item in nested["Filters"]:
            name = item["Name"]
            prefix = list_name + "."
            if not name.lower().startswith(prefix.lower()) or len(name) == len(prefix):
                raise ValidationError(
                    f"The filter '{name}' of a nested filter on '{list_name}' must name a "
                    f"property of it: '{prefix}<property>'."
                )
            inner = self._resolver.resolve(name[len(prefix) :], root=found.element)
            conditions.append(self._condition(item, inner, contains))
        return AnyElement(found.list_path, AllOf(conditions))

    def _filter(self, item: dict[str, Any], contains: list[str]) -> Expression:
        return self._condition(item, self._resolver.resolve(item["Name"]), contains)

    def _condition(self, item: dict[str, Any], found: Property, contains: list[str]) -> Expression:
        name = item["Name"]
        operator = Operator(item.get("Operator") or "Equals")
        value: str | None = item.get("Value")
        if operator in _VALUELESS:
            if value is not None:
                raise ValidationError(
                    f"The filter on '{name}' with operator {operator} takes no Value."
                )
            return _valueless(found, operator)
        if value is None:
            raise ValidationError(f"The filter on '{name}' with operator {operator} needs a Value.")
        if operator is Operator.CONTAINS:
            contains.append(name)
        if found.tag is not None or found.kind == "text":
            return self._text(found, operator, value)
        if found.kind == "container":
            raise ValidationError(
                f"'{name}' is not a number, text, boolean or timestamp: only Exists and "
                "NotExists apply to it."
            )
        if found.kind == "boolean":
            return self._boolean(found, operator, value)
        if found.kind in ("hyperparameter", "parameter"):
            return self._either(found, operator, value)
        self._refuse(found, operator, _TEXT_ONLY, "a number or timestamp")
        reading = _timestamp(name, value) if found.kind == "timestamp" else _number(name, value)
        return Condition(found.path, operator, reading)

    def _text(self, found: Property, operator: Operator, value: str) -> Expression:
        self._refuse(found, operator, tuple(ORDERINGS), "text")
        read: str | list[str] = _in_values(value) if operator is Operator.IN else value
        if found.tag is not None:
            return TagCondition(found.tag, operator, read)
        return Condition(found.path, operator, read)

    def _boolean(self, found: Property, operator: Operator, value: str) -> Expression:
        self._refuse(found, operator, (*ORDERINGS, *_TEXT_ONLY), "a boolean")
        if value.lower() not in ("true", "false"):
            raise ValidationError(
                f"The Value of '{found.name}' must be true or false, got '{value}'."
            )
        return Condition(found.path, operator, value.lower() == "true")

    def _either(self, found: Property, operator: Operator, value: str) -> Expression:
        """Hyperparameters (strings) and parameters (NumberValue or StringValue) compare as
        numbers when the Value is a number, as text otherwise."""
        number = _maybe_number(value) if operator not in _TEXT_ONLY else None
        if found.kind == "parameter":
            member = "NumberValue" if number is not None else "StringValue"
            found = Property(
                found.name, (*found.path, member), "number" if number is not None else "text"
            )
            if number is None:
                return self._text(found, operator, value)
            return Condition(found.path, operator, number)
        if number is None:
            return self._text(found, operator, value)
        return Condition(found.path, operator, number, numeric_strings=True)

    def _refuse(
        self, found: Property, operator: Operator, refused: tuple[Operator, ...], what: str
    ) -> None:
        if operator in refused:
            raise ValidationError(
                f"The operator {operator} is not supported for '{found.name}', which is {what}."
            )

    def _may_repeat_contains(self, name: str) -> bool:
        head = name.split(".", 1)[0].lower()
        return name.lower() in self._contains_anywhere or head in self._contains_anywhere


def _valueless(found: Property, operator: Operator) -> Expression:
    if found.tag is not None:
        return TagCondition(found.tag, operator)
    return Condition(found.path, operator)


def _count_items(expression: dict[str, Any]) -> int:
    nested = expression.get("NestedFilters") or []
    subexpressions = expression.get("SubExpressions") or []
    return (
        len(expression.get("Filters") or [])
        + sum(1 + len(item.get("Filters") or []) for item in nested)
        + sum(1 + _count_items(item) for item in subexpressions)
    )


def _in_values(value: str) -> list[str]:
    return [item.strip() for item in value.split(",")]


def _maybe_number(value: str) -> int | float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    try:
        return int(value)
    except ValueError:
        return number


def _number(name: str, value: str) -> int | float:
    number = _maybe_number(value.strip())
    if number is None:
        raise ValidationError(
            f"The Value of '{name}' must be an integer or a decimal number, got '{value}'."
        )
    return number


def _timestamp(name: str, value: str) -> float:
    """Epoch seconds, as documents keep times; ISO 8601 (UTC unless it says) or epoch."""
    text = value.strip()
    number = _maybe_number(text)
    if number is not None:
        return float(number)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"The Value of '{name}' must be a timestamp such as 2024-05-01T12:00:00, got '{value}'."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
