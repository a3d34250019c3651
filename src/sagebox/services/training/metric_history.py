"""A training job's metric curves, read back from its log with its MetricDefinitions.

SageMaker publishes a training job's metrics to CloudWatch by matching its log lines
with the job's MetricDefinitions regexes; the job itself keeps only the final values
(FinalMetricDataList). sagebox keeps the log, so the curves are the same extraction
run again over the log events: each metric's values in the order they were logged,
with the time each line was logged, ending in the value FinalMetricDataList holds.
A page that shows a running job's curves asks again every second, so each job's
extraction is kept and only the lines logged since are read (`MetricHistories`).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sagebox.runtime.metrics import MetricExtractor, MetricObservation


@dataclass(frozen=True)
class History:
    curves: dict[str, list[tuple[float, float]]]
    tail: list[str]  # the last messages logged
    events: int  # how many events were read in all


class MetricHistories:
    """`metric_history` for jobs asked again and again (a page polled while its job runs, a
    finished job's page opened many times), reading each event once: `since(job, key)`
    says from which timestamp to read the log (None: from the start), and `advance` takes
    the events read from there, skips those already read, and gives the curves so far
    and the log's tail. `key` names what the curves depend on (the job's creation time
    and its MetricDefinitions). Holds the `capacity` most recently asked jobs."""

    def __init__(self, capacity: int = 32, tail: int = 200) -> None:
        self._capacity = capacity
        self._tail = tail
        self._jobs: OrderedDict[str, _Extraction] = OrderedDict()
        self._lock = threading.Lock()

    def since(self, job: str, key: str) -> int | None:
        with self._lock:
            extraction = self._jobs.get(job)
            return (
                extraction.last_timestamp
                if extraction is not None and extraction.key == key
                else None
            )

    def advance(
        self,
        job: str,
        key: str,
        definitions: Iterable[Mapping[str, str]],
        events: Sequence[Mapping[str, Any]],
    ) -> History:
        with self._lock:
            extraction = self._jobs.pop(job, None)
            if extraction is None or extraction.key != key:
                extraction = _Extraction(key, definitions, self._tail)
            self._jobs[job] = extraction
            while len(self._jobs) > self._capacity:
                self._jobs.popitem(last=False)
        return extraction.advance(events)


def history_key(created: Any, definitions: Iterable[Mapping[str, str]]) -> str:
    return json.dumps([created, sorted((d["Name"], d["Regex"]) for d in definitions)])


class _Extraction:
    def __init__(self, key: str, definitions: Iterable[Mapping[str, str]], tail: int) -> None:
        self.key = key
        self.last_timestamp: int | None = None
        self._at_last = 0  # events read with the last timestamp (more may share it)
        self._count = 0
        self._tail: deque[str] = deque(maxlen=tail)
        self._curves: dict[str, list[tuple[float, float]]] = {}
        self._lock = threading.Lock()

        def observe(observation: MetricObservation) -> None:
            self._curves.setdefault(observation.name, []).append(
                (observation.timestamp, observation.value)
            )

        self._extractor = MetricExtractor([dict(d) for d in definitions], observe)

    def advance(self, events: Sequence[Mapping[str, Any]]) -> History:
        """Events in log order from any timestamp up to the last one read; the earlier ones
        and the already-read ones of the last timestamp are skipped."""
        with self._lock:
            skip = self._at_last
            for event in events:
                timestamp = int(event["timestamp"])
                if self.last_timestamp is not None and timestamp < self.last_timestamp:
                    continue
                if timestamp == self.last_timestamp and skip > 0:
                    skip -= 1
                    continue
                message = str(event["message"])
                self._extractor.feed(message, timestamp / 1000.0)
                self._tail.append(message)
                self._count += 1
                if timestamp == self.last_timestamp:
                    self._at_last += 1
                else:
                    self.last_timestamp, self._at_last = timestamp, 1
            curves = {name: list(points) for name, points in self._curves.items()}
            return History(curves, list(self._tail), self._count)
