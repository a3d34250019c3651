"""The data quality checks: drift distances against their definitions, each check's trigger."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from sagebox.analysis.model_monitor import constraints, drift, kll
from sagebox.analysis.model_monitor.statistics import profile_table, statistics_document
from sagebox.analysis.model_monitor.violations import check


def baseline(table: pa.Table) -> tuple[dict, dict]:
    profiles = profile_table(table)
    return constraints.suggest(profiles), statistics_document(profiles, table.num_rows)


def kinds(result) -> set[tuple[str, str]]:  # noqa: ANN001
    return {(v["feature_name"], v["constraint_check_type"]) for v in result.violations}


def test_simple_distance_is_the_two_sample_kolmogorov_smirnov_statistic() -> None:
    rng = np.random.default_rng(5)
    first, second = np.sort(rng.normal(size=1500)), np.sort(rng.normal(0.3, 1.2, size=700))
    distance = drift.numeric_distance(kll.sketch(first), kll.sketch_of(second), "Simple")
    assert distance == pytest.approx(stats.ks_2samp(first, second).statistic, abs=1e-12)
    robust = drift.numeric_distance(kll.sketch(first), kll.sketch_of(second), "Robust")
    assert robust == pytest.approx(max(0.0, distance - 1.8 * np.sqrt((1500 + 700) / (1500 * 700))))


def test_drift_completeness_type_and_domain_checks() -> None:
    rng = np.random.default_rng(6)
    n = 400
    reference = pa.table({"x": rng.normal(size=n), "count": rng.integers(0, 9, size=n),
                          "city": rng.choice(["a", "b"], size=n), "steady": rng.normal(size=n)})
    suggested, statistics = baseline(reference)
    assert check(profile_table(reference), suggested, statistics).violations == []
    current = pa.table({
        "x": rng.normal(2.0, 1.0, size=200),
        "count": pa.array([str(v) if i % 10 else "many" for i, v in enumerate(rng.integers(0, 9, size=200))]),
        "city": pa.array(["a", "c", None, "b"] * 50),
        "steady": rng.normal(size=200),
        "new": rng.normal(size=200),
    })
    result = check(profile_table(current), suggested, statistics)
    found = kinds(result)
    assert ("x", "baseline_drift_check") in found
    assert ("count", "data_type_check") in found
    assert ("city", "completeness_check") in found and ("city", "categorical_values_check") in found
    assert ("new", "extra_column_check") in found
    assert not any(name == "steady" for name, _ in found)
    description = next(v["description"] for v in result.violations if v["constraint_check_type"] == "data_type_check")
    assert description == ("Data type match requirement is not met. Expected data type: Integral, Expected match: 100.0%. "
                           "Observed: Only 90.0% of data is Integral.")
    assert result.drift["x"] > 0.5 and result.drift["steady"] == 0.0
    missing = check(profile_table(current.drop_columns(["steady"])), suggested, statistics)
    assert ("steady", "missing_column_check") in kinds(missing)


def test_categorical_drift_methods_and_configuration() -> None:
    reference = pa.table({"c": ["a"] * 300 + ["b"] * 300})
    suggested, statistics = baseline(reference)
    current = pa.table({"c": ["a"] * 180 + ["b"] * 20})
    linf = check(profile_table(current), suggested, statistics)
    assert linf.drift["c"] == pytest.approx(max(0.0, 0.4 - 1.8 * np.sqrt(800 / (600 * 200))))
    chi = check(profile_table(current), suggested, statistics, categorical_drift_method="ChiSquared")
    assert chi.drift["c"] == pytest.approx(stats.chisquare([180, 20], [100, 100]).pvalue)
    assert ("c", "baseline_drift_check") in kinds(chi)
    suggested["features"][0]["monitoringConfigOverrides"] = {"distribution_constraints": {"perform_comparison": "Disabled"}}
    assert "c" not in check(profile_table(current), suggested, statistics).drift
    suggested["monitoring_config"]["evaluate_constraints"] = "Disabled"
    assert check(profile_table(pa.table({"other": [1]})), suggested, statistics).violations == []
