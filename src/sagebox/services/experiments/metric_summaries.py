"""A metric's summary as DescribeTrialComponent shows it, folded point by point.

Each summary holds MetricName, SourceArn (when the metric came from a job), TimeStamp
(the latest point's time), Min, Max, Last, Count, Avg and StdDev. Points are folded in
with Welford's running mean and sum of squared deviations (kept beside the summary in
the document's `_sagebox` bookkeeping), so a batch of points updates a summary in
constant time, however long the series already is, and the figures equal those
computed from the whole series at once.

Last is the value of the point with the latest timestamp; of points logged at the same
time (the SDK sends whole seconds), the one logged last. StdDev is the sample standard
deviation (n - 1 in the denominator), 0 for a single point.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from sagebox.store import MetricPoint

MOMENTS = "metric_moments"
"""The `_sagebox` member holding each metric's sum of squared deviations."""


def fold(document: dict[str, Any], points: Iterable[MetricPoint], source_arn: str | None) -> None:
    """Adds `points` to the summaries in `document["Metrics"]`, creating new ones as needed."""
    summaries: list[dict[str, Any]] = document.setdefault("Metrics", [])
    by_name = {summary["MetricName"]: summary for summary in summaries}
    moments: dict[str, float] = document.setdefault("_sagebox", {}).setdefault(MOMENTS, {})
    for point in points:
        summary = by_name.get(point.metric_name)
        if summary is None:
            summary = {"MetricName": point.metric_name}
            if source_arn:
                summary["SourceArn"] = source_arn
            summaries.append(summary)
            by_name[point.metric_name] = summary
        moments[point.metric_name] = _add(summary, moments.get(point.metric_name, 0.0), point)


def forget(document: dict[str, Any], names: Iterable[str]) -> None:
    """Drops the summaries of `names` (their series are about to be written anew)."""
    dropped = set(names)
    document["Metrics"] = [s for s in document.get("Metrics") or [] if s["MetricName"] not in dropped]
    moments = document.get("_sagebox", {}).get(MOMENTS, {})
    for name in dropped:
        moments.pop(name, None)


def _add(summary: dict[str, Any], m2: float, point: MetricPoint) -> float:
    """Folds one point into `summary`; returns the new sum of squared deviations."""
    value = float(point.value)
    count = int(summary.get("Count", 0)) + 1
    mean = float(summary.get("Avg", 0.0))
    delta = value - mean
    mean += delta / count
    m2 += delta * (value - mean)
    summary["Count"] = count
    summary["Avg"] = mean
    summary["StdDev"] = math.sqrt(m2 / (count - 1)) if count > 1 else 0.0
    summary["Min"] = value if count == 1 else min(float(summary["Min"]), value)
    summary["Max"] = value if count == 1 else max(float(summary["Max"]), value)
    if count == 1 or point.timestamp >= float(summary["TimeStamp"]):
        summary["Last"] = value
        summary["TimeStamp"] = point.timestamp
    return m2
