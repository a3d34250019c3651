"""Group commit: concurrent metric appends share one store transaction.

The store takes one writer at a time (SQLite's write lock; a component's row lock on
PostgreSQL), so requests that each open their own write transaction mostly wait for one
another, and SQLite's busy handler waits by sleeping. Instead an append is queued, and
the thread whose turn it is to write takes every append queued so far and writes them
in one transaction. Each caller returns once the transaction holding its points has
committed, so an accepted point is a stored point. When a combined transaction fails
(one component was deleted meanwhile), each of its appends is written alone, so only
the append that cannot be written fails.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sagebox.store import PointsAppend, ResourceRecord

Write = Callable[[Sequence[PointsAppend]], list[ResourceRecord]]


@dataclass
class _Queued:
    append: PointsAppend
    done: bool = False
    record: ResourceRecord | None = None
    error: Exception | None = None


class MetricWriter:
    """Writes appends through `write`, several per transaction when they arrive together."""

    def __init__(self, write: Write) -> None:
        self._write = write
        self._queue: list[_Queued] = []
        self._queue_lock = threading.Lock()
        self._turn = threading.Lock()

    def append(self, append: PointsAppend) -> ResourceRecord:
        """Writes `append`; returns its record as committed, or raises what writing it raised."""
        queued = _Queued(append)
        with self._queue_lock:
            self._queue.append(queued)
        with self._turn:
            if not queued.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._flush(batch)
        if queued.error is not None:
            raise queued.error
        if queued.record is None:
            raise RuntimeError("a queued metric append was neither written nor refused")
        return queued.record

    def _flush(self, batch: list[_Queued]) -> None:
        try:
            records = self._write([queued.append for queued in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                batch[0].done = True
                return
            for queued in batch:
                try:
                    queued.record = self._write([queued.append])[0]
                except Exception as alone:
                    queued.error = alone
                queued.done = True
            return
        for queued, record in zip(batch, records, strict=True):
            queued.record = record
            queued.done = True
