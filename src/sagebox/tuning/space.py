"""The hyperparameter search space of a tuning job: SageMaker's ``ParameterRanges``.

``SearchSpace.from_api`` parses the API structure into ranges (``sagebox.tuning.ranges``
describes them and their scaling) and raises ``TuningConfigError`` naming the member,
e.g. ``ParameterRanges.IntegerParameterRanges[0] ('max_depth'): MinValue 5 is greater
than MaxValue 1``.

Limits follow the API reference: at most 30 ranges in all (the ``ParameterRanges``
note: the sum over the three lists cannot exceed the per-list maximum of 30), and
1 to 30 values per categorical range. ``AutoParameters`` (Autotune) is rejected.

SageMaker delivers hyperparameters to a training job as strings;
``to_api_values`` turns typed values into those strings and ``parse_values`` turns
them back (for warm-start observations from parent tuning jobs).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from sagebox.tuning.errors import TuningConfigError
from sagebox.tuning.ranges import (
    AUTO_LOG_RATIO,
    MAX_CATEGORICAL_VALUES,
    SCALING_TYPES,
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    NumericRange,
    Range,
    Value,
    parse_float,
    parse_integer,
)

__all__ = [
    "AUTO_LOG_RATIO",
    "MAX_CATEGORICAL_VALUES",
    "MAX_PARAMETERS",
    "SCALING_TYPES",
    "CategoricalRange",
    "ContinuousRange",
    "IntegerRange",
    "NumericRange",
    "Range",
    "SearchSpace",
    "Value",
]

MAX_PARAMETERS = 30

_T = TypeVar("_T")


def _api_member(member: str, build: Callable[[], _T]) -> _T:
    """Run ``build``; re-raise its problem under the API member path ``member``."""
    try:
        return build()
    except TuningConfigError as error:
        raise TuningConfigError(member, error.problem) from None
    except ValueError as error:
        raise TuningConfigError(member, str(error)) from None


def _bound(item: Mapping[str, Any], key: str, parse: Callable[[str], _T]) -> _T:
    if key not in item:
        raise ValueError(f"{key} is required")
    raw = item[key]
    text = raw if isinstance(raw, str) else str(raw)
    try:
        return parse(text)
    except ValueError as error:
        raise ValueError(f"{key} {error}") from None


def _integer_range(item: Mapping[str, Any]) -> IntegerRange:
    scaling = item.get("ScalingType", "Auto")
    if scaling == "ReverseLogarithmic":
        raise ValueError("ReverseLogarithmic scaling is supported only for continuous ranges")
    return IntegerRange(
        item.get("Name", ""),
        _bound(item, "MinValue", parse_integer),
        _bound(item, "MaxValue", parse_integer),
        scaling,
    )


def _continuous_range(item: Mapping[str, Any]) -> ContinuousRange:
    return ContinuousRange(
        item.get("Name", ""),
        _bound(item, "MinValue", parse_float),
        _bound(item, "MaxValue", parse_float),
        item.get("ScalingType", "Auto"),
    )


def _categorical_range(item: Mapping[str, Any]) -> CategoricalRange:
    values = item.get("Values")
    if not isinstance(values, list | tuple):
        raise ValueError("Values is required: a list of 1 to 30 strings")
    return CategoricalRange(item.get("Name", ""), tuple(values))


_KINDS: dict[str, Callable[[Mapping[str, Any]], Range]] = {
    "IntegerParameterRanges": _integer_range,
    "ContinuousParameterRanges": _continuous_range,
    "CategoricalParameterRanges": _categorical_range,
}


class SearchSpace:
    """The ranges a tuning job searches, in the order the request listed them."""

    def __init__(self, ranges: Iterable[Range]) -> None:
        self.ranges: tuple[Range, ...] = tuple(ranges)
        if not self.ranges:
            raise TuningConfigError(
                "ParameterRanges", "no hyperparameter ranges given; at least one is required"
            )
        if len(self.ranges) > MAX_PARAMETERS:
            raise TuningConfigError(
                "ParameterRanges",
                f"{len(self.ranges)} ranges given; at most {MAX_PARAMETERS} are allowed "
                "across IntegerParameterRanges, ContinuousParameterRanges and "
                "CategoricalParameterRanges",
            )
        seen: set[str] = set()
        for item in self.ranges:
            if item.name in seen:
                raise TuningConfigError(
                    "ParameterRanges", f"hyperparameter '{item.name}' has more than one range"
                )
            seen.add(item.name)
        self._by_name = {item.name: item for item in self.ranges}

    @classmethod
    def from_api(cls, parameter_ranges: Mapping[str, Any]) -> SearchSpace:
        """The space of an API ``ParameterRanges`` dict; ``TuningConfigError`` names the member."""
        if not isinstance(parameter_ranges, Mapping):
            raise TuningConfigError("ParameterRanges", "must be a structure")
        if parameter_ranges.get("AutoParameters"):
            raise TuningConfigError(
                "ParameterRanges.AutoParameters",
                "Autotune is not supported; give the ranges explicitly",
            )
        for key in parameter_ranges:
            if key not in _KINDS and key != "AutoParameters":
                raise TuningConfigError(f"ParameterRanges.{key}", "unknown member")
        ranges: list[Range] = []
        for kind, build in _KINDS.items():
            items = parameter_ranges.get(kind) or []
            for index, item in enumerate(items):
                name = item.get("Name", "") if isinstance(item, Mapping) else ""
                member = f"ParameterRanges.{kind}[{index}] ('{name}')"
                if not isinstance(item, Mapping):
                    raise TuningConfigError(member, "must be a structure")
                ranges.append(_api_member(member, lambda build=build, item=item: build(item)))
        return cls(ranges)

    def __len__(self) -> int:
        return len(self.ranges)

    def __iter__(self) -> Iterator[Range]:
        return iter(self.ranges)

    def __getitem__(self, name: str) -> Range:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return [item.name for item in self.ranges]

    def sample(self, rng: random.Random) -> dict[str, Value]:
        """One configuration drawn uniformly under every range's scale."""
        values: dict[str, Value] = {}
        for item in self.ranges:
            if isinstance(item, CategoricalRange):
                values[item.name] = item.values[rng.randrange(len(item.values))]
            else:
                values[item.name] = item.from_unit(rng.random())
        return values

    def grid(self) -> list[dict[str, str]]:
        """Every combination of the categorical values, each once, in a stable order.

        SageMaker's Grid strategy supports categorical ranges only ("How Hyperparameter
        Tuning Works"); the first range of another kind raises ``TuningConfigError``.
        The last range varies fastest, values in the order given, repeats dropped.
        """
        columns: list[tuple[str, ...]] = []
        for item in self.ranges:
            if not isinstance(item, CategoricalRange):
                kind = (
                    "IntegerParameterRanges"
                    if isinstance(item, IntegerRange)
                    else "ContinuousParameterRanges"
                )
                raise TuningConfigError(
                    f"ParameterRanges.{kind} ('{item.name}')",
                    "the Grid strategy supports only categorical ranges",
                )
            columns.append(item.distinct_values())
        names = self.names()
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*columns)]

    def grid_size(self) -> int:
        """How many training jobs a Grid search runs (``TuningConfigError`` if not a grid)."""
        return len(self.grid())

    def to_api_values(self, values: Mapping[str, Value]) -> dict[str, str]:
        """Typed values as the strings a training job receives, in range order."""
        self._check_names(values)
        return {
            item.name: _api_member(
                f"hyperparameter '{item.name}'",
                lambda item=item: item.format(values[item.name]),
            )
            for item in self.ranges
        }

    def parse_values(self, hyperparameters: Mapping[str, str]) -> dict[str, Value]:
        """The typed values of one configuration given as strings (e.g. a parent job's)."""
        self._check_names(hyperparameters)
        return {
            item.name: _api_member(
                f"hyperparameter '{item.name}'",
                lambda item=item: item.check(hyperparameters[item.name]),
            )
            for item in self.ranges
        }

    def _check_names(self, values: Mapping[str, object]) -> None:
        missing = [name for name in self._by_name if name not in values]
        if missing:
            raise TuningConfigError(
                f"hyperparameter '{missing[0]}'", "no value given for this tuned hyperparameter"
            )
        extra = [name for name in values if name not in self._by_name]
        if extra:
            raise TuningConfigError(
                f"hyperparameter '{extra[0]}'", "not one of the tuned hyperparameters"
            )
