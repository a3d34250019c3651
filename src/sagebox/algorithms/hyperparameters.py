"""Declared hyperparameters shared by every built-in algorithm.

Each algorithm declares its hyperparameters once, with SageMaker's names, defaults
and allowed values, as a ``HyperparameterSpace`` of small specs (``Integer``,
``Continuous``, ``Categorical``, ``Boolean``, ``Text``, ``IntegerList``,
``CategoricalList``) plus cross-parameter rules. ``validate`` turns the strings
SageMaker delivers (``hyperparameters.json`` is string -> string; the SageMaker SDK
JSON-encodes some values, e.g. ``'"reg:squarederror"'``) into typed values, fills
defaults and raises ``HyperparameterError`` for the first problem found, with one
message format: which hyperparameter, what was given, what is allowed.

Names starting with ``_`` or ``sagemaker_`` are reserved by SageMaker (e.g. the
``_tuning_objective_metric`` a tuning job adds) and are accepted and left out.
"""

from __future__ import annotations

import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

RESERVED_PREFIXES = ("_", "sagemaker_")

Rule = Callable[[Mapping[str, Any], frozenset[str]], None]
"""A cross-parameter check: receives the typed values (defaults filled) and the
names the user gave explicitly; raises ``HyperparameterError``."""


class HyperparameterError(ValueError):
    """A hyperparameter is missing, unknown, or has a value that is not allowed."""

    def __init__(
        self, name: str, given: str | None, allowed: str, *, reason: str | None = None
    ) -> None:
        self.name = name
        self.given = given
        self.allowed = allowed
        if reason is not None:
            head = f"Hyperparameter '{name}': {reason}"
        elif given is None:
            head = f"Hyperparameter '{name}' is required"
        else:
            head = f"Hyperparameter '{name}': value '{given}' is not allowed"
        super().__init__(f"{head}; expected {allowed}.")


def is_reserved(name: str) -> bool:
    """True for names SageMaker reserves for itself (``_*``, ``sagemaker_*``)."""
    return name.startswith(RESERVED_PREFIXES)


def unquote(text: str) -> str:
    """Undo the SageMaker SDK's JSON encoding of a string value, if present."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError:
            return text
        if isinstance(decoded, str):
            return decoded.strip()
    return text


class Hyperparameter(ABC):
    """One declared hyperparameter: parses its string form and describes what is allowed."""

    name: str
    default: Any
    required: bool

    @abstractmethod
    def parse(self, text: str) -> Any:
        """The typed value of ``text``; raises ``HyperparameterError``."""

    @abstractmethod
    def allowed(self) -> str:
        """What is allowed, as a phrase: ``an integer >= 0``."""

    def reject(self, given: str) -> HyperparameterError:
        return HyperparameterError(self.name, given, self.allowed())


def _range_phrase(
    low: float | None, high: float | None, low_open: bool = False, high_open: bool = False
) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{_num(low)}, {_num(high)}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {_num(low)}"
    if high is not None:
        return f"{'<' if high_open else '<='} {_num(high)}"
    return ""


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _in_range(
    value: float, low: float | None, high: float | None, low_open: bool, high_open: bool
) -> bool:
    if low is not None and (value < low or (low_open and value == low)):
        return False
    return not (high is not None and (value > high or (high_open and value == high)))


def _parse_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


@dataclass(frozen=True)
class Integer(Hyperparameter):
    name: str
    default: int | None = None
    min: int | None = None
    max: int | None = None
    required: bool = False

    def parse(self, text: str) -> int:
        value = _parse_int(text)
        if value is None or not _in_range(value, self.min, self.max, False, False):
            raise self.reject(text)
        return value

    def allowed(self) -> str:
        return f"an integer {_range_phrase(self.min, self.max)}".rstrip()


@dataclass(frozen=True)
class Continuous(Hyperparameter):
    name: str
    default: float | None = None
    min: float | None = None
    max: float | None = None
    required: bool = False
    min_open: bool = False
    max_open: bool = False

    def parse(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise self.reject(text) from None
        if math.isnan(value) or not _in_range(
            value, self.min, self.max, self.min_open, self.max_open
        ):
            raise self.reject(text)
        return value

    def allowed(self) -> str:
        phrase = _range_phrase(self.min, self.max, self.min_open, self.max_open)
        return f"a number {phrase}".rstrip()


@dataclass(frozen=True)
class Categorical(Hyperparameter):
    name: str
    values: tuple[str, ...]
    default: str | None = None
    required: bool = False

    def parse(self, text: str) -> str:
        if text not in self.values:
            raise self.reject(text)
        return text

    def allowed(self) -> str:
        return "one of " + ", ".join(f"'{value}'" for value in self.values)


_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


@dataclass(frozen=True)
class Boolean(Hyperparameter):
    name: str
    default: bool | None = None
    required: bool = False

    def parse(self, text: str) -> bool:
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise self.reject(text)

    def allowed(self) -> str:
        return "'true' or 'false'"


@dataclass(frozen=True)
class Text(Hyperparameter):
    name: str
    default: str | None = None
    pattern: str | None = None
    required: bool = False
    description: str = "a string"

    def parse(self, text: str) -> str:
        if self.pattern is not None and re.fullmatch(self.pattern, text) is None:
            raise self.reject(text)
        return text

    def allowed(self) -> str:
        return self.description


def _split_list(text: str) -> list[str] | None:
    """Items of ``a,b``, ``[a, b]``, ``(a, b)`` or a JSON list; None when malformed."""
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        try:
            decoded = json.loads(stripped)
        except json.JSONDecodeError:
            decoded = None
        if isinstance(decoded, list):
            return [str(item).strip() for item in decoded]
    if stripped[:1] in "([" and stripped[-1:] in ")]":
        stripped = stripped[1:-1]
    items = [unquote(item) for item in stripped.split(",")]
    if any(not item for item in items):
        return None
    return items


@dataclass(frozen=True)
class IntegerList(Hyperparameter):
    """A comma-separated list of integers: ``1,0,-1``, ``(1,0,-1)`` or ``[1, 0, -1]``."""

    name: str
    default: tuple[int, ...] | None = None
    min: int | None = None
    max: int | None = None
    required: bool = False

    def parse(self, text: str) -> tuple[int, ...]:
        items = _split_list(text)
        if not items:
            raise self.reject(text)
        values = []
        for item in items:
            value = _parse_int(item)
            if value is None or not _in_range(value, self.min, self.max, False, False):
                raise self.reject(text)
            values.append(value)
        return tuple(values)

    def allowed(self) -> str:
        element = f"an integer {_range_phrase(self.min, self.max)}".rstrip()
        return f"a comma-separated list, each item {element}"


@dataclass(frozen=True)
class CategoricalList(Hyperparameter):
    """A comma-separated list of choices; ``patterns`` admit parameterised items."""

    name: str
    values: tuple[str, ...]
    default: tuple[str, ...] | None = None
    required: bool = False
    patterns: tuple[str, ...] = ()

    def parse(self, text: str) -> tuple[str, ...]:
        items = _split_list(text)
        if not items:
            raise self.reject(text)
        for item in items:
            if item not in self.values and not any(
                re.fullmatch(pattern, item) for pattern in self.patterns
            ):
                raise HyperparameterError(
                    self.name, text, self.allowed(), reason=f"item '{item}' is not allowed"
                )
        return tuple(items)

    def allowed(self) -> str:
        return "a comma-separated list of " + ", ".join(f"'{value}'" for value in self.values)


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


class HyperparameterSpace:
    """An algorithm's declared hyperparameters, aliases and cross-parameter rules."""

    def __init__(
        self,
        *hyperparameters: Hyperparameter,
        rules: tuple[Rule, ...] = (),
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self._by_name = {hp.name: hp for hp in hyperparameters}
        if len(self._by_name) != len(hyperparameters):
            raise ValueError("hyperparameter names must be unique")
        self._aliases = dict(aliases or {})
        for alias, target in self._aliases.items():
            if target not in self._by_name or alias in self._by_name:
                raise ValueError(f"alias '{alias}' must name a declared hyperparameter")
        self._rules = rules

    def __iter__(self) -> Iterator[Hyperparameter]:
        return iter(self._by_name.values())

    def __getitem__(self, name: str) -> Hyperparameter:
        return self._by_name[self._aliases.get(name, name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._aliases.get(name, name) in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    @property
    def aliases(self) -> Mapping[str, str]:
        return dict(self._aliases)

    def defaults(self) -> dict[str, Any]:
        return {name: hp.default for name, hp in self._by_name.items()}

    def explicit(self, raw: Mapping[str, object]) -> dict[str, str]:
        """The given hyperparameters as text under their canonical names, reserved ones left out.

        Raises ``HyperparameterError`` for unknown names and for a name given twice
        (once under an alias).
        """
        given: dict[str, str] = {}
        for key, value in raw.items():
            if is_reserved(key):
                continue
            text = _as_text(value)
            canonical = self._aliases.get(key, key)
            if canonical not in self._by_name:
                raise HyperparameterError(
                    key,
                    text,
                    "one of " + ", ".join(sorted(self._by_name)),
                    reason="not a hyperparameter of this algorithm",
                )
            if canonical in given:
                raise HyperparameterError(
                    key,
                    text,
                    f"'{canonical}' given once, under one name",
                    reason=f"given twice, also as '{canonical}'",
                )
            given[canonical] = text
        return given

    def validate(self, raw: Mapping[str, object]) -> dict[str, Any]:
        """Typed values for every declared hyperparameter, defaults filled."""
        given = self.explicit(raw)
        values: dict[str, Any] = {}
        for name, hp in self._by_name.items():
            if name in given:
                values[name] = hp.parse(unquote(given[name]))
            elif hp.required:
                raise HyperparameterError(name, None, hp.allowed())
            else:
                values[name] = hp.default
        names = frozenset(given)
        for rule in self._rules:
            rule(values, names)
        return values
