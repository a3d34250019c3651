"""Search's property names, resolved against the resource's SearchRecord shape.

A property name is what a Filter's ``Name`` or the request's ``SortBy`` says:
members joined with dots as the resource's member of botocore's ``SearchRecord``
has them (``InputDataConfig.DataSource.S3DataSource.S3Uri``; lists are walked
through, any element counting), plus the forms SageMaker documents:

- ``Tags.<key>``: the value of the resource's tag (the tags table, not the document);
- ``HyperParameters.<name>`` (any map of hyperparameter values): compared as a number
  when the filter's Value is one, as SageMaker does;
- ``Metrics.<name>``: a training job's final metric (``FinalMetricDataList``);
  ``Metrics.<name>.<statistic>`` (Max, Min, Last, Avg, ...): a trial component's
  metric summary;
- ``Parameters.<name>``: a trial component's parameter, its NumberValue when the
  Value is a number, else its StringValue;
- ``<map>.<key>`` for other maps; keys may contain dots, since a key runs to the
  end of the name or to the member of the map's value named last.

Member names match regardless of case (SageMaker's own suggestions are lowercase);
keys, tag keys and metric names are exact. A name that resolves to nothing is a
ValidationException naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from botocore.model import Shape

from sagebox.services.errors import ValidationError
from sagebox.store import EACH, Match
from sagebox.store.query import Segment

ValueKind = Literal[
    "text", "number", "timestamp", "boolean", "hyperparameter", "parameter", "container"
]
MetricsStyle = Literal["final", "summary"] | None
_NUMBER_TYPES = ("integer", "long", "float", "double")
_LEAF_KINDS: dict[str, ValueKind] = {
    "string": "text",
    "timestamp": "timestamp",
    "boolean": "boolean",
    **{name: "number" for name in _NUMBER_TYPES},
}
HYPERPARAMETER_SHAPE = "HyperParameterValue"


@dataclass(frozen=True)
class Property:
    """Where a property's values are and how a filter's string Value reads against them."""

    name: str
    path: tuple[Segment, ...]
    kind: ValueKind
    tag: str | None = None
    """For ``Tags.<key>``: the key (``path`` is empty)."""
    element: Shape | None = None
    """For a list property: the shape of its elements (NestedFilters start there)."""
    list_path: tuple[Segment, ...] = ()
    """For a list property: the path of the list itself (``path`` reaches its elements)."""


class PropertyResolver:
    """Resolves property names of one resource, against its record shape or a list element's."""

    def __init__(self, resource: str, shape: Shape, metrics: MetricsStyle = None) -> None:
        self._resource = resource
        self._shape = shape
        self._metrics = metrics

    def resolve(self, name: str, root: Shape | None = None) -> Property:
        """The property ``name``; from ``root`` (a list element's shape) for nested filters."""
        parts = name.split(".")
        if root is None:
            special = self._special(name, parts)
            if special is not None:
                return special
        found = self._walk(name, root or self._shape, parts, ())
        if found is None:
            raise ValidationError(self.unknown(name))
        return found

    def unknown(self, name: str) -> str:
        return f"'{name}' is not a searchable property of resource {self._resource}."

    def _special(self, name: str, parts: list[str]) -> Property | None:
        head, rest = parts[0].lower(), ".".join(parts[1:])
        if head == "tags" and rest and "Tags" in self._shape.members:  # type: ignore[attr-defined]
            return Property(name, (), "text", tag=rest)
        if head != "metrics" or not rest or self._metrics is None:
            return None
        if self._metrics == "final":
            path = ("FinalMetricDataList", Match("MetricName", rest), "Value")
            return Property(name, path, "number")
        summary = self._shape.members["Metrics"].member  # type: ignore[attr-defined]
        metric, _, statistic = rest.rpartition(".")
        member = _member(summary, statistic)
        if not metric and member is not None:
            return None  # Metrics.<member>: the list's own members (for NestedFilters)
        if not metric or member is None or member == "MetricName":
            statistics = ", ".join(m for m in summary.members if m != "MetricName")
            raise ValidationError(
                f"'{name}' is not a searchable property of resource {self._resource}: "
                f"search a metric as Metrics.<metric name>.<statistic>, the statistic one of "
                f"{statistics}."
            )
        kind = _leaf_kind(summary.members[member])
        return Property(name, ("Metrics", Match("MetricName", metric), member), kind or "number")

    def _walk(
        self, name: str, shape: Shape, parts: list[str], path: tuple[Segment, ...]
    ) -> Property | None:
        while shape.type_name == "list":
            shape, path = shape.member, (*path, EACH)  # type: ignore[attr-defined]
        if not parts:
            return _leaf(name, shape, path)
        if shape.type_name == "structure":
            member = _member(shape, parts[0])
            if member is None:
                return None
            child = shape.members[member]  # type: ignore[attr-defined]
            found = self._walk(name, child, parts[1:], (*path, member))
            if found is not None and child.type_name == "list" and len(parts) == 1:
                element = _element(child)
                kind = _leaf_kind(element) or "container"
                return Property(name, found.path, kind, element=element, list_path=(*path, member))
            return found
        if shape.type_name == "map":
            return self._map_entry(name, shape, parts, path)
        return None

    def _map_entry(
        self, name: str, shape: Shape, parts: list[str], path: tuple[Segment, ...]
    ) -> Property | None:
        value = shape.value  # type: ignore[attr-defined]
        if value.type_name == "structure" and len(parts) > 1:
            member = _member(value, parts[-1])
            if member is not None:
                key = ".".join(parts[:-1])
                return self._walk(name, value.members[member], [], (*path, key, member))
        key = ".".join(parts)
        if value.name == HYPERPARAMETER_SHAPE:
            return Property(name, (*path, key), "hyperparameter")
        if value.type_name == "structure" and set(value.members) == {"StringValue", "NumberValue"}:
            return Property(name, (*path, key), "parameter")
        return _leaf(name, value, (*path, key))


def _leaf(name: str, shape: Shape, path: tuple[Segment, ...]) -> Property:
    kind = _leaf_kind(shape)
    if kind is None:
        return Property(name, path, "container")
    return Property(name, path, kind)


def _leaf_kind(shape: Shape) -> ValueKind | None:
    return _LEAF_KINDS.get(shape.type_name)


def _element(shape: Shape) -> Shape:
    while shape.type_name == "list":
        shape = shape.member  # type: ignore[attr-defined]
    return shape


def _member(shape: Shape, wanted: str) -> str | None:
    """The member of a structure named ``wanted``, exactly or else regardless of case."""
    members = shape.members  # type: ignore[attr-defined]
    if wanted in members:
        return str(wanted)
    folded = wanted.lower()
    return next((str(member) for member in members if member.lower() == folded), None)
