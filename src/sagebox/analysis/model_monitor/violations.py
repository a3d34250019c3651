"""Data quality checks of the current data against the baseline (``constraint_violations.json``).

The checks are Model Monitor's, with its names: ``missing_column_check`` and
``extra_column_check`` (features in one of the baseline and the current data only),
``data_type_check`` (the share of values of the baseline's type, against
``datatype_check_threshold``), ``completeness_check`` (the share of values present, against
the feature's completeness), ``categorical_values_check`` (the share of string values in the
baseline's domain, against ``domain_content_threshold``) and ``baseline_drift_check`` (the
distribution distance, against ``comparison_threshold`` or, for strings,
``categorical_comparison_threshold``). A feature's ``monitoringConfigOverrides`` override the
global ``monitoring_config``; ``evaluate_constraints: Disabled`` turns the checks off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sagebox.analysis.model_monitor import drift
from sagebox.analysis.model_monitor.constraints import DEFAULT_MONITORING_CONFIG
from sagebox.analysis.model_monitor.statistics import NUMERIC_TYPES, STRING, ColumnProfile

TOLERANCE = 1e-9


@dataclass
class CheckResult:
    violations: list[dict[str, str]] = field(default_factory=list)
    drift: dict[str, float] = field(default_factory=dict)
    """The drift distance (or chi-squared p-value) of each feature compared with the baseline."""

    def add(self, feature: str, check: str, description: str) -> None:
        self.violations.append({"feature_name": feature, "constraint_check_type": check, "description": description})


def _percent(share: float) -> str:
    return f"{round(share * 100, 4)}%"


def _config(global_config: dict[str, Any], feature: dict[str, Any]) -> dict[str, Any]:
    merged = {**DEFAULT_MONITORING_CONFIG, **global_config}
    merged["distribution_constraints"] = {
        **DEFAULT_MONITORING_CONFIG["distribution_constraints"], **(global_config.get("distribution_constraints") or {})
    }
    overrides = feature.get("monitoringConfigOverrides") or {}
    for key, value in overrides.items():
        if key == "distribution_constraints" and isinstance(value, dict):
            merged["distribution_constraints"].update(value)
        else:
            merged[key] = value
    return merged


def baseline_distributions(statistics: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Each baseline feature's statistics entry, by name."""
    return {f["name"]: f for f in (statistics or {}).get("features") or [] if "name" in f}


def check(
    profiles: list[ColumnProfile],
    constraints: dict[str, Any],
    baseline_statistics: dict[str, Any] | None,
    categorical_drift_method: str | None = None,
) -> CheckResult:
    result = CheckResult()
    global_config = constraints.get("monitoring_config") or {}
    if categorical_drift_method:
        global_config = {**global_config, "distribution_constraints": {
            **(global_config.get("distribution_constraints") or {}), "categorical_drift_method": categorical_drift_method}}
    expected = [f for f in constraints.get("features") or [] if "name" in f]
    current = {p.name: p for p in profiles}
    known = {f["name"] for f in expected}
    distributions = baseline_distributions(baseline_statistics)
    evaluate = str(global_config.get("evaluate_constraints", "Enabled")).lower() != "disabled"
    for feature in expected:
        profile = current.get(feature["name"])
        if profile is None:
            if evaluate:
                result.add(feature["name"], "missing_column_check",
                           f"There are missing columns in current dataset. Number of columns in current dataset: "
                           f"{len(profiles)}, Number of columns in baseline constraints: {len(expected)}")
            continue
        config = _config(global_config, feature)
        _drift(result, profile, distributions.get(feature["name"]), config)
        if evaluate:
            _feature_checks(result, profile, feature, config)
    if evaluate:
        for profile in profiles:
            if profile.name not in known:
                result.add(profile.name, "extra_column_check",
                           f"There are extra columns in current dataset. Number of columns in current dataset: "
                           f"{len(profiles)}, Number of columns in baseline constraints: {len(expected)}")
        result.violations = [v for v in result.violations if v["constraint_check_type"] != "baseline_drift_check"] + [
            v for v in result.violations if v["constraint_check_type"] == "baseline_drift_check"]
    else:
        result.violations = []
    return result


def _feature_checks(result: CheckResult, profile: ColumnProfile, feature: dict[str, Any], config: dict[str, Any]) -> None:
    name = feature["name"]
    kind = feature.get("inferred_type")
    if kind in (*NUMERIC_TYPES, STRING) and profile.present:
        threshold = float(config.get("datatype_check_threshold", 1.0))
        share = profile.matching_fraction(kind)
        if share < threshold - TOLERANCE:
            result.add(name, "data_type_check",
                       f"Data type match requirement is not met. Expected data type: {kind}, Expected match: "
                       f"{_percent(threshold)}. Observed: Only {_percent(share)} of data is {kind}.")
    completeness = feature.get("completeness")
    if isinstance(completeness, (int, float)) and profile.completeness < completeness - TOLERANCE:
        result.add(name, "completeness_check",
                   f"Data completeness requirement is not met. Expected completeness: {_percent(completeness)}. "
                   f"Observed: Only {_percent(profile.completeness)} of data is complete.")
    domains = (feature.get("string_constraints") or {}).get("domains")
    if domains and profile.categories and profile.present:
        threshold = float(config.get("domain_content_threshold", 1.0))
        allowed = set(map(str, domains))
        share = sum(c for v, c in profile.categories.items() if v in allowed) / profile.present
        if share < threshold - TOLERANCE:
            result.add(name, "categorical_values_check",
                       f"Categorical values requirement is not met. Expected match: {_percent(threshold)}. "
                       f"Observed: Only {_percent(share)} of data matches the baseline domain values.")


def _drift(result: CheckResult, profile: ColumnProfile, baseline: dict[str, Any] | None, config: dict[str, Any]) -> None:
    distribution = config.get("distribution_constraints") or {}
    if baseline is None or str(distribution.get("perform_comparison", "Enabled")).lower() == "disabled":
        return
    method = str(distribution.get("comparison_method", "Robust"))
    threshold = float(distribution.get("comparison_threshold", 0.1))
    numeric = (baseline.get("numerical_statistics") or {}).get("distribution", {}).get("kll")
    if numeric is not None and profile.values is not None:
        distance = drift.numeric_distance((numeric.get("sketch") or {}).get("data") or [], profile.sketch_levels, method)
        result.drift[profile.name] = distance
        if distance > threshold + TOLERANCE:
            result.add(profile.name, "baseline_drift_check", f"Baseline drift distance: {distance} exceeds threshold: {threshold}")
        return
    categorical = (baseline.get("string_statistics") or {}).get("distribution", {}).get("categorical")
    if categorical is None or profile.categories is None:
        return
    shares = {str(b["value"]): float(b["count"]) for b in categorical.get("buckets") or []}
    threshold = float(distribution.get("categorical_comparison_threshold", threshold))
    if str(distribution.get("categorical_drift_method", "LInfinity")).lower() == "chisquared":
        p_value = drift.chi_squared_p_value(shares, profile.categories)
        result.drift[profile.name] = p_value
        if p_value < threshold - TOLERANCE:
            result.add(profile.name, "baseline_drift_check",
                       f"Baseline drift chi-squared test p-value: {p_value} is below threshold: {threshold}")
        return
    distance = drift.categorical_distance(shares, profile.categories, method)
    result.drift[profile.name] = distance
    if distance > threshold + TOLERANCE:
        result.add(profile.name, "baseline_drift_check", f"Baseline drift distance: {distance} exceeds threshold: {threshold}")
