"""Clarify and Model Monitor reports as the console shows them: the JSON files such jobs
write (Clarify's analysis.json; Model Monitor's statistics.json, constraints.json and
constraint_violations.json) turned into table rows and bar charts. Pure: documents in,
plain structures out (the page reads the files, the template draws them).

Bars are SVG laid out here (the page's Content-Security-Policy allows no inline style, so
a bar's width is an SVG attribute, not a CSS one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

ANALYSIS, STATISTICS = "analysis.json", "statistics.json"
CONSTRAINTS, VIOLATIONS = "constraints.json", "constraint_violations.json"
REPORT_FILES = (ANALYSIS, STATISTICS, CONSTRAINTS, VIOLATIONS)
BIAS_SECTIONS = (
    ("pre_training_bias_metrics", "Pre-training bias"),
    ("post_training_bias_metrics", "Post-training bias"),
)
QUALITY_SECTIONS = {
    "regression_metrics": "Regression metrics",
    "binary_classification_metrics": "Binary classification metrics",
    "multiclass_classification_metrics": "Multiclass classification metrics",
}
BAR_WIDTH, BAR_HEIGHT, LABEL_WIDTH = 360, 16, 150
HISTOGRAM_WIDTH, HISTOGRAM_HEIGHT = 160, 34
MAX_BARS = 30


@dataclass
class Bar:
    label: str
    value: float
    x: float  # where the bar starts (the zero line for signed values)
    width: float
    y: float
    negative: bool


@dataclass
class BarChart:
    """Horizontal bars, one per label, scaled to the largest magnitude; signed values
    grow from a zero line in the middle."""

    title: str
    bars: list[Bar]
    width: int
    height: int
    zero: float
    label_width: int = LABEL_WIDTH


@dataclass
class Histogram:
    """A feature's distribution as small vertical bars (KLL buckets or categories)."""

    rects: list[tuple[float, float, float, float, str]]  # x, y, width, height, tooltip
    width: int = HISTOGRAM_WIDTH
    height: int = HISTOGRAM_HEIGHT


@dataclass
class Report:
    kind: str  # "Clarify" or "Model Monitor"
    sections: list[dict[str, Any]] = field(default_factory=list)  # {title, columns, rows}
    charts: list[BarChart] = field(default_factory=list)
    features: list[dict[str, Any]] = field(default_factory=list)  # statistics.json's
    item_count: int | None = None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def bar_chart(title: str, values: list[tuple[str, float]]) -> BarChart:
    values = [(label, v) for label, v in values if _number(v) is not None][:MAX_BARS]
    signed = any(v < 0 for _, v in values)
    largest = max((abs(v) for _, v in values), default=0.0) or 1.0
    span = BAR_WIDTH / 2 if signed else BAR_WIDTH
    zero = LABEL_WIDTH + (BAR_WIDTH / 2 if signed else 0)
    bars = []
    for index, (label, value) in enumerate(values):
        width = abs(value) / largest * span
        x = zero - width if value < 0 else zero
        bars.append(Bar(label, value, x, max(width, 0.5), 4 + index * (BAR_HEIGHT + 4), value < 0))
    height = 8 + len(values) * (BAR_HEIGHT + 4)
    return BarChart(title, bars, LABEL_WIDTH + BAR_WIDTH + 80, height, zero)


def histogram(buckets: list[tuple[str, float]]) -> Histogram | None:
    if not buckets:
        return None
    largest = max(count for _, count in buckets) or 1.0
    step = HISTOGRAM_WIDTH / len(buckets)
    rects = []
    for index, (label, count) in enumerate(buckets):
        height = count / largest * (HISTOGRAM_HEIGHT - 2)
        rects.append(
            (
                index * step,
                HISTOGRAM_HEIGHT - height,
                max(step - 1, 0.5),
                height,
                f"{label}: {count:g}",
            )
        )
    return Histogram(rects)


def clarify(analysis: dict[str, Any]) -> Report:
    """analysis.json: a table and a chart of each bias section's metrics per facet value,
    and the global SHAP values of each label (largest first)."""
    report = Report("Clarify")
    for member, title in BIAS_SECTIONS:
        section = analysis.get(member) or {}
        rows = []
        for facet, entries in (section.get("facets") or {}).items():
            for entry in entries or []:
                group = entry.get("value_or_threshold")
                metrics = entry.get("metrics") or []
                for metric in metrics:
                    rows.append(
                        [
                            facet,
                            "" if group is None else str(group),
                            metric.get("name", ""),
                            metric.get("description", ""),
                            metric.get("value"),
                            metric.get("error") or "",
                        ]
                    )
                report.charts.append(
                    bar_chart(
                        f"{title}: {facet} = {group}",
                        [(m.get("name", ""), m.get("value")) for m in metrics],
                    )
                )
        if rows:
            label = section.get("label", "")
            shown = section.get("label_value_or_threshold", "")
            report.sections.append(
                {
                    "title": f"{title} (label {label}, positive {shown})",
                    "id": member,
                    "columns": ["Facet", "Group", "Metric", "Description", "Value", "Error"],
                    "rows": rows,
                }
            )
    explanations = (analysis.get("explanations") or {}).get("kernel_shap") or {}
    for label, content in explanations.items():
        values = (content or {}).get("global_shap_values") or {}
        ordered = sorted(
            ((name, v) for name, v in values.items() if _number(v) is not None),
            key=lambda item: -abs(item[1]),
        )
        if ordered:
            report.charts.append(bar_chart(f"Global SHAP values ({label})", ordered))
            report.sections.append(
                {
                    "title": f"Global SHAP values ({label}), expected value "
                    f"{(content or {}).get('expected_value', '')}",
                    "id": f"shap-{label}",
                    "columns": ["Feature", "Mean |SHAP|"],
                    "rows": [[name, value] for name, value in ordered],
                }
            )
    return report


def _feature(feature: dict[str, Any]) -> dict[str, Any]:
    numeric = feature.get("numerical_statistics")
    text = feature.get("string_statistics")
    stats = numeric or text or {}
    common = stats.get("common") or {}
    buckets: list[tuple[str, float]] = []
    if numeric:
        for bucket in ((numeric.get("distribution") or {}).get("kll") or {}).get("buckets") or []:
            low, high = _number(bucket.get("lower_bound")), _number(bucket.get("upper_bound"))
            label = f"{low:.4g}…{high:.4g}" if low is not None and high is not None else ""
            buckets.append((label, _number(bucket.get("count")) or 0.0))
    elif text:
        found = ((text.get("distribution") or {}).get("categorical") or {}).get("buckets") or []
        buckets = [(str(b.get("value")), _number(b.get("count")) or 0.0) for b in found]
    return {
        "name": feature.get("name", ""),
        "type": feature.get("inferred_type", ""),
        "present": common.get("num_present"),
        "missing": common.get("num_missing"),
        "mean": stats.get("mean"),
        "std_dev": stats.get("std_dev"),
        "min": stats.get("min"),
        "max": stats.get("max"),
        "distinct": stats.get("distinct_count"),
        "histogram": histogram(buckets),
    }


def model_monitor(documents: dict[str, dict[str, Any]]) -> Report:
    """statistics.json (per-feature statistics and distributions, or model quality
    metrics), constraints.json and constraint_violations.json."""
    report = Report("Model Monitor")
    statistics = documents.get(STATISTICS) or {}
    report.item_count = (statistics.get("dataset") or {}).get("item_count")
    report.features = [_feature(f) for f in statistics.get("features") or []]
    for member, title in QUALITY_SECTIONS.items():
        metrics = statistics.get(member) or {}
        rows, bars = [], []
        for name, content in metrics.items():
            if isinstance(content, dict) and "value" in content:
                rows.append([name, content.get("value"), content.get("standard_deviation")])
                bars.append((name, content.get("value")))
        if rows:
            report.sections.append(
                {
                    "title": title,
                    "id": member,
                    "columns": ["Metric", "Value", "Standard deviation"],
                    "rows": rows,
                }
            )
            report.charts.append(bar_chart(title, bars))
    violations = (documents.get(VIOLATIONS) or {}).get("violations")
    if violations is not None:
        report.sections.append(
            {
                "title": f"Constraint violations ({len(violations)})",
                "id": "violations",
                "columns": ["Feature / metric", "Check", "Description"],
                "rows": [
                    [
                        v.get("feature_name") or v.get("metric_name", ""),
                        v.get("constraint_check_type", ""),
                        v.get("description", ""),
                    ]
                    for v in violations
                ],
            }
        )
    constraints = documents.get(CONSTRAINTS) or {}
    rows = [
        [
            f.get("name", ""),
            f.get("inferred_type", ""),
            f.get("completeness"),
            (f.get("num_constraints") or {}).get("is_non_negative"),
        ]
        for f in constraints.get("features") or []
    ]
    for name, content in constraints.items():
        if name.endswith("_constraints") and isinstance(content, dict):
            rows += [
                [metric, "", c.get("threshold"), c.get("comparison_operator")]
                for metric, c in content.items()
                if isinstance(c, dict)
            ]
    if rows:
        report.sections.append(
            {
                "title": "Suggested constraints",
                "id": "constraints",
                "columns": [
                    "Feature / metric",
                    "Type",
                    "Completeness / threshold",
                    "Non-negative / operator",
                ],
                "rows": rows,
            }
        )
    return report


def report_of(documents: dict[str, dict[str, Any]]) -> Report | None:
    """The report the documents found in a job's outputs make, if any."""
    if ANALYSIS in documents:
        return clarify(documents[ANALYSIS])
    if any(name in documents for name in (STATISTICS, CONSTRAINTS, VIOLATIONS)):
        return model_monitor(documents)
    return None
