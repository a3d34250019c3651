"""The three kinds of hyperparameter range in SageMaker's ``ParameterRanges``.

Numeric ranges carry a ``ScalingType``:

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

``check`` turns a value (typed, or the string a training job receives) into the
range's type or raises ``ValueError``; ``format`` gives the string. Ranges built
with bad bounds raise ``TuningConfigError`` naming the range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sagebox.tuning.errors import TuningConfigError

SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
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
            value = parse_integer(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"value {value!r} is not an integer")
        if not self.min_value <= value <= self.max_value:
            raise ValueError(
                f"value {value} is outside [{self.min_value}, {self.max_value}]"
            )
        return value

    def format(self, value: object) -> str:
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
            value = parse_float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"value {value!r} is not a number")
        number = float(value)
        if not self.min_value <= number <= self.max_value:
            raise ValueError(
                f"value {_number(number)} is outside "
                f"[{_number(self.min_value)}, {_number(self.max_value)}]"
            )
        return number

    def format(self, value: object) -> str:
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

    def format(self, value: object) -> str:
        return self.check(value)


Range = IntegerRange | ContinuousRange | CategoricalRange
NumericRange = IntegerRange | ContinuousRange


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"Name {name!r} must be a non-empty string")


def parse_integer(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not an integer") from None


def parse_float(text: str) -> float:
    try:
        number = float(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"'{text}' is not a finite number")
    return number
