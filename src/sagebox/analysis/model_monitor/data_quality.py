"""Data quality: baselining (statistics and suggested constraints) and monitoring executions
(statistics of the window's traffic, the checks against the baseline, CloudWatch metrics)."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from sagebox.analysis.model_monitor import constraints as suggestion
from sagebox.analysis.model_monitor import datasets, outputs, violations
from sagebox.analysis.model_monitor.environment import AnalysisError, AnalyzerEnvironment
from sagebox.analysis.model_monitor.scripts import RecordPreprocessor
from sagebox.analysis.model_monitor.statistics import (
    NUMERIC_TYPES,
    ColumnProfile,
    profile_table,
    statistics_document,
)

log = logging.getLogger("model_monitor")


def read_json_file(path: Path | None, what: str) -> dict[str, Any] | None:
    if path is None:
        return None
    if not path.is_file():
        raise AnalysisError(f"The baseline {what} file {path.name} is missing from the job's inputs.")
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AnalysisError(f"The baseline {what} file {path.name} is not JSON: {exc}") from exc
    if not isinstance(loaded, dict):
        raise AnalysisError(f"The baseline {what} file {path.name} must hold a JSON object.")
    return loaded


def named_like_baseline(table: pa.Table, names: list[str]) -> pa.Table:
    """Positional columns (_c0, _c1, ...) take the baseline's feature names, position by position."""
    if not names or not all(n == f"_c{i}" for i, n in enumerate(table.column_names)):
        return table
    return table.rename_columns([names[i] if i < len(names) else n for i, n in enumerate(table.column_names)])


def excluded(table: pa.Table, attribute: set[str]) -> set[str]:
    names = set()
    for item in attribute:
        if item.isdigit() and int(item) < table.num_columns:
            names.add(table.column_names[int(item)])
        else:
            names.add(item)
    return names


def run(env: AnalyzerEnvironment) -> str:
    preprocessor = RecordPreprocessor(env.record_preprocessor_script) if env.record_preprocessor_script else None
    constraints = read_json_file(env.baseline_constraints, "constraints")
    baseline_statistics = read_json_file(env.baseline_statistics, "statistics")
    expected = (constraints or {}).get("features") or []
    numeric = [f.get("inferred_type") in NUMERIC_TYPES for f in expected if "name" in f] or None
    started = time.perf_counter()
    table = datasets.read_table(env, preprocessor, numeric)
    log.info("read %d rows x %d columns in %.2f s", table.num_rows, table.num_columns, time.perf_counter() - started)
    if constraints is not None:
        table = named_like_baseline(table, [f["name"] for f in constraints.get("features") or [] if "name" in f])
    elif baseline_statistics is not None:
        table = named_like_baseline(table, [f["name"] for f in baseline_statistics.get("features") or [] if "name" in f])
    if table.num_rows == 0:
        window = f" between {env.start_time:%Y-%m-%dT%H:%M:%SZ} and {env.end_time:%Y-%m-%dT%H:%M:%SZ}" if env.start_time and env.end_time else ""
        raise AnalysisError(f"The data set holds no records{window} to analyze.")
    started = time.perf_counter()
    profiles = profile_table(table, excluded(table, env.excluded_features))
    log.info("profiled %d features in %.2f s", len(profiles), time.perf_counter() - started)
    outputs.write_json(env.output_path, "statistics.json", statistics_document(profiles, table.num_rows))
    if not env.is_monitoring:
        outputs.write_json(env.output_path, "constraints.json", suggestion.suggest(profiles, env.categorical_drift_method))
        return outputs.completion_message(0)
    # Without baseline constraints there is nothing to check: the execution reports statistics.
    result = (violations.check(profiles, constraints, baseline_statistics, env.categorical_drift_method)
              if constraints is not None else violations.CheckResult())
    outputs.write_json(env.output_path, "constraint_violations.json", {"violations": result.violations})
    emit = str(((constraints or {}).get("monitoring_config") or {}).get("emit_metrics", "Enabled")).lower() != "disabled"
    if env.publish_cloudwatch_metrics and emit:
        outputs.write_metrics(env.cloudwatch_directory, feature_metrics(env, profiles, result.drift))
    return outputs.completion_message(len(result.violations))


def metric_dimensions(env: AnalyzerEnvironment) -> dict[str, str]:
    dimensions = {}
    if env.endpoint_name:
        dimensions["Endpoint"] = env.endpoint_name
    if env.schedule_name:
        dimensions["MonitoringSchedule"] = env.schedule_name
    return dimensions


def metric_moment(env: AnalyzerEnvironment) -> datetime:
    return env.metric_time or env.end_time or datetime.now(UTC)


def feature_metrics(env: AnalyzerEnvironment, profiles: list[ColumnProfile], drift: dict[str, float]) -> list[dict[str, Any]]:
    """Per feature: feature_data_ (numeric statistics), feature_non_null_ (completeness) and
    feature_baseline_drift_ (the drift distance), as Model Monitor emits them."""
    moment, dimensions = metric_moment(env), metric_dimensions(env)
    lines = []
    for profile in profiles:
        if profile.inferred_type in NUMERIC_TYPES and profile.values is not None and len(profile.values):
            summary = profile.summary
            lines.append(outputs.metric(f"feature_data_{profile.name}", moment, dimensions, statistics={
                "SampleCount": float(profile.present), "Sum": summary["sum"],
                "Minimum": summary["min"], "Maximum": summary["max"]}))
        lines.append(outputs.metric(f"feature_non_null_{profile.name}", moment, dimensions, value=profile.completeness))
        if profile.name in drift:
            lines.append(outputs.metric(f"feature_baseline_drift_{profile.name}", moment, dimensions, value=drift[profile.name]))
    return lines
