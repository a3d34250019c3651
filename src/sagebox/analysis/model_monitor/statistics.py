"""Per-feature statistics in Model Monitor's ``statistics.json`` schema (Deequ's profile).

Each column is typed value by value as Deequ types CSV data: a value that reads as an
integer is ``Integral``, one that reads as a decimal number ``Fractional``, ``true`` /
``false`` ``Boolean``, anything else ``String``; the column's ``inferred_type`` is String
if any value is, else Fractional, else Integral (all missing: ``Unknown``). Numeric
columns get count, missing, mean, sum, population standard deviation, min, max, ten
equal-width buckets and a KLL sketch (`kll.py`); the others a distinct count and the
value counts (the 1000 most frequent values as categorical buckets).

Columns are profiled on a thread pool: numpy's passes release the GIL.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sagebox.analysis.model_monitor import kll

INTEGRAL, FRACTIONAL, BOOLEAN, STRING, UNKNOWN = "Integral", "Fractional", "Boolean", "String", "Unknown"
NUMERIC_TYPES = (INTEGRAL, FRACTIONAL)
BUCKETS = 10
MAX_CATEGORIES = 1000
_INTEGRAL_TEXT = r"^\s*[+-]?\d+\s*$"
_NUMBER_TEXT = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_BOOLEAN_TEXT = r"^\s*(?i:true|false)\s*$"


@dataclass
class ColumnProfile:
    """What the analyzer learns about one column, for statistics.json and the checks."""

    name: str
    present: int
    missing: int
    type_counts: dict[str, int] = field(default_factory=dict)
    values: np.ndarray | None = None
    """The present values (in data order), when every one is a number."""
    categories: dict[str, int] | None = None
    """Value counts, when the column is typed String (or Boolean)."""

    @property
    def count(self) -> int:
        return self.present + self.missing

    @property
    def inferred_type(self) -> str:
        if self.present == 0:
            return UNKNOWN
        for kind in (STRING, FRACTIONAL, INTEGRAL):
            if self.type_counts.get(kind):
                return kind
        return STRING if self.type_counts.get(BOOLEAN) else UNKNOWN

    @cached_property
    def summary(self) -> dict[str, Any]:
        """numerical_statistics' numbers and distribution (numeric columns)."""
        return numeric_summary(self.values if self.values is not None else np.empty(0))

    @property
    def sketch_levels(self) -> list[list[float]]:
        return self.summary["distribution"]["kll"]["sketch"]["data"]

    @property
    def completeness(self) -> float:
        return self.present / self.count if self.count else 0.0

    def matching_fraction(self, expected: str) -> float:
        """The share of present values of the `expected` type (an Integral is Fractional too)."""
        if not self.present:
            return 1.0
        if expected == STRING:
            return 1.0
        if expected == FRACTIONAL:
            return (self.type_counts.get(FRACTIONAL, 0) + self.type_counts.get(INTEGRAL, 0)) / self.present
        return self.type_counts.get(expected, 0) / self.present

    def entry(self) -> dict[str, Any]:
        """The feature's entry in statistics.json."""
        common = {"num_present": self.present, "num_missing": self.missing}
        kind = self.inferred_type
        if kind in NUMERIC_TYPES and self.values is not None:
            return {"name": self.name, "inferred_type": kind, "numerical_statistics": {"common": common, **self.summary}}
        categories = self.categories or {}
        ordered = sorted(categories.items(), key=lambda item: (-item[1], item[0]))[:MAX_CATEGORIES]
        return {
            "name": self.name, "inferred_type": kind,
            "string_statistics": {
                "common": common, "distinct_count": float(len(categories)),
                "distribution": {"categorical": {"buckets": [{"value": v, "count": c} for v, c in ordered]}},
            },
        }


def numeric_summary(values: np.ndarray) -> dict[str, Any]:
    """Mean, sum, std_dev, min, max and the KLL distribution of the present values."""
    if len(values) == 0:
        return {"mean": 0.0, "sum": 0.0, "std_dev": 0.0, "min": 0.0, "max": 0.0,
                "distribution": {"kll": {"buckets": [], "sketch": _sketch([])}}}
    low, high = float(values.min()), float(values.max())
    total = float(values.sum())
    return {
        "mean": total / len(values), "sum": total, "std_dev": float(values.std()),
        "min": low, "max": high,
        "distribution": {"kll": {"buckets": buckets(values, low, high), "sketch": _sketch(kll.sketch_of(values))}},
    }


def _sketch(levels: list[list[float]]) -> dict[str, Any]:
    return {"parameters": {"c": kll.SHRINKING_FACTOR, "k": float(kll.SKETCH_SIZE)}, "data": levels}


def buckets(values: np.ndarray, low: float, high: float) -> list[dict[str, float]]:
    """Ten equal-width buckets from min to max (the last one closed), with their counts."""
    if low == high:
        return [{"lower_bound": low, "upper_bound": high, "count": float(len(values))}]
    counts, edges = np.histogram(values, bins=BUCKETS, range=(low, high))
    return [
        {"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": float(counts[i])}
        for i in range(BUCKETS)
    ]


def profile_column(name: str, column: pa.ChunkedArray | pa.Array) -> ColumnProfile:
    """Types every value of the column and keeps what the statistics and checks need."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.dictionary_decode()
        kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        missing = np.isnan(values)
        if missing.any():
            values = values[~missing]
        label = INTEGRAL if pa.types.is_integer(kind) else FRACTIONAL
        return ColumnProfile(name, len(values), len(column) - len(values), {label: len(values)}, values)
    if pa.types.is_boolean(kind):
        present = len(column) - column.null_count
        counts = _value_counts(column.cast(pa.string()))
        return ColumnProfile(name, present, column.null_count, {BOOLEAN: present}, categories=counts)
    if pa.types.is_null(kind):
        return ColumnProfile(name, 0, len(column))
    text = column if pa.types.is_string(kind) or pa.types.is_large_string(kind) else column.cast(pa.string())
    empty = pc.equal(pc.utf8_trim_whitespace(text), "")
    text = pc.if_else(empty, pa.scalar(None, text.type), text)
    present = len(text) - text.null_count
    integral = _count(pc.match_substring_regex(text, _INTEGRAL_TEXT))
    number = _count(pc.match_substring_regex(text, _NUMBER_TEXT))
    boolean = _count(pc.match_substring_regex(text, _BOOLEAN_TEXT))
    counts = {INTEGRAL: integral, FRACTIONAL: number - integral, BOOLEAN: boolean, STRING: present - number - boolean}
    profile = ColumnProfile(name, present, len(text) - present, counts)
    if present and number == present:
        values = pc.cast(pc.utf8_trim_whitespace(text), pa.float64()).to_numpy(zero_copy_only=False)
        profile.values = values[~np.isnan(values)]
    else:
        profile.categories = _value_counts(text)
    return profile


def _count(mask: pa.Array) -> int:
    return int(pc.sum(mask).as_py() or 0)


def _value_counts(column: pa.Array) -> dict[str, int]:
    counted = pc.value_counts(column.drop_null())
    return {str(v): int(c) for v, c in zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True)}


def profile_table(table: pa.Table, excluded: Iterable[str] = (), workers: int = 0) -> list[ColumnProfile]:
    """Every column's profile, in column order (`excluded` names left out)."""
    skip = set(excluded)
    names = [n for n in table.column_names if n not in skip]
    threads = workers or max(1, min(os.cpu_count() or 1, len(names)))
    def profiled(name: str) -> ColumnProfile:
        profile = profile_column(name, table.column(name))
        _ = profile.summary if profile.values is not None else None  # computed on the pool's threads
        return profile

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(profiled, names))


def statistics_document(profiles: list[ColumnProfile], item_count: int) -> dict[str, Any]:
    """statistics.json."""
    return {"version": 0.0, "dataset": {"item_count": item_count}, "features": [p.entry() for p in profiles]}


def is_finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
