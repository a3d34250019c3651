"""The hyperparameter search space of a tuning job: SageMaker's ``ParameterRanges``.

Three kinds of range, as the API declares them: ``IntegerRange``,
``ContinuousRange`` and ``CategoricalRange``. Numeric ranges carry a
``ScalingType``:

- ``Linear``: values are searched uniformly between the bounds.
- ``Logarithmic``: uniformly in ``log(value)``; every value must be > 0.
- ``ReverseLogarithmic``: uniformly in ``log(1 - value)``, which crowds the
  samples towards 1; continuous ranges only, entirely inside ``0 <= x < 1``.
- ``Auto``: SageMaker picks the scale itself and does not publish its rule. Here
  a range is searched on a logarithmic scale when it is strictly positive and
  spans two orders of magnitude or more (``min > 0 and max / min >= 100``),
  and on a linear scale otherwise.

Every numeric range maps to and from the unit interval under its scale
(``to_unit`` / ``from_unit``), so a uniform draw in ``[0, 1)`` is a uniform draw
under the scale. Integers are drawn over ``[min - 0.5, max + 0.5]`` and rounded,
which gives every integer, the bounds included, its fair share.

Limits follow the API reference: at most 30 ranges in all (the ``ParameterRanges``
note: the sum over the three lists cannot exceed the per-list maximum of 30), and
1 to 30 values per categorical range.

SageMaker delivers hyperparameters to a training job as strings;
``to_api_values`` turns typed values into those strings and ``parse_values`` turns
them back (for warm-start observations from parent tuning jobs).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sagebox.tuning.errors import TuningConfigError

SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
MAX_PARAMETERS = 30
MAX_CATEGORICAL_VALUES = 30
AUTO_LOG_RATIO = 100.0
"""``Auto`` scaling picks ``Logarithmic`` when ``min > 0`` and ``max / min`` reaches this."""

Value = int | float | str


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _auto_scaling(min_value: float, max_value: float) -> str:
    if min_value > 0 and max_value / min_value >= AUTO_LOG_RATIO:
        return "Logarithmic"
    return "Linear"


def _check_scaling(scaling: str, allowed: tuple[str, ...]) -> None:
    if scaling not in allowed:
        raise ValueError(
            f"ScalingType '{scaling}' is not allowed; expected one of {', '.join(allowed)}"
        )


@dataclass(frozen=True)
class IntegerRange:
    """An integer hyperparameter searched between ``min_value`` and ``max_value`` inclusive."""

    name: str
    min_value: int
    max_value: int
    scaling: str = "Auto"

    def __post_init__(self) -> None:
        try:
            _check_name(self.name)
            _check_scaling(self.scaling, ("Auto", "Linear", "Logarithmic"))
            for bound in (self.min_value, self.max_value):
                if isinstance(bound, bool) or not isinstance(bound, int):
                    raise ValueError(f"bound {bound!r} is not an integer")
            if self.min_value > self.max_value:
                raise ValueError(
                    f"MinValue {self.min_value} is greater than MaxValue {self.max_value}"
                )
            if self.scaling == "Logarithmic" and self.min_value <= 0:
                raise ValueError(
                    f"Logarithmic scaling needs MinValue > 0, got {self.min_value}"
                )
        except ValueError as error:
            raise TuningConfigError(f"range '{self.name}'", str(error)) from None

    @property
    def effective_scaling(self) -> str:
        """``Linear`` or ``Logarithmic``: the scale searched, ``Auto`` resolved."""
        if self.scaling == "Auto":
            return _auto_scaling(self.min_value, self.max_value)
        return self.scaling

    def from_unit(self, unit: float) -> int:
        low, high = self.min_value - 0.5, self.max_value + 0.5
        if self.effective_scaling == "Logarithmic":
            raw = math.exp(math.log(low) + unit * (math.log(high) - math.log(low)))
        else:
            raw = low + unit * (high - low)
        return min(max(round(raw), self.min_value), self.max_value)

    def to_unit(self, value: int) -> float:
        low, high = self.min_value - 0.5, self.max_value + 0.5
        if self.effective_scaling == "Logarithmic":
            return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
        return (value - low) / (high - low)

    def check(self, value: object) -> int:
        """``value`` as an int inside the range; ``ValueError`` otherwise."""
        if isinstance(value, str):
            value = _parse_integer(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"value {value!r} is not an integer")
        if not self.min_value <= value <= self.max_value:
            raise ValueError(
                f"value {value} is outside [{self.min_value}, {self.max_value}]"
            )
        return value

    def format(self, value: int) -> str:
        return str(self.check(value))


@dataclass(frozen=True)
class ContinuousRange:
    """A real-valued hyperparameter searched between ``min_value`` and ``max_value``."""

    name: str
    min_value: float
    max_value: float
    scaling: str = "Auto"

    def __post_init__(self) -> None:
        try:
            _check_name(self.name)
            _check_scaling(self.scaling, SCALING_TYPES)
            for bound in (self.min_value, self.max_value):
                if isinstance(bound, bool) or not isinstance(bound, int | float):
                    raise ValueError(f"bound {bound!r} is not a number")
                if not math.isfinite(bound):
                    raise ValueError(f"bound {bound!r} is not a finite number")
            low, high = self.min_value, self.max_value
            if low > high:
                raise ValueError(f"MinValue {_number(low)} is greater than MaxValue {_number(high)}")
            if self.scaling == "Logarithmic" and low <= 0:
                raise ValueError(f"Logarithmic scaling needs MinValue > 0, got {_number(low)}")
            if self.scaling == "ReverseLogarithmic" and not (low >= 0 and high < 1):
                raise ValueError(
                    "ReverseLogarithmic scaling needs 0 <= MinValue <= MaxValue < 1, "
                    f"got [{_number(low)}, {_number(high)}]"
                )
        except ValueError as error:
            raise TuningConfigError(f"range '{self.name}'", str(error)) from None

    @property
    def effective_scaling(self) -> str:
        """``Linear``, ``Logarithmic`` or ``ReverseLogarithmic``, ``Auto`` resolved."""
        if self.scaling == "Auto":
            return _auto_scaling(self.min_value, self.max_value)
        return self.scaling

    def from_unit(self, unit: float) -> float:
        low, high = float(self.min_value), float(self.max_value)
        scaling = self.effective_scaling
        if scaling == "Logarithmic":
            raw = math.exp(math.log(low) + unit * (math.log(high) - math.log(low)))
        elif scaling == "ReverseLogarithmic":
            top, bottom = math.log(1 - low), math.log(1 - high)
            raw = 1 - math.exp(top + unit * (bottom - top))
        else:
            raw = low + unit * (high - low)
        return min(max(raw, low), high)

    def to_unit(self, value: float) -> float:
        low, high = float(self.min_value), float(self.max_value)
        if low == high:
            return 0.0
        scaling = self.effective_scaling
        if scaling == "Logarithmic":
            return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
        if scaling == "ReverseLogarithmic":
            top, bottom = math.log(1 - low), math.log(1 - high)
            return (math.log(1 - value) - top) / (bottom - top)
        return (value - low) / (high - low)

    def check(self, value: object) -> float:
        """``value`` as a float inside the range; ``ValueError`` otherwise."""
        if isinstance(value, str):
            value = _parse_float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"value {value!r} is not a number")
        number = float(value)
        if not self.min_value <= number <= self.max_value:
            raise ValueError(
                f"value {_number(number)} is outside "
                f"[{_number(self.min_value)}, {_number(self.max_value)}]"
            )
        return number

    def format(self, value: float) -> str:
        return repr(self.check(value))


@dataclass(frozen=True)
class CategoricalRange:
    """A hyperparameter that takes one of ``values``."""

    name: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        try:
            _check_name(self.name)
            if isinstance(self.values, str) or not isinstance(self.values, tuple):
                raise ValueError("Values must be a tuple of strings")
            if not self.values:
                raise ValueError("Values is empty; give 1 to 30 values")
            if len(self.values) > MAX_CATEGORICAL_VALUES:
                raise ValueError(
                    f"{len(self.values)} values given; at most {MAX_CATEGORICAL_VALUES} allowed"
                )
            for value in self.values:
                if not isinstance(value, str):
                    raise ValueError(f"value {value!r} is not a string")
        except ValueError as error:
            raise TuningConfigError(f"range '{self.name}'", str(error)) from None

    def distinct_values(self) -> tuple[str, ...]:
        """The values without repeats, in the order given."""
        return tuple(dict.fromkeys(self.values))

    def check(self, value: object) -> str:
        if not isinstance(value, str) or value not in self.values:
            raise ValueError(
                f"value {value!r} is not one of " + ", ".join(f"'{v}'" for v in self.values)
            )
        return value

    def format(self, value: str) -> str:
        return self.check(value)


Range = IntegerRange | ContinuousRange | CategoricalRange
NumericRange = IntegerRange | ContinuousRange


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"Name {name!r} must be a non-empty string")


def _parse_integer(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not an integer") from None


def _parse_float(text: str) -> float:
    try:
        number = float(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"'{text}' is not a finite number")
    return number


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
        _bound(item, "MinValue", _parse_integer),
        _bound(item, "MaxValue", _parse_integer),
        scaling,
    )


def _continuous_range(item: Mapping[str, Any]) -> ContinuousRange:
    return ContinuousRange(
        item.get("Name", ""),
        _bound(item, "MinValue", _parse_float),
        _bound(item, "MaxValue", _parse_float),
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
                lambda item=item: item.format(values[item.name]),  # type: ignore[arg-type]
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
