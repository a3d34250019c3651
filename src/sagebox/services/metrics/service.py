"""CloudWatch metrics: PutMetricData, GetMetricStatistics, GetMetricData, ListMetrics.

Users publish to their own namespaces (``AWS/`` ones are reserved, as in CloudWatch);
sagebox itself publishes what SageMaker publishes (endpoint invocation metrics in
``AWS/SageMaker``, Model Monitor's per-feature and model-quality metrics) through
`publish`. Data are kept `retention` long (CloudWatch keeps one-minute data 15 days);
expired data go at most once an hour, when something is published.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sagebox.config import Settings
from sagebox.services.metrics import statistics as stats
from sagebox.services.metrics.errors import (
    InvalidNextToken,
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
)
from sagebox.store import MetadataStore
from sagebox.store.metrics import MetricDatum, MetricSeries

RESERVED_PREFIX = "AWS/"
LIST_PAGE_SIZE = 500
MAX_PAST = timedelta(days=14)
MAX_FUTURE = timedelta(hours=2)
SWEEP_EVERY_SECONDS = 3600.0
DEFAULT_MAX_DATAPOINTS = 100_800


class MetricService:
    def __init__(self, settings: Settings, store: MetadataStore) -> None:
        self._repo = store.metrics
        self.retention = timedelta(days=settings.metrics_retention_days)
        self._swept = 0.0
        self._sweep_lock = threading.Lock()

    # -- publishing ------------------------------------------------------------------------

    def put_metric_data(self, request: dict[str, Any]) -> dict[str, Any]:
        namespace = request["Namespace"]
        if namespace.startswith(RESERVED_PREFIX):
            raise InvalidParameterValue(f"The value {namespace} for parameter Namespace is invalid.")
        if request.get("EntityMetricData"):
            raise InvalidParameterValue(
                "EntityMetricData is not supported by sagebox; publish the data in MetricData."
            )
        if not request.get("MetricData"):
            raise MissingParameter("The parameter MetricData is required.")
        self.publish(namespace, request["MetricData"])
        return {}

    def publish(self, namespace: str, metric_data: Sequence[dict[str, Any]], now: datetime | None = None) -> None:
        """Stores data given as PutMetricData's MetricData members (any namespace)."""
        moment = now or datetime.now(UTC)
        data = [_datum(namespace, item, index, moment) for index, item in enumerate(metric_data, start=1)]
        self._repo.put(data, moment)
        self._sweep(moment)

    def _sweep(self, now: datetime) -> None:
        if time.monotonic() - self._swept < SWEEP_EVERY_SECONDS or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._swept = time.monotonic()
            self._repo.delete_before(now - self.retention)
        finally:
            self._sweep_lock.release()

    # -- reading ---------------------------------------------------------------------------

    def get_metric_statistics(self, request: dict[str, Any]) -> dict[str, Any]:
        statistics = request.get("Statistics") or []
        extended = request.get("ExtendedStatistics") or []
        if not statistics and not extended:
            raise MissingParameter("Must specify either Statistics or ExtendedStatistics.")
        if statistics and extended:
            raise InvalidParameterCombination(
                "The parameters Statistics and ExtendedStatistics are mutually exclusive and you have "
                "specified both."
            )
        for index, name in enumerate(statistics, start=1):
            if name not in stats.STATISTICS:
                raise InvalidParameterValue(f"The value {name} for parameter Statistics.member.{index} is invalid.")
        for index, name in enumerate(extended, start=1):
            stats.check_extended_statistic(name, f"ExtendedStatistics.member.{index}")
        start, end, period = request["StartTime"], request["EndTime"], request["Period"]
        stats.check_period(period)
        stats.check_window(start, end, period)
        series = MetricSeries.of(request["Namespace"], request["MetricName"], request.get("Dimensions"))
        periods = stats.by_period(self._repo.data(series, stats.aligned_start(start, period), end), start, period, request.get("Unit"))
        return {"Label": request["MetricName"], "Datapoints": stats.datapoints(periods, statistics, extended)}

    def get_metric_data(self, request: dict[str, Any]) -> dict[str, Any]:
        start, end = request["StartTime"], request["EndTime"]
        if start >= end:
            raise InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
        queries = request["MetricDataQueries"]
        ids = [q["Id"] for q in queries]
        if len(set(ids)) != len(ids):
            raise InvalidParameterValue("The values of MetricDataQueries.member.N.Id must be unique.")
        descending = (request.get("ScanBy") or "TimestampDescending") == "TimestampDescending"
        results = []
        for index, query in enumerate(queries, start=1):
            result = self._query(query, index, start, end, descending)
            if result is not None:
                results.append(result)
        return _page(results, request.get("NextToken"), request.get("MaxDatapoints") or DEFAULT_MAX_DATAPOINTS)

    def _query(self, query: dict[str, Any], index: int, start: datetime, end: datetime, descending: bool) -> dict[str, Any] | None:
        where = f"MetricDataQueries.member.{index}"
        if query.get("Expression") is not None:
            raise InvalidParameterValue(
                f"{where}.Expression: sagebox does not evaluate metric math expressions; "
                "query each metric with a MetricStat."
            )
        stat_query = query.get("MetricStat")
        if stat_query is None:
            raise MissingParameter(f"The parameter {where}.MetricStat is required.")
        metric, period, stat = stat_query["Metric"], stat_query["Period"], stat_query["Stat"]
        stats.check_period(period, f"{where}.MetricStat.Period")
        if stat not in stats.STATISTICS:
            stats.check_extended_statistic(stat, f"{where}.MetricStat.Stat")
        if not metric.get("Namespace") or not metric.get("MetricName"):
            raise MissingParameter(f"{where}.MetricStat.Metric needs a Namespace and a MetricName.")
        if query.get("ReturnData") is False:
            return None
        series = MetricSeries.of(metric["Namespace"], metric["MetricName"], metric.get("Dimensions"))
        periods = stats.by_period(self._repo.data(series, stats.aligned_start(start, period), end), start, period, stat_query.get("Unit"))
        points: dict[datetime, float] = {}
        for (moment, _), merged in periods.items():
            value = merged.statistic(stat)
            if value is not None and math.isfinite(value):
                points[moment] = points.get(moment, 0.0) + value if stat in ("Sum", "SampleCount") else value
        moments = sorted(points, reverse=descending)
        return {
            "Id": query["Id"], "Label": query.get("Label") or metric["MetricName"],
            "Timestamps": moments, "Values": [points[m] for m in moments], "StatusCode": "Complete",
        }

    def list_metrics(self, request: dict[str, Any]) -> dict[str, Any]:
        active_since = datetime.now(UTC) - timedelta(hours=3) if request.get("RecentlyActive") == "PT3H" else None
        found = [
            s for s in self._repo.series(request.get("Namespace"), active_since)
            if _matches(s, request.get("MetricName"), request.get("Dimensions") or [])
        ]
        token = request.get("NextToken")
        if token:
            after = _decode_token(token)
            found = [s for s in found if s.key > after]
        page = found[:LIST_PAGE_SIZE]
        answer: dict[str, Any] = {"Metrics": [s.as_metric() for s in page]}
        if len(found) > LIST_PAGE_SIZE:
            answer["NextToken"] = base64.urlsafe_b64encode(page[-1].key.encode()).decode()
        return answer


def _matches(series: MetricSeries, metric_name: str | None, filters: list[dict[str, str]]) -> bool:
    if metric_name is not None and series.metric_name != metric_name:
        return False
    dimensions = dict(series.dimensions)
    for wanted in filters:
        if wanted["Name"] not in dimensions:
            return False
        if wanted.get("Value") is not None and dimensions[wanted["Name"]] != wanted["Value"]:
            return False
    return True


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidNextToken(f"The service cannot read the NextToken {token!r}.") from exc


def _page(results: list[dict[str, Any]], token: str | None, limit: int) -> dict[str, Any]:
    """Results holding at most `limit` datapoints, continuing after the datapoints `token` skips."""
    skip = int(_decode_token(token)) if token else 0
    remaining, paged, seen = limit, [], 0
    for result in results:
        size = len(result["Values"])
        begin = min(max(skip - seen, 0), size)
        seen += size
        chunk = min(size - begin, remaining)
        remaining -= chunk
        partial = begin + chunk < size
        paged.append({
            **result, "Timestamps": result["Timestamps"][begin : begin + chunk],
            "Values": result["Values"][begin : begin + chunk],
            "StatusCode": "PartialData" if partial else "Complete",
        })
    answer: dict[str, Any] = {"MetricDataResults": paged, "Messages": []}
    if skip + limit < seen:
        answer["NextToken"] = base64.urlsafe_b64encode(str(skip + limit).encode()).decode()
    return answer


def _datum(namespace: str, item: dict[str, Any], index: int, now: datetime) -> MetricDatum:
    where = f"MetricData.member.{index}"
    moment = item.get("Timestamp") or now
    if moment < now - MAX_PAST:
        raise InvalidParameterValue(f"The parameter {where}.Timestamp must specify a time no more than two weeks in the past.")
    if moment > now + MAX_FUTURE:
        raise InvalidParameterValue(f"The parameter {where}.Timestamp must specify a time no more than two hours in the future.")
    resolution = item.get("StorageResolution", 60)
    if resolution not in (1, 60):
        raise InvalidParameterValue(f"The value {resolution} for parameter {where}.StorageResolution is invalid.")
    given = [name for name in ("Value", "StatisticValues", "Values") if item.get(name) is not None]
    if len(given) > 1:
        raise InvalidParameterCombination(
            f"The parameters {where}.{given[0]} and {where}.{given[1]} are mutually exclusive and you have specified both."
        )
    if not given:
        raise MissingParameter(f"The parameter {where}.Value, {where}.StatisticValues or {where}.Values is required.")
    series = MetricSeries.of(namespace, item["MetricName"], item.get("Dimensions"))
    unit = item.get("Unit") or "None"
    if given[0] == "Value":
        value = _finite(item["Value"], f"{where}.Value")
        return MetricDatum(series, moment, 1.0, value, value, value, unit, (value,), (1.0,))
    if given[0] == "StatisticValues":
        s = item["StatisticValues"]
        count, total = _finite(s["SampleCount"], f"{where}.StatisticValues.SampleCount"), _finite(s["Sum"], f"{where}.StatisticValues.Sum")
        low, high = _finite(s["Minimum"], f"{where}.StatisticValues.Minimum"), _finite(s["Maximum"], f"{where}.StatisticValues.Maximum")
        if count <= 0 or low > high:
            raise InvalidParameterValue(
                f"The parameter {where}.StatisticValues must have SampleCount > 0 and Minimum <= Maximum."
            )
        return MetricDatum(series, moment, count, total, low, high, unit)
    values = [_finite(v, f"{where}.Values") for v in item["Values"]]
    counts = [_finite(c, f"{where}.Counts") for c in item.get("Counts") or [1.0] * len(values)]
    if len(counts) != len(values) or not values:
        raise InvalidParameterValue(f"The parameters {where}.Values and {where}.Counts must be non-empty lists of the same length.")
    return MetricDatum(
        series, moment, sum(counts), sum(v * c for v, c in zip(values, counts, strict=True)),
        min(values), max(values), unit, tuple(values), tuple(counts),
    )


def _finite(value: Any, member: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise InvalidParameterValue(f"The value {value} for parameter {member} is invalid.")
    return number
