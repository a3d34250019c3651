"""Suggested constraints (``constraints.json``) from a baseline's profile, as Deequ suggests them.

Each feature keeps its inferred type and observed completeness; numeric features say
whether they never went below zero; string features with at most `MAX_DOMAIN` distinct
values list them as their domain. The ``monitoring_config`` carries Model Monitor's
defaults (every value met, L-infinity drift distance with the low-sample correction,
threshold 0.1), with the categorical drift method the job asked for.
"""

from __future__ import annotations

from typing import Any

from sagebox.analysis.model_monitor.statistics import NUMERIC_TYPES, STRING, ColumnProfile

MAX_DOMAIN = 20
DEFAULT_MONITORING_CONFIG: dict[str, Any] = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}


def feature_constraints(profile: ColumnProfile) -> dict[str, Any]:
    kind = profile.inferred_type
    feature: dict[str, Any] = {"name": profile.name, "inferred_type": kind, "completeness": profile.completeness}
    if kind in NUMERIC_TYPES and profile.values is not None and len(profile.values):
        feature["num_constraints"] = {"is_non_negative": bool(profile.summary["min"] >= 0)}
    elif kind == STRING and profile.categories and len(profile.categories) <= MAX_DOMAIN:
        feature["string_constraints"] = {"domains": sorted(profile.categories)}
    return feature


def suggest(profiles: list[ColumnProfile], categorical_drift_method: str | None = None) -> dict[str, Any]:
    """constraints.json for a baseline."""
    config = {**DEFAULT_MONITORING_CONFIG, "distribution_constraints": dict(DEFAULT_MONITORING_CONFIG["distribution_constraints"])}
    if categorical_drift_method:
        config["distribution_constraints"]["categorical_drift_method"] = categorical_drift_method
    return {"version": 0.0, "features": [feature_constraints(p) for p in profiles], "monitoring_config": config}
