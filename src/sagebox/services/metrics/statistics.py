"""CloudWatch statistics over stored data: periods, the five statistics and percentiles.

Data are grouped into periods starting at the request's StartTime rounded down to the
minute (to the second for periods under a minute), as CloudWatch rounds recent start
times; each period's statistic sets merge exactly (SampleCount and Sum add, Minimum and
Maximum take the extremes, Average is Sum / SampleCount). Percentiles (``p90``,
``p99.9``) are the nearest-rank value of the values published in the period; a period
holding data published only as statistic sets has none, as CloudWatch has none for them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sagebox.services.metrics.errors import InvalidParameterCombination, InvalidParameterValue
from sagebox.store.metrics import MetricDatum

STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
MAX_DATAPOINTS = 1440
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 30)
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d{1,2})?|100(\.0{1,2})?)$")


@dataclass
class PeriodStatistics:
    """The merged statistic set (and values, if every datum had values) of one period."""

    sample_count: float = 0.0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    values: list[tuple[float, float]] | None = field(default_factory=list)

    def add(self, datum: MetricDatum) -> None:
        self.sample_count += datum.sample_count
        self.total += datum.total
        self.minimum = min(self.minimum, datum.minimum)
        self.maximum = max(self.maximum, datum.maximum)
        if self.values is not None and datum.values is not None:
            self.values.extend(zip(datum.values, datum.counts or [1.0] * len(datum.values), strict=False))
        else:
            self.values = None

    def statistic(self, name: str) -> float | None:
        if name == "SampleCount":
            return self.sample_count
        if name == "Sum":
            return self.total
        if name == "Minimum":
            return self.minimum
        if name == "Maximum":
            return self.maximum
        if name == "Average":
            return self.total / self.sample_count if self.sample_count else None
        return self.percentile(float(name[1:]))

    def percentile(self, rank: float) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        wanted = max(rank / 100.0 * sum(count for _, count in ordered), 1e-12)
        seen = 0.0
        for value, count in ordered:
            seen += count
            if seen >= wanted - 1e-9:
                return value
        return ordered[-1][0]


def check_period(period: int, member: str = "Period") -> None:
    if period not in HIGH_RESOLUTION_PERIODS and period % 60 != 0:
        raise InvalidParameterValue(
            f"The parameter {member} must be 1, 5, 10, 30 or a multiple of 60; got {period}."
        )


def check_extended_statistic(name: str, member: str) -> None:
    if not _PERCENTILE.match(name):
        raise InvalidParameterValue(
            f"The value {name} for parameter {member} is invalid: sagebox computes percentiles "
            "written p0 to p100 (e.g. p99 or p99.9)."
        )


def aligned_start(start: datetime, period: int) -> datetime:
    unit = 60 if period >= 60 else 1
    seconds = math.floor(start.timestamp() / unit) * unit
    return datetime.fromtimestamp(seconds, tz=start.tzinfo)


def check_window(start: datetime, end: datetime, period: int) -> None:
    if start >= end:
        raise InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
    count = math.ceil((end - aligned_start(start, period)).total_seconds() / period)
    if count > MAX_DATAPOINTS:
        raise InvalidParameterCombination(
            f"You have requested up to {count:,} datapoints, which exceeds the limit of {MAX_DATAPOINTS:,}. "
            "You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )


def by_period(
    data: Iterable[MetricDatum], start: datetime, period: int, unit: str | None
) -> dict[tuple[datetime, str], PeriodStatistics]:
    """The data merged per (period start, unit), only data in `unit` when one is given."""
    origin = aligned_start(start, period)
    periods: dict[tuple[datetime, str], PeriodStatistics] = {}
    for datum in data:
        if unit is not None and datum.unit != unit:
            continue
        index = math.floor((datum.timestamp - origin).total_seconds() / period)
        if index < 0:
            continue
        moment = origin + timedelta(seconds=index * period)
        periods.setdefault((moment, datum.unit), PeriodStatistics()).add(datum)
    return periods


def datapoints(
    periods: dict[tuple[datetime, str], PeriodStatistics],
    statistics: Sequence[str],
    extended: Sequence[str],
) -> list[dict[str, object]]:
    """GetMetricStatistics' Datapoints, oldest first."""
    answer = []
    for (moment, unit), merged in sorted(periods.items(), key=lambda item: item[0][0]):
        point: dict[str, object] = {"Timestamp": moment, "Unit": unit}
        for name in statistics:
            value = merged.statistic(name)
            if value is not None:
                point[name] = value
        percentiles = {name: merged.percentile(float(name[1:])) for name in extended}
        found = {name: value for name, value in percentiles.items() if value is not None}
        if found:
            point["ExtendedStatistics"] = found
        answer.append(point)
    return answer
