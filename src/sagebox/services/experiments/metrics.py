"""The sagemaker-metrics service: BatchPutMetrics and BatchGetMetrics on trial components.

The SDK's `Run.log_metric` sends points in batches of at most 10 to BatchPutMetrics,
naming the run's trial component. Each accepted point joins the component's series (the
metric_points table) and its summary in DescribeTrialComponent's `Metrics`, in one
transaction, which one writer thread shares among the requests that arrive together
(metric_writer.py); a request is answered once its points have committed. A point the service does not take is reported in the answer's `Errors` by
its index, as SageMaker does: a timestamp more than two weeks old or over two hours
ahead is a VALIDATION_ERROR (the bounds SageMaker's SDK checks before sending).

BatchGetMetrics reads a series back, aggregated by step or by time period, for a trial
component's ARN or for the ARN of the job a component was made for.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
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
class _Put:
    """Points for one component, as queued for the writer."""

    name: str
    """The component's name as the request gave it, or its stored name when `stored`."""
    points: tuple[MetricPoint, ...]
    replacing: tuple[str, ...] = ()
    stored: bool = False


class TrialComponentMetrics:
    """Metric points of trial components and the summaries kept in step with them."""

    def __init__(
        self, components: ComponentLookup, repository: ResourceRepository, points: MetricPointRepository
    ) -> None:
        self._components = components
        self._repo = repository
        self._points = points
        self._writer: MetricWriter[_Put, ResourceRecord] = MetricWriter(self._write)
        # The stored names of the components appended to lately, by ARN, so that writing
        # needs no read before its transaction; a deleted component is forgotten.
        self._names: dict[str, str] = {}

    # -- BatchPutMetrics -------------------------------------------------------------------

    def batch_put(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Answers once the request's points have committed (see `_checked`)."""
        answer, put = self._checked(request)
        self._writer.write(put)
        return answer

    async def batch_put_async(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """`batch_put` for the event loop: no thread waits while the points are written."""
        answer, put = self._checked(request)
        await self._writer.write_async(put)
        return answer

    @staticmethod
    def _checked(request: Mapping[str, Any]) -> tuple[dict[str, Any], _Put]:
        """A BatchPutMetrics request's answer and the points it adds: those outside the
        time window are the answer's `Errors`, by index. Writing the points raises
        ResourceNotFound when the component does not exist."""
        now = time.time()
        accepted: list[MetricPoint] = []
        errors: list[dict[str, Any]] = []
        for index, datum in enumerate(request["MetricData"]):
            moment = epoch(datum["Timestamp"])
            if not now - OLDEST_SECONDS <= moment <= now + NEWEST_SECONDS:
                errors.append({"Code": "VALIDATION_ERROR", "MetricIndex": index})
                continue
            accepted.append(MetricPoint(datum["MetricName"], moment, float(datum["Value"]), datum.get("Step")))
        answer = {"Errors": errors} if errors else {}
        return answer, _Put(request["TrialComponentName"], tuple(accepted))

    def record(
        self, record: ResourceRecord, points: Sequence[MetricPoint], *, replacing: Sequence[str] = ()
    ) -> ResourceRecord:
        """Appends `points` to the component's series and folds them into its summaries;
        the metrics in `replacing` start over (their earlier points are dropped)."""
        return self._writer.write(_Put(record.name, tuple(points), tuple(replacing), stored=True))

    def forget(self, arn: str) -> None:
        """Drops what is known of a component (it was deleted)."""
        self._names.pop(arn, None)

    def close(self) -> None:
        """Writes the points still queued; later ones are written by their callers."""
        self._writer.close()

    # -- the writer's side (its own thread) -----------------------------------------------

    def _write(self, puts: Sequence[_Put]) -> list[ResourceRecord | Exception]:
        """Writes `puts` in one transaction; when that fails (a component was deleted
        meanwhile), each component's on its own, so only those that cannot be written fail."""
        outcomes: list[ResourceRecord | Exception | None] = [None] * len(puts)
        written: list[tuple[int, str]] = []
        for index, put in enumerate(puts):
            try:
                written.append((index, self._stored_name(put)))
            except ResourceNotFound as exc:
                outcomes[index] = exc
        try:
            records = self._points.append_each(self._repo, [_append(name, puts[i]) for i, name in written])
        except Exception:  # each component apart: only those that cannot be written fail
            by_component: dict[str, list[int]] = {}
            for index, name in written:
                by_component.setdefault(name, []).append(index)
            for indices in by_component.values():
                for index, outcome in zip(indices, self._write_component([puts[i] for i in indices]), strict=True):
                    outcomes[index] = outcome
        else:
            for (index, _), record in zip(written, records, strict=True):
                outcomes[index] = record
        return [outcome for outcome in outcomes if outcome is not None]

    def _write_component(self, puts: list[_Put]) -> list[ResourceRecord | Exception]:
        """The puts to one component in their own transaction; its name looked up again
        if it is gone (deleted, or deleted and made again)."""
        first = puts[0]
        for attempt in range(2):
            try:
                name = self._stored_name(first)
                return list(self._points.append_each(self._repo, [_append(name, put) for put in puts]))
            except NotFound:
                self.forget(self._components.arn_of(first.name))
                if attempt or first.stored:
                    return [self._components.not_found(first.name)] * len(puts)
            except Exception as exc:
                return [exc] * len(puts)
        raise AssertionError("unreachable")

    def _stored_name(self, put: _Put) -> str:
        if put.stored:
            return put.name
        arn = self._components.arn_of(put.name)
        name = self._names.get(arn)
        if name is None:
            name = self._components.get(put.name).name
            if len(self._names) >= MAX_KNOWN_TARGETS:
                self._names.clear()
            self._names[arn] = name
        return name

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


def _append(name: str, put: _Put) -> PointsAppend:
    """The store's append of `put` to the component stored as `name`, with the change that
    folds its points into the summaries (those of a job's component name the job)."""

    def summarise(stored: ResourceRecord) -> None:
        if put.replacing:
            forget(stored.document, put.replacing)
        fold(stored.document, put.points, (stored.document.get("Source") or {}).get("SourceArn"))

    return PointsAppend(name, put.points, summarise, put.replacing)


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


def _refusal(message: str) -> dict[str, Any]:
    return {"Status": "ValidationError", "Message": message, "XAxisValues": [], "MetricValues": []}
