"""Which rows are the sensitive group (facet d) and which outcomes are positive.

Clarify decides per column whether it is categorical or continuous, with the rules of
Amazon's ``smclarify`` (its `series_datatype`):

- more than one value given, or a boolean / category column: categorical;
- floating point: continuous;
- integers (or strings that all read as integers): continuous when at least 5% of the
  values are distinct, categorical otherwise;
- anything else: categorical.

A categorical facet's group is the rows whose value is one of the given values (one
group per distinct value, in order of first appearance, when none is given); a
continuous facet's group is the rows above the threshold, shown as the interval
``(threshold, max]``. Labels alike: positive outcomes are the given values, or the values
above the threshold. Values compare as given first; when none matches, as the column's
type does (``"1"``, ``1`` and ``1.0`` are one value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sagebox.analysis.clarify.errors import ClarifyError

UNIQUENESS_THRESHOLD = 0.05


@dataclass(frozen=True)
class Group:
    """One sensitive group of a facet: its rows and how the analysis names it."""

    value_or_threshold: str
    mask: np.ndarray


def is_continuous(series: pd.Series, values: Sequence[Any] | None = None) -> bool:
    if (values is not None and len(values) > 1) or series.dtype == bool or isinstance(series.dtype, pd.CategoricalDtype):
        return False
    present = series.dropna()
    if present.empty:
        return False
    uniqueness = present.nunique() / len(present)
    if pd.api.types.is_float_dtype(series):
        return True
    if pd.api.types.is_integer_dtype(series):
        return uniqueness >= UNIQUENESS_THRESHOLD
    as_integers = pd.to_numeric(present, errors="coerce")
    if as_integers.notna().all() and (as_integers == np.floor(as_integers)).all():
        return uniqueness >= UNIQUENESS_THRESHOLD
    return False


def _key(value: Any) -> str:
    """A value's identity across types: 1, 1.0 and "1" are one key; other strings are themselves."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if np.isnan(number):
        return "nan"
    return str(int(number)) if number == int(number) else repr(number)


def matches(series: pd.Series, values: Sequence[Any]) -> np.ndarray:
    """The rows whose value is one of `values`, compared as given, else by `_key`."""
    direct = series.isin(list(values)).to_numpy(dtype=bool)
    if direct.any():
        return direct
    keys = {_key(v) for v in values}
    return np.array([_key(v) in keys for v in series], dtype=bool)


def threshold_of(values: Sequence[Any] | None, member: str) -> float:
    if not values or len(values) != 1:
        raise ClarifyError(f"'{member}' must be one numeric threshold for a continuous column, got {list(values or [])}.")
    try:
        return float(values[0])
    except (TypeError, ValueError) as exc:
        raise ClarifyError(f"'{member}' must be one numeric threshold for a continuous column, got {values[0]!r}.") from exc


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def interval(threshold: float, maximum: float) -> str:
    """How Clarify shows a continuous group: the interval (threshold, max]."""
    return f"({_number(threshold)}, {_number(maximum)}]"


def above(series: pd.Series, threshold: float, member: str) -> np.ndarray:
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.isna().any():
        raise ClarifyError(f"Could not convert string to float: the {member} column holds values that are not numbers.")
    return (numbers.to_numpy(dtype=float) > threshold)


def facet_groups(series: pd.Series, values: Sequence[Any] | None, name: str) -> list[Group]:
    """The sensitive groups of one facet column."""
    if series.isna().all():
        raise ClarifyError(f"The facet '{name}' has no values.")
    if is_continuous(series, values):
        threshold = threshold_of(values, f"facet '{name}' value_or_threshold")
        maximum = float(pd.to_numeric(series).max())
        return [Group(interval(threshold, maximum), above(series, threshold, f"facet '{name}'"))]
    if values:
        return [Group(",".join(str(v) for v in values), matches(series, values))]
    return [Group(str(v), matches(series, [v])) for v in pd.unique(series.dropna())]


def positive_outcomes(series: pd.Series, values: Sequence[Any], member: str = "label") -> tuple[np.ndarray, str]:
    """The rows with a positive outcome, and the label_value_or_threshold string shown for it."""
    if is_continuous(series, values):
        threshold = threshold_of(values, "label_values_or_threshold")
        maximum = float(pd.to_numeric(series).max())
        return above(series, threshold, member), interval(threshold, maximum)
    return matches(series, values), ",".join(str(v) for v in values)


def predicted_positive(predicted: pd.Series, label: pd.Series, values: Sequence[Any]) -> np.ndarray:
    """Positive predicted outcomes: judged as the observed labels are (same values or threshold)."""
    if is_continuous(label, values):
        return above(predicted, threshold_of(values, "label_values_or_threshold"), "predicted label")
    return matches(predicted, values)
