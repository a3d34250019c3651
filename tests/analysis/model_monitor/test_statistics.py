"""Column profiles against numpy: Deequ's typing, the numbers, buckets and the KLL sketch."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sagebox.analysis.model_monitor import kll
from sagebox.analysis.model_monitor.statistics import (
    profile_column,
    profile_table,
    statistics_document,
)


def test_numeric_statistics_match_numpy() -> None:
    values = np.random.default_rng(3).normal(5, 2, size=5000)
    column = pa.array(np.concatenate([values, [np.nan]]), from_pandas=True)
    entry = profile_column("x", column).entry()
    numbers = entry["numerical_statistics"]
    assert entry["inferred_type"] == "Fractional"
    assert numbers["common"] == {"num_present": 5000, "num_missing": 1}
    assert numbers["mean"] == pytest.approx(values.mean(), rel=1e-12)
    assert numbers["sum"] == pytest.approx(values.sum(), rel=1e-12)
    assert numbers["std_dev"] == pytest.approx(values.std(), rel=1e-12)  # population deviation, as Deequ's
    assert (numbers["min"], numbers["max"]) == (values.min(), values.max())
    counts, _ = np.histogram(values, bins=10, range=(values.min(), values.max()))
    assert [b["count"] for b in numbers["distribution"]["kll"]["buckets"]] == list(counts.astype(float))


def test_kll_sketch_weights_and_rank_error() -> None:
    values = np.sort(np.random.default_rng(4).lognormal(size=200_001))
    levels = kll.sketch(values)
    items, weights = kll.weighted_items(levels)
    assert weights.sum() == len(values)
    assert len(levels[-1]) <= kll.SKETCH_SIZE
    points = np.quantile(values, np.linspace(0.001, 0.999, 97))
    exact = np.searchsorted(values, points, side="right") / len(values)
    stride = 2 ** (len(levels) - 1)  # half a block of the top level at most, never more than 1/k
    assert np.max(np.abs(kll.cdf(items, weights, points) - exact)) <= stride / 2 / len(values) + 1e-9 <= 1 / kll.SKETCH_SIZE
    small = np.sort(np.array([3.0, 1.0, 2.0]))
    assert kll.sketch(small) == [[1.0, 2.0, 3.0]]
    rng = np.random.default_rng(5)
    for column in (rng.normal(size=300_001), rng.lognormal(sigma=3, size=100_000), rng.integers(0, 4, size=50_000) * 1.0):
        assert kll.sketch_of(column) == kll.sketch(np.sort(column))  # order statistics, without the sort


def test_values_are_typed_as_deequ_types_csv_text() -> None:
    column = pa.array(["1", " 2 ", "3.5", "x", None, "", "true", "-4e3"])
    profile = profile_column("mixed", column)
    assert (profile.present, profile.missing) == (6, 2)
    assert profile.type_counts == {"Integral": 2, "Fractional": 2, "Boolean": 1, "String": 1}
    assert profile.inferred_type == "String"
    assert profile.matching_fraction("Fractional") == pytest.approx(4 / 6)
    entry = profile.entry()
    assert entry["string_statistics"]["distinct_count"] == 6.0
    assert {b["value"] for b in entry["string_statistics"]["distribution"]["categorical"]["buckets"]} == {
        "1", " 2 ", "3.5", "x", "true", "-4e3"}
    numbers = profile_column("n", pa.array(["1", "2", "10"]))
    assert numbers.inferred_type == "Integral" and numbers.values is not None and list(numbers.values) == [1.0, 2.0, 10.0]
    assert profile_column("f", pa.array(["1", "2.5"])).inferred_type == "Fractional"
    assert profile_column("empty", pa.array([None, None], type=pa.string())).inferred_type == "Unknown"
    assert profile_column("ints", pa.array([1, 2, None])).entry()["inferred_type"] == "Integral"


def test_statistics_document_keeps_column_order_and_exclusions() -> None:
    table = pa.table({"b": [1.0, 2.0], "a": ["x", "y"], "skip": [1, 2]})
    profiles = profile_table(table, excluded={"skip"})
    document = statistics_document(profiles, table.num_rows)
    assert document["dataset"] == {"item_count": 2}
    assert [f["name"] for f in document["features"]] == ["b", "a"]
