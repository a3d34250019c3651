"""Endpoint invocation metrics, as SageMaker publishes them to CloudWatch.

Every InvokeEndpoint routed to a variant counts in ``AWS/SageMaker`` with the dimensions
``EndpointName`` and ``VariantName``: ``Invocations``, ``Invocation4XXErrors`` and
``Invocation5XXErrors`` (1 for a request that failed that way, 0 otherwise, so that Sum
counts them and Average is the error rate), ``ModelLatency`` (the model servers' time) and
``OverheadLatency`` (the rest of the request's time in sagebox), in microseconds.

The invocation path is hot, so a request only adds to an in-memory cell for its
endpoint, variant and minute; `flush` (the endpoint supervisor's beat, every
``SAGEBOX_METRICS_FLUSH_SECONDS``, and shutdown) publishes each cell as one statistic set
per metric, never one store write per request.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

log = logging.getLogger(__name__)

NAMESPACE = "AWS/SageMaker"


class MetricPublisher(Protocol):
    def publish(self, namespace: str, metric_data: list[dict[str, Any]]) -> None: ...


@dataclass
class _Latency:
    count: int = 0
    total: float = 0.0
    minimum: float = float("inf")
    maximum: float = 0.0

    def add(self, microseconds: float) -> None:
        self.count += 1
        self.total += microseconds
        if microseconds < self.minimum:
            self.minimum = microseconds
        if microseconds > self.maximum:
            self.maximum = microseconds

    def statistic_values(self) -> dict[str, float]:
        return {"SampleCount": float(self.count), "Sum": self.total, "Minimum": self.minimum, "Maximum": self.maximum}


@dataclass
class _Cell:
    invocations: int = 0
    client_errors: int = 0
    server_errors: int = 0
    model: _Latency = field(default_factory=_Latency)
    overhead: _Latency = field(default_factory=_Latency)


def _counter(errors: int, total: int) -> dict[str, float]:
    """A 0/1-per-request metric's statistic set: Sum counts the ones."""
    return {
        "SampleCount": float(total), "Sum": float(errors),
        "Minimum": 0.0 if errors < total else 1.0, "Maximum": 1.0 if errors else 0.0,
    }


class InvocationMetrics:
    """Aggregates invocations per endpoint, variant and minute until they are flushed."""

    def __init__(self) -> None:
        self._cells: dict[tuple[str, str, int], _Cell] = {}
        self._lock = threading.Lock()

    def record(self, endpoint: str, variant: str, model_seconds: float | None, total_seconds: float, error_class: int | None) -> None:
        """One request: its model time (None when no model answered), its total time in
        sagebox, and 4 or 5 for a request that failed with a 4xx or 5xx error."""
        key = (endpoint, variant, int(time.time()) // 60)
        with self._lock:
            cell = self._cells.get(key)
            if cell is None:
                cell = self._cells[key] = _Cell()
            cell.invocations += 1
            if error_class == 4:
                cell.client_errors += 1
            elif error_class == 5:
                cell.server_errors += 1
            if model_seconds is not None:
                cell.model.add(model_seconds * 1e6)
                cell.overhead.add(max(total_seconds - model_seconds, 0.0) * 1e6)

    def drain(self) -> list[dict[str, Any]]:
        """The aggregated cells as PutMetricData members; the cells start again empty."""
        with self._lock:
            cells, self._cells = self._cells, {}
        data: list[dict[str, Any]] = []
        for (endpoint, variant, minute), cell in cells.items():
            dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
            moment = datetime.fromtimestamp(minute * 60, tz=UTC)

            def metric(name: str, values: dict[str, float], unit: str = "None", *, moment: datetime = moment,
                       dimensions: list[dict[str, str]] = dimensions) -> dict[str, Any]:
                return {"MetricName": name, "Dimensions": dimensions, "Timestamp": moment,
                        "StatisticValues": values, "Unit": unit}

            data.append(metric("Invocations", _counter(cell.invocations, cell.invocations)))
            data.append(metric("Invocation4XXErrors", _counter(cell.client_errors, cell.invocations)))
            data.append(metric("Invocation5XXErrors", _counter(cell.server_errors, cell.invocations)))
            if cell.model.count:
                data.append(metric("ModelLatency", cell.model.statistic_values(), "Microseconds"))
                data.append(metric("OverheadLatency", cell.overhead.statistic_values(), "Microseconds"))
        return data

    def flush(self, publisher: MetricPublisher) -> int:
        """Publishes what was aggregated; returns how many data points went out."""
        data = self.drain()
        if data:
            try:
                publisher.publish(NAMESPACE, data)
            except Exception:  # the metrics of one beat are lost, not the server
                log.exception("could not publish %d endpoint metric data points", len(data))
        return len(data)
