"""A training job's metric curves, read back from its log with its MetricDefinitions.

SageMaker publishes a training job's metrics to CloudWatch by matching its log lines
with the job's MetricDefinitions regexes; the job itself keeps only the final values
(FinalMetricDataList). sagebox keeps the log, so the curves are the same extraction
run again over the log events: each metric's values in the order they were logged,
with the time each line was logged, ending in the value FinalMetricDataList holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sagebox.runtime.metrics import MetricExtractor, MetricObservation


def metric_history(
    definitions: Iterable[Mapping[str, str]], events: Iterable[Mapping[str, Any]]
) -> dict[str, list[tuple[float, float]]]:
    """Metric name -> [(epoch seconds, value)] from CloudWatch-shaped log events
    ({"timestamp": epoch milliseconds, "message": line}), in the order given."""
    curves: dict[str, list[tuple[float, float]]] = {}

    def observe(observation: MetricObservation) -> None:
        curves.setdefault(observation.name, []).append((observation.timestamp, observation.value))

    extractor = MetricExtractor([dict(d) for d in definitions], observe)
    for event in events:
        extractor.feed(str(event["message"]), int(event["timestamp"]) / 1000.0)
    return curves
