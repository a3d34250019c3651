"""CloudWatch metric data, kept in the generic resources table with retention.

A metric (a namespace, a metric name and a set of dimensions) is a *series*; each
published value or statistic set is a *datum* of its series. Both are rows of the
``resources`` table, so metrics need no table of their own:

- a series is a row of kind ``MetricSeries`` named by its key (a hash of the namespace,
  name and sorted dimensions), with ``parent_arn`` holding the namespace (ListMetrics by
  namespace is a lookup on ``ix_resources_parent_arn``) and ``last_modified_time`` the
  last time a datum arrived (ListMetrics' RecentlyActive, and retention);
- a datum is a row of kind ``MetricDatum`` whose ``creation_time`` is the datum's
  timestamp and whose ``parent_arn`` is its series key, so a GetMetricStatistics window is
  one indexed lookup; the document holds the statistic set (and the values, when the
  datum was published as values, for percentiles).

Publishing is one transaction per batch however many data it holds. `delete_before`
drops data (and series that received none since) older than the retention cutoff.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from sagebox.store.database import Database
from sagebox.store.tables import resources, to_utc

SERIES_KIND = "MetricSeries"
DATUM_KIND = "MetricDatum"


@dataclass(frozen=True)
class MetricSeries:
    """One CloudWatch metric: namespace, name and dimensions (sorted by name)."""

    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, namespace: str, metric_name: str, dimensions: Sequence[dict[str, str]] | None) -> MetricSeries:
        pairs = sorted((d["Name"], d["Value"]) for d in dimensions or [])
        return cls(namespace, metric_name, tuple(pairs))

    @property
    def key(self) -> str:
        canonical = json.dumps([self.namespace, self.metric_name, list(self.dimensions)], separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]

    def as_metric(self) -> dict[str, Any]:
        """The metric as CloudWatch answers it (ListMetrics' Metric)."""
        return {
            "Namespace": self.namespace,
            "MetricName": self.metric_name,
            "Dimensions": [{"Name": name, "Value": value} for name, value in self.dimensions],
        }


@dataclass(frozen=True)
class MetricDatum:
    """One stored datum: a statistic set at a time, in a unit, and its values if it had them."""

    series: MetricSeries
    timestamp: datetime
    sample_count: float
    total: float
    minimum: float
    maximum: float
    unit: str = "None"
    values: tuple[float, ...] | None = None
    counts: tuple[float, ...] | None = None

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "SampleCount": self.sample_count, "Sum": self.total,
            "Minimum": self.minimum, "Maximum": self.maximum, "Unit": self.unit,
        }
        if self.values is not None:
            document["Values"] = list(self.values)
            document["Counts"] = list(self.counts or [1.0] * len(self.values))
        return document


class MetricRepository:
    """Publish, read and expire metric data."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def put(self, data: Sequence[MetricDatum], received: datetime) -> None:
        """Stores `data` (and any series seen for the first time) in one transaction."""
        if not data:
            return
        received = to_utc(received)
        series = {datum.series.key: datum.series for datum in data}
        with self._db.write() as connection:
            known = {
                row.name
                for row in connection.execute(
                    sa.select(resources.c.name).where(
                        resources.c.kind == SERIES_KIND, resources.c.name.in_(list(series))
                    )
                )
            }
            new = [_series_row(item, received) for key, item in series.items() if key not in known]
            if new:
                connection.execute(sa.insert(resources), new)
            if known:
                connection.execute(
                    sa.update(resources)
                    .where(resources.c.kind == SERIES_KIND, resources.c.name.in_(list(known)))
                    .values(last_modified_time=received)
                )
            connection.execute(sa.insert(resources), [_datum_row(datum, received) for datum in data])

    def data(self, series: MetricSeries, start: datetime, end: datetime) -> list[MetricDatum]:
        """The data of `series` with start <= timestamp < end, oldest first."""
        statement = (
            sa.select(resources.c.creation_time, resources.c.document)
            .where(
                resources.c.parent_arn == series.key,
                resources.c.kind == DATUM_KIND,
                resources.c.creation_time >= to_utc(start),
                resources.c.creation_time < to_utc(end),
            )
            .order_by(resources.c.creation_time.asc())
        )
        with self._db.read() as connection:
            rows = connection.execute(statement).all()
        return [_datum(series, row.creation_time, row.document) for row in rows]

    def series(self, namespace: str | None = None, active_since: datetime | None = None) -> list[MetricSeries]:
        """Every series (of `namespace`, and with a datum received since `active_since`), by key."""
        conditions = [resources.c.kind == SERIES_KIND]
        if namespace is not None:
            conditions.append(resources.c.parent_arn == namespace)
        if active_since is not None:
            conditions.append(resources.c.last_modified_time >= to_utc(active_since))
        statement = sa.select(resources.c.document).where(*conditions).order_by(resources.c.name.asc())
        with self._db.read() as connection:
            documents = [row.document for row in connection.execute(statement)]
        return [
            MetricSeries(d["Namespace"], d["MetricName"], tuple((n, v) for n, v in d["Dimensions"]))
            for d in documents
        ]

    def delete_before(self, cutoff: datetime) -> int:
        """Drops data timestamped before `cutoff` and series that received nothing since."""
        cutoff = to_utc(cutoff)
        with self._db.write() as connection:
            dropped = connection.execute(
                sa.delete(resources).where(resources.c.kind == DATUM_KIND, resources.c.creation_time < cutoff)
            ).rowcount
            connection.execute(
                sa.delete(resources).where(
                    resources.c.kind == SERIES_KIND, resources.c.last_modified_time < cutoff
                )
            )
        return int(dropped or 0)


def _series_row(series: MetricSeries, received: datetime) -> dict[str, Any]:
    return {
        "kind": SERIES_KIND, "name": series.key, "arn": f"cloudwatch-metric:{series.key}", "status": "",
        "creation_time": received, "last_modified_time": received, "parent_arn": series.namespace,
        "document": {"Namespace": series.namespace, "MetricName": series.metric_name,
                     "Dimensions": [list(pair) for pair in series.dimensions]},
    }


def _datum_row(datum: MetricDatum, received: datetime) -> dict[str, Any]:
    name = uuid.uuid4().hex
    return {
        "kind": DATUM_KIND, "name": name, "arn": f"cloudwatch-datum:{name}", "status": "",
        "creation_time": to_utc(datum.timestamp), "last_modified_time": received,
        "parent_arn": datum.series.key, "document": datum.document(),
    }


def _datum(series: MetricSeries, moment: datetime, document: dict[str, Any]) -> MetricDatum:
    values = document.get("Values")
    return MetricDatum(
        series, moment, float(document["SampleCount"]), float(document["Sum"]),
        float(document["Minimum"]), float(document["Maximum"]), str(document.get("Unit", "None")),
        tuple(values) if values is not None else None,
        tuple(document.get("Counts") or []) if values is not None else None,
    )
