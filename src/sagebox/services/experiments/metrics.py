"""The sagemaker-metrics service: BatchPutMetrics and BatchGetMetrics on trial components.

The SDK's `Run.log_metric` sends points in batches of at most 10 to BatchPutMetrics,
naming the run's trial component. Each accepted point joins the component's series (the
metric_points table) and its summary in DescribeTrialComponent's `Metrics`, in one
transaction. A point the service does not take is reported in the answer's `Errors` by
its index, as SageMaker does: a timestamp more than two weeks old or over two hours
ahead is a VALIDATION_ERROR (the bounds SageMaker's SDK checks before sending).

BatchGetMetrics reads a series back, aggregated by step or by time period, for a trial
component's ARN or for the ARN of the job a component was made for.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sagebox.services.errors import ResourceNotFound
from sagebox.services.experiments.entities import epoch
from sagebox.services.experiments.metric_summaries import fold, forget
from sagebox.services.experiments.metric_writer import MetricWriter
from sagebox.store import (
    Condition,
    MetricPoint,
    MetricPointRepository,
    NotFound,
    PointsAppend,
    ResourceRecord,
    ResourceRepository,
)

OLDEST_SECONDS = 14 * 24 * 3600
NEWEST_SECONDS = 2 * 3600
MAX_KNOWN_TARGETS = 10_000
PERIOD_SECONDS = {"OneMinute": 60, "FiveMinute": 300, "OneHour": 3600}
STATISTICS: dict[str, Callable[[list[float]], float]] = {
    "Min": min,
    "Max": max,
    "Avg": statistics.fmean,
    "Count": lambda values: float(len(values)),
    "StdDev": lambda values: statistics.stdev(values) if len(values) > 1 else 0.0,
    "Last": lambda values: values[-1],
}


class ComponentLookup(Protocol):
    def get(self, name_or_arn: str) -> ResourceRecord: ...

    def find(self, name_or_arn: str) -> ResourceRecord | None: ...

    def not_found(self, name: str) -> ResourceNotFound: ...

    def arn_of(self, name: str) -> str: ...


@dataclass(frozen=True)
class _Target:
    """What appending to a component needs to know of it; neither ever changes."""

    name: str
    source_arn: str | None


class TrialComponentMetrics:
    """Metric points of trial components and the summaries kept in step with them."""

    def __init__(
        self, components: ComponentLookup, repository: ResourceRepository, points: MetricPointRepository
    ) -> None:
        self._components = components
        self._repo = repository
        self._points = points
        self._writer = MetricWriter(lambda appends: points.append_each(repository, appends))
        # The components appended to lately, by ARN, so that a BatchPutMetrics request
        # needs no read before its write; a deleted component is forgotten.
        self._targets: dict[str, _Target] = {}

    # -- BatchPutMetrics -------------------------------------------------------------------

    def batch_put(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["TrialComponentName"]
        now = time.time()
        accepted: list[MetricPoint] = []
        errors: list[dict[str, Any]] = []
        for index, datum in enumerate(request["MetricData"]):
            moment = epoch(datum["Timestamp"])
            if not now - OLDEST_SECONDS <= moment <= now + NEWEST_SECONDS:
                errors.append({"Code": "VALIDATION_ERROR", "MetricIndex": index})
                continue
            accepted.append(MetricPoint(datum["MetricName"], moment, float(datum["Value"]), datum.get("Step")))
        arn = self._components.arn_of(name)
        target = self._targets.get(arn) or self._target(name)
        if accepted:
            try:
                self._append(target, accepted, ())
            except ResourceNotFound:
                self.forget(arn)  # deleted, or deleted and made again: look again, once
                self._append(self._target(name), accepted, ())
        return {"Errors": errors} if errors else {}

    def record(
        self, record: ResourceRecord, points: Sequence[MetricPoint], *, replacing: Sequence[str] = ()
    ) -> ResourceRecord:
        """Appends `points` to the component's series and folds them into its summaries;
        the metrics in `replacing` start over (their earlier points are dropped)."""
        target = _Target(record.name, (record.document.get("Source") or {}).get("SourceArn"))
        return self._append(target, points, tuple(replacing))

    def forget(self, arn: str) -> None:
        """Drops what is known of a component (it was deleted)."""
        self._targets.pop(arn, None)

    def _target(self, name: str) -> _Target:
        record = self._components.get(name)
        if len(self._targets) >= MAX_KNOWN_TARGETS:
            self._targets.clear()
        target = _Target(record.name, (record.document.get("Source") or {}).get("SourceArn"))
        self._targets[record.arn] = target
        return target

    def _append(self, target: _Target, points: Sequence[MetricPoint], replacing: tuple[str, ...]) -> ResourceRecord:
        def summarise(stored: ResourceRecord) -> None:
            if replacing:
                forget(stored.document, replacing)
            fold(stored.document, points, target.source_arn)

        try:
            return self._writer.append(PointsAppend(target.name, points, summarise, replacing))
        except NotFound as exc:
            raise self._components.not_found(target.name) from exc

    # -- BatchGetMetrics ------------------------------------------------------------------

    def batch_get(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"MetricQueryResults": [self._answer(query) for query in request["MetricQueries"]]}

    def _answer(self, query: dict[str, Any]) -> dict[str, Any]:
        """One query's series: its points grouped by step (XAxisType IterationNumber) or by
        Period window (XAxisType Timestamp), each group reduced by MetricStat."""
        arn, axis, period = query["ResourceArn"], query["XAxisType"], query["Period"]
        record = self._component_of(arn)
        if record is None:
            return _refusal(f"No trial component or job with ARN '{arn}' exists.")
        if axis == "Timestamp" and period == "IterationNumber":
            return _refusal("Period IterationNumber groups by step; it needs XAxisType IterationNumber.")
        points = self._points.series(
            record.arn, query["MetricName"], start=_seconds(query.get("Start")), end=_seconds(query.get("End"))
        )
        groups: dict[int, list[float]] = {}
        # By time, those logged at the same time in the order they were logged (for Last).
        for point in sorted(points, key=lambda p: p.timestamp):
            if axis == "IterationNumber":
                if point.step is None:
                    continue
                key = point.step
            else:
                width = PERIOD_SECONDS[period]
                key = int(math.floor(point.timestamp / width) * width)
            groups.setdefault(key, []).append(point.value)
        statistic = STATISTICS[query["MetricStat"]]
        keys = sorted(groups)
        return {"Status": "Complete", "XAxisValues": keys, "MetricValues": [statistic(groups[k]) for k in keys]}

    def _component_of(self, arn: str) -> ResourceRecord | None:
        """The trial component with this ARN, or the one made for the job with this ARN."""
        if ":experiment-trial-component/" in arn:
            return self._components.find(arn)
        found, _ = self._repo.query(Condition(("Source", "SourceArn"), "Equals", arn), max_results=1)
        return found[0] if found else None


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


def _refusal(message: str) -> dict[str, Any]:
    return {"Status": "ValidationError", "Message": message, "XAxisValues": [], "MetricValues": []}
